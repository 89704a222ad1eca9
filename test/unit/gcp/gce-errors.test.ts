// Compute API error bodies in every form GCE sends -> the shared codes. Bodies are written after
// the pages cited beside each; the SDK path (gax keeps the raw body on its error) is exercised
// the way google-gax hands it over.
import { describe, expect, it } from '@jest/globals';
import { gceError, gceFailureFromBody, codeOfFailure, operationError } from '../../../providers/gcp/client/gce-errors.ts';

const classic = (code: number, reason: string, message: string, domain = 'global'): unknown => ({ error: { code, message, errors: [{ message, domain, reason }] } });
const rpc = (code: number, status: string, message: string, reason?: string): unknown => ({
  error: { code, message, status, ...(reason ? { details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', metadata: { service: 'compute.googleapis.com' } }] } : {}) },
});

/** As google-gax leaves it: httpStatusCode, the ErrorInfo reason when any, the raw body under its symbol. */
function sdkError(status: number, body: unknown): Error {
  const e = Object.assign(new Error('sdk'), { httpStatusCode: status, code: 7 });
  Object.defineProperty(e, Symbol.for('google-gax.rawHttpResponsePayload'), { value: JSON.stringify(body), enumerable: false });
  return e;
}

describe('GCE error bodies -> codes', () => {
  it.each([
    // https://cloud.google.com/compute/api-quota: over a rate quota "you receive a 403 error with the reason rateLimitExceeded"
    ['403 rateLimitExceeded (classic, no ErrorInfo)', 403, classic(403, 'rateLimitExceeded', "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'", 'usageLimits'), 'CLOUD_THROTTLED'],
    // https://cloud.google.com/storage/docs/json_api/v1/status-codes (the classic Google JSON API envelope): 403 userRateLimitExceeded
    ['403 userRateLimitExceeded', 403, classic(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits'), 'CLOUD_THROTTLED'],
    // https://cloud.google.com/docs/quotas/troubleshoot: "429 TOO MANY REQUESTS"; ErrorInfo reason per googleapis google/api/error_reason.proto RATE_LIMIT_EXCEEDED
    ['429 RESOURCE_EXHAUSTED + ErrorInfo RATE_LIMIT_EXCEEDED', 429, rpc(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', 'RATE_LIMIT_EXCEEDED'), 'CLOUD_THROTTLED'],
    ['429 RESOURCE_EXHAUSTED without details', 429, rpc(429, 'RESOURCE_EXHAUSTED', 'Too many requests'), 'CLOUD_THROTTLED'],
    // the same troubleshoot page: a Compute Engine quota gives 403 QUOTA_EXCEEDED; a rate quota 403 RATE_LIMIT_EXCEEDED
    ['403 RATE_LIMIT_EXCEEDED (ErrorInfo only)', 403, rpc(403, 'PERMISSION_DENIED', 'Quota exceeded', 'RATE_LIMIT_EXCEEDED'), 'CLOUD_THROTTLED'],
    ['403 quotaExceeded (a resource quota, not a rate)', 403, classic(403, 'quotaExceeded', "Quota 'SUBNETWORKS' exceeded. Limit: 100.0 globally.", 'usageLimits'), 'CLOUD_LIMIT_EXCEEDED'],
    // https://cloud.google.com/apis/design/errors (google.rpc.Code table)
    ['403 forbidden', 403, classic(403, 'forbidden', "Required 'compute.instances.get' permission for 'projects/p/zones/z/instances/i'"), 'CLOUD_PERMISSION_DENIED'],
    ['403 PERMISSION_DENIED + IAM_PERMISSION_DENIED', 403, rpc(403, 'PERMISSION_DENIED', 'Permission denied', 'IAM_PERMISSION_DENIED'), 'CLOUD_PERMISSION_DENIED'],
    ['401 UNAUTHENTICATED', 401, rpc(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), 'CLOUD_AUTH'],
    ['503 backendError', 503, classic(503, 'backendError', 'Backend Error'), 'CLOUD_UNAVAILABLE'],
    ['500 internalError', 500, classic(500, 'internalError', 'Internal Error'), 'CLOUD_UNAVAILABLE'],
    ['503 UNAVAILABLE', 503, rpc(503, 'UNAVAILABLE', 'The service is currently unavailable.'), 'CLOUD_UNAVAILABLE'],
    ['504 DEADLINE_EXCEEDED', 504, rpc(504, 'DEADLINE_EXCEEDED', 'Deadline expired'), 'CLOUD_TIMEOUT'],
    ['404 notFound', 404, classic(404, 'notFound', "The resource 'projects/p/zones/z/instances/i' was not found"), 'CLOUD_NOT_FOUND'],
    ['409 alreadyExists', 409, classic(409, 'alreadyExists', "The resource 'projects/p/global/routes/r' already exists"), 'CLOUD_CONFLICT'],
    ['412 conditionNotMet (stale fingerprint)', 412, classic(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.'), 'CLOUD_CONFLICT'],
    ['400 invalid', 400, classic(400, 'invalid', "Invalid value for field 'resource.aliasIpRanges[0].ipCidrRange': '/33'."), 'CLOUD_BAD_REQUEST'],
    ['400 resourceNotReady', 400, classic(400, 'resourceNotReady', "The resource 'projects/p/zones/z/instances/i' is not ready"), 'CLOUD_UNAVAILABLE'],
  ])('%s', (_name, status, body, code) => {
    expect(codeOfFailure(gceFailureFromBody(status, body))).toBe(code);
    // the same body as the SDK hands it over
    const err = gceError(sdkError(status, body), 'instances.get');
    expect(err.code).toBe(code);
    expect(err.details.httpStatus).toBe(status);
  });

  it('a 403 rateLimitExceeded is retryable and names its reason; a bare 403 stays permission denied', () => {
    const throttled = gceError(sdkError(403, classic(403, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits')), 'instances.get');
    expect(throttled.retryable).toBe(true);
    expect(throttled.details.reason).toBe('rateLimitExceeded');
    expect(gceError(sdkError(403, { error: { code: 403, message: 'denied' } }), 'instances.get').code).toBe('CLOUD_PERMISSION_DENIED');
  });

  it('an SDK error without an HTTP answer is a timeout (gax code 4) or unavailable', () => {
    expect(gceError(Object.assign(new Error('x'), { code: 4 }), 'instances.get').code).toBe('CLOUD_TIMEOUT');
    expect(gceError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'instances.get').code).toBe('CLOUD_UNAVAILABLE');
  });

  it.each([
    ['IP_SPACE_EXHAUSTED', 'SUBNET_FULL'],
    ['RATE_LIMIT_EXCEEDED', 'CLOUD_THROTTLED'],
    ['QUOTA_EXCEEDED', 'CLOUD_LIMIT_EXCEEDED'],
    ['RESOURCE_NOT_READY', 'CLOUD_UNAVAILABLE'],
    ['CONDITION_NOT_MET', 'CLOUD_CONFLICT'],
    ['IP_IN_USE_BY_ANOTHER_RESOURCE', 'ADDRESS_CONFLICT'],
  ])('an operation that ended DONE with %s -> %s', (opCode, code) => {
    expect(operationError({ name: 'op-1' }, { errors: [{ code: opCode, message: 'm' }], httpErrorStatusCode: 400 }).code).toBe(code);
  });
});
