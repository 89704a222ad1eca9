import { describe, expect, it } from '@jest/globals';
import { mapAwsError, scrub } from '../../../providers/aws/client/aws-errors.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { awsError } from './helpers.ts';

describe('AWS error mapping', () => {
  it.each([
    ['RequestLimitExceeded', 503, 'CLOUD_THROTTLED'],
    ['InsufficientFreeAddressesInSubnet', 400, 'SUBNET_FULL'],
    ['InsufficientCidrBlocks', 400, 'SUBNET_FULL'],
    ['PrivateIpAddressLimitExceeded', 400, 'CLOUD_LIMIT_EXCEEDED'],
    ['AttachmentLimitExceeded', 400, 'CLOUD_LIMIT_EXCEEDED'],
    ['NetworkInterfaceLimitExceeded', 400, 'CLOUD_LIMIT_EXCEEDED'],
    ['UnauthorizedOperation', 403, 'CLOUD_PERMISSION_DENIED'],
    ['AuthFailure', 401, 'CLOUD_AUTH'],
    ['CredentialsProviderError', 0, 'CLOUD_AUTH'],
    ['InvalidInstanceType', 400, 'UNKNOWN_INSTANCE_TYPE'],
    ['InvalidNetworkInterfaceID.NotFound', 400, 'CLOUD_NOT_FOUND'],
    ['InvalidSubnetID.NotFound', 400, 'CLOUD_NOT_FOUND'],
    ['InvalidNetworkInterfaceID.Malformed', 400, 'CLOUD_NOT_FOUND'],
    ['InternalError', 500, 'CLOUD_UNAVAILABLE'],
    ['SomethingNew', 502, 'CLOUD_UNAVAILABLE'],
    ['TimeoutError', 0, 'CLOUD_TIMEOUT'],
    ['InvalidNetworkInterface.InUse', 400, 'CLOUD_CONFLICT'],
    ['InvalidParameterValue', 400, 'CLOUD_BAD_REQUEST'],
  ])('%s (HTTP %d) -> %s', (awsCode, status, code) => {
    const err = mapAwsError(awsError(awsCode, status || 400, 'r-42'), 'AssignPrivateIpAddresses');
    expect(err).toBeInstanceOf(VpcnetError);
    expect(err.code).toBe(code);
    expect(err.details.awsCode).toBe(awsCode);
    expect(err.details.requestId).toBe('r-42');
    expect(err.details.action).toBe('AssignPrivateIpAddresses');
    expect(err.message).toContain(awsCode);
  });

  it('maps connection failures to CLOUD_UNAVAILABLE (retryable) and socket timeouts to CLOUD_TIMEOUT', () => {
    const refused = mapAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'DescribeSubnets');
    expect(refused.code).toBe('CLOUD_UNAVAILABLE');
    expect(refused.retryable).toBe(true);
    const timeout = mapAwsError(Object.assign(new Error('socket timed out'), { code: 'ETIMEDOUT' }), 'DescribeSubnets');
    expect(timeout.code).toBe('CLOUD_TIMEOUT');
  });

  it('marks the prefix-fragmentation case so the pool can fall back to ip blocks', () => {
    expect(mapAwsError(awsError('InsufficientCidrBlocks'), 'AssignPrivateIpAddresses').details.fragmented).toBe(true);
    expect(mapAwsError(awsError('InsufficientFreeAddressesInSubnet'), 'AssignPrivateIpAddresses').details.fragmented).toBe(false);
  });

  it('keeps credentials out of messages', () => {
    const text = scrub('bad AKIAIOSFODNN7EXAMPLE Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1 Signature=abcdef0123');
    expect(text).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(text).not.toContain('abcdef0123');
  });
});
