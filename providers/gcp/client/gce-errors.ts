// Compute API failures -> the shared error codes. Two sources: the HTTP error of a call (a
// GoogleError from the SDK: httpStatusCode, and the ErrorInfo reason GCE adds to quota errors)
// and the error inside a DONE operation (its errors[].code strings). Never the message text.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

export interface OperationErrorView {
  errors: { code: string; message: string }[];
  httpErrorStatusCode?: number;
}

const OPERATION_CODES: Record<string, ErrorCode> = {
  IP_SPACE_EXHAUSTED: 'SUBNET_FULL',
  IP_SPACE_EXHAUSTED_WITH_DETAILS: 'SUBNET_FULL',
  QUOTA_EXCEEDED: 'CLOUD_LIMIT_EXCEEDED',
  RATE_LIMIT_EXCEEDED: 'CLOUD_THROTTLED',
  RESOURCE_ALREADY_EXISTS: 'CLOUD_CONFLICT',
  RESOURCE_NOT_FOUND: 'CLOUD_NOT_FOUND',
  RESOURCE_NOT_READY: 'CLOUD_UNAVAILABLE',
  RESOURCE_OPERATION_RATE_EXCEEDED: 'CLOUD_THROTTLED',
  CONDITION_NOT_MET: 'CLOUD_CONFLICT',
  IP_IN_USE_BY_ANOTHER_RESOURCE: 'ADDRESS_CONFLICT',
  INVALID_FIELD_VALUE: 'CLOUD_BAD_REQUEST',
  PERMISSIONS_ERROR: 'CLOUD_PERMISSION_DENIED',
  INTERNAL_ERROR: 'CLOUD_UNAVAILABLE',
};

function codeOfStatus(status: number | undefined, reason: string | undefined): ErrorCode {
  if (reason === 'RATE_LIMIT_EXCEEDED' || reason === 'rateLimitExceeded') return 'CLOUD_THROTTLED';
  switch (status) {
    case 400:
      return 'CLOUD_BAD_REQUEST';
    case 401:
      return 'CLOUD_AUTH';
    case 403:
      return 'CLOUD_PERMISSION_DENIED';
    case 404:
      return 'CLOUD_NOT_FOUND';
    case 409:
    case 412:
      return 'CLOUD_CONFLICT';
    case 429:
      return 'CLOUD_THROTTLED';
    default:
      return 'CLOUD_UNAVAILABLE';
  }
}

/** The error inside a DONE operation, as a VpcnetError naming the operation. */
export function operationError(op: { name?: string | null; operationType?: string | null; targetLink?: string | null }, err: OperationErrorView): VpcnetError {
  const first = err.errors[0];
  const mapped = first ? OPERATION_CODES[first.code] : undefined;
  const code = mapped ?? codeOfStatus(err.httpErrorStatusCode, undefined);
  const text = err.errors.map((e) => `${e.code}: ${e.message}`).join('; ') || 'unknown error';
  return new VpcnetError(code, `GCE operation ${op.operationType ?? ''} on ${op.targetLink ?? '?'} ended DONE with an error: ${text}`, {
    details: { operation: op.name, errors: err.errors, httpErrorStatusCode: err.httpErrorStatusCode },
  });
}

interface GoogleErrorLike {
  code?: number;
  httpStatusCode?: number;
  reason?: string;
  message?: string;
}

/** Any failure of an SDK call, as a VpcnetError (VpcnetErrors pass through). */
export function gceError(err: unknown, call: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const e = (err ?? {}) as GoogleErrorLike & { name?: string; errno?: unknown };
  const status = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined;
  if (status === undefined) {
    // no HTTP answer: reset, refused, timeout (gax code 4 DEADLINE_EXCEEDED)
    const code: ErrorCode = e.code === 4 || e.name === 'TimeoutError' || e.name === 'AbortError' ? 'CLOUD_TIMEOUT' : 'CLOUD_UNAVAILABLE';
    return new VpcnetError(code, `GCE ${call} failed without an answer`, { cause: err, details: { call } });
  }
  const code = codeOfStatus(status, e.reason);
  return new VpcnetError(code, `GCE ${call} failed (HTTP ${status}${e.reason ? ` ${e.reason}` : ''}): ${e.message ?? ''}`.trim(), {
    cause: err,
    details: { call, httpStatus: status, ...(e.reason ? { reason: e.reason } : {}) },
  });
}

export function isRetryable(err: VpcnetError): boolean {
  return err.code === 'CLOUD_THROTTLED' || err.code === 'CLOUD_UNAVAILABLE' || err.code === 'CLOUD_TIMEOUT';
}
