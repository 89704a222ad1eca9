// ARM and Microsoft.Network error answers -> the shared codes, by code and status, never by
// message. Each body is written after the page or capture cited beside it; the objects have the
// shape @azure/core-rest-pipeline's RestError gives them (statusCode, code, details = the body).
import { describe, expect, it } from '@jest/globals';
import { isRetryableArm, toArmError } from '../../../providers/azure/client/azure-errors.ts';

function restError(statusCode: number | undefined, code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'RestError', code, ...(statusCode !== undefined ? { statusCode } : {}), details: { error: { code, message } } });
}

describe('ARM error answers -> codes', () => {
  it.each([
    // https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling: "HTTP status code 429 Too many requests"
    [429, 'TooManyRequests', "The request is being throttled as the limit has been reached for operation 'GetNetworkInterface'.", 'CLOUD_THROTTLED', true],
    [429, 'SubscriptionRequestsThrottled', 'Number of requests for subscription exceeded the limit.', 'CLOUD_THROTTLED', true],
    // hashicorp/terraform#7986 (a real Microsoft.Network answer): Status=429 Code="RetryableError" Message="A retryable error occured."
    [429, 'RetryableError', 'A retryable error occured.', 'CLOUD_THROTTLED', true],
    [409, 'RetryableError', 'A retryable error occured.', 'CLOUD_UNAVAILABLE', true],
    // Microsoft.Network: a write on a NIC while another is running (azure-sdk and terraform issue captures)
    [409, 'AnotherOperationInProgress', 'Another operation on this or dependent resource is in progress.', 'CLOUD_CONFLICT', true],
    [429, 'AnotherOperationInProgress', 'Another operation on this or dependent resource is in progress.', 'CLOUD_THROTTLED', true],
    [400, 'ReferencedResourceNotProvisioned', 'Cannot proceed with operation because resource ... is not in Succeeded state.', 'CLOUD_CONFLICT', true],
    [500, 'InternalServerError', 'An error has occurred.', 'CLOUD_UNAVAILABLE', true],
    // Azure/azure-powershell#14460: an LRO that ends Failed with InternalExecutionError (no HTTP error status)
    [undefined, 'InternalExecutionError', 'An internal execution error occurred. Please retry later.', 'CLOUD_UNAVAILABLE', true],
    [503, 'ServerBusy', 'The server is busy.', 'CLOUD_UNAVAILABLE', true],
    [504, 'GatewayTimeout', 'The gateway did not receive a response within the specified time period.', 'CLOUD_TIMEOUT', true],
    // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors (codes)
    [400, 'SubnetIsFull', 'Subnet default with address prefix 10.0.0.0/24 does not have enough capacity for 1 IP addresses.', 'SUBNET_FULL', false],
    [undefined, 'SubnetIsFull', 'Subnet default does not have enough capacity.', 'SUBNET_FULL', false],
    [400, 'PrivateIPAddressInUse', 'IP configuration ... is using the private IP address 10.0.0.4 which is already allocated to resource ...', 'ADDRESS_CONFLICT', false],
    [400, 'QuotaExceeded', 'Operation could not be completed as it results in exceeding approved quota.', 'CLOUD_LIMIT_EXCEEDED', false],
    [400, 'NetworkInterfaceIpConfigurationLimitReached', 'Number of IP configurations on the NIC exceeds the limit.', 'CLOUD_LIMIT_EXCEEDED', false],
    [403, 'AuthorizationFailed', "The client '...' does not have authorization to perform action 'Microsoft.Network/networkInterfaces/write'.", 'CLOUD_PERMISSION_DENIED', false],
    [403, 'LinkedAuthorizationFailed', "The client has permission to perform action 'Microsoft.Network/networkInterfaces/write', however it does not have permission to perform action 'Microsoft.Network/virtualNetworks/subnets/join/action'.", 'CLOUD_PERMISSION_DENIED', false],
    [401, 'InvalidAuthenticationToken', 'The access token is invalid.', 'CLOUD_AUTH', false],
    [401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.', 'CLOUD_AUTH', false],
    [404, 'ResourceNotFound', "The Resource 'Microsoft.Network/networkInterfaces/nic-1' under resource group 'rg' was not found.", 'CLOUD_NOT_FOUND', false],
    [412, 'PreconditionFailed', 'Precondition failed.', 'CLOUD_CONFLICT', false],
    [400, 'InvalidRequestFormat', 'Cannot parse the request.', 'CLOUD_BAD_REQUEST', false],
  ])('HTTP %s %s', (status, armCode, message, code, retryable) => {
    const err = toArmError(restError(status, armCode, message), 'networkInterfaces.createOrUpdate');
    expect(err.code).toBe(code);
    expect(err.details.armCode).toBe(armCode);
    expect(isRetryableArm(err)).toBe(retryable);
  });

  it('a transport failure without an answer is unavailable, a timed-out one a timeout', () => {
    expect(toArmError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'op').code).toBe('CLOUD_UNAVAILABLE');
    expect(toArmError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'op').code).toBe('CLOUD_TIMEOUT');
  });
});
