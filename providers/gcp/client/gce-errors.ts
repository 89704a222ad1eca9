// Compute API failures -> the shared error codes, from every form GCE sends, never the message:
// - the classic envelope: {error: {code, message, errors: [{domain, reason, message}]}}; a spent
//   rate quota is 403 with reason rateLimitExceeded (https://cloud.google.com/compute/api-quota),
//   so a 403 is permission denied only when no reason says otherwise;
// - the google.rpc.Status form: {error: {code, status: 'RESOURCE_EXHAUSTED', details: [ErrorInfo]}}
//   whose ErrorInfo reason is UPPER_SNAKE (RATE_LIMIT_EXCEEDED);
// - the error inside a DONE operation: errors[].code strings (IP_SPACE_EXHAUSTED ...).
// The SDK keeps only the ErrorInfo reason, so the raw body it attaches is read for the rest.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

export interface OperationErrorView {
  errors: { code: string; message: string }[];
  httpErrorStatusCode?: number;
}

/** What a failed Compute call said, whatever its form. */
export interface GceFailure {
  httpStatus?: number;
  /** google.rpc.Code name (error.status in the body, or the gRPC code of the SDK error). */
  status?: string;
  /** ErrorInfo reason first, then each errors[].reason, as sent. */
  reasons: string[];
  message: string;
}

/** Reasons in both spellings (camelCase classic, UPPER_SNAKE ErrorInfo and operation codes), compared normalised. */
const REASONS: Record<string, ErrorCode> = {
  ratelimitexceeded: 'CLOUD_THROTTLED',
  userratelimitexceeded: 'CLOUD_THROTTLED',
  resourceoperationrateexceeded: 'CLOUD_THROTTLED',
  quotaexceeded: 'CLOUD_LIMIT_EXCEEDED',
  dailylimitexceeded: 'CLOUD_LIMIT_EXCEEDED',
  limitexceeded: 'CLOUD_LIMIT_EXCEEDED',
  backenderror: 'CLOUD_UNAVAILABLE',
  internalerror: 'CLOUD_UNAVAILABLE',
  serviceunavailable: 'CLOUD_UNAVAILABLE',
  resourcenotready: 'CLOUD_UNAVAILABLE',
  notfound: 'CLOUD_NOT_FOUND',
  resourcenotfound: 'CLOUD_NOT_FOUND',
  alreadyexists: 'CLOUD_CONFLICT',
  resourcealreadyexists: 'CLOUD_CONFLICT',
  conflict: 'CLOUD_CONFLICT',
  conditionnotmet: 'CLOUD_CONFLICT',
  resourceinusebyanotherresource: 'CLOUD_CONFLICT',
  ipinusebyanotherresource: 'ADDRESS_CONFLICT',
  ipspaceexhausted: 'SUBNET_FULL',
  ipspaceexhaustedwithdetails: 'SUBNET_FULL',
  forbidden: 'CLOUD_PERMISSION_DENIED',
  insufficientpermissions: 'CLOUD_PERMISSION_DENIED',
  permissionserror: 'CLOUD_PERMISSION_DENIED',
  iampermissiondenied: 'CLOUD_PERMISSION_DENIED',
  accessnotconfigured: 'CLOUD_PERMISSION_DENIED',
  servicedisabled: 'CLOUD_PERMISSION_DENIED',
  autherror: 'CLOUD_AUTH',
  unauthorized: 'CLOUD_AUTH',
  invalid: 'CLOUD_BAD_REQUEST',
  invalidparameter: 'CLOUD_BAD_REQUEST',
  invalidfieldvalue: 'CLOUD_BAD_REQUEST',
  badrequest: 'CLOUD_BAD_REQUEST',
  required: 'CLOUD_BAD_REQUEST',
};

/** google.rpc.Code names (https://cloud.google.com/apis/design/errors). */
const STATUSES: Record<string, ErrorCode> = {
  RESOURCE_EXHAUSTED: 'CLOUD_THROTTLED',
  UNAVAILABLE: 'CLOUD_UNAVAILABLE',
  INTERNAL: 'CLOUD_UNAVAILABLE',
  UNKNOWN: 'CLOUD_UNAVAILABLE',
  DEADLINE_EXCEEDED: 'CLOUD_TIMEOUT',
  PERMISSION_DENIED: 'CLOUD_PERMISSION_DENIED',
  UNAUTHENTICATED: 'CLOUD_AUTH',
  NOT_FOUND: 'CLOUD_NOT_FOUND',
  ALREADY_EXISTS: 'CLOUD_CONFLICT',
  ABORTED: 'CLOUD_CONFLICT',
  FAILED_PRECONDITION: 'CLOUD_CONFLICT',
  INVALID_ARGUMENT: 'CLOUD_BAD_REQUEST',
  OUT_OF_RANGE: 'CLOUD_BAD_REQUEST',
  UNIMPLEMENTED: 'CLOUD_BAD_REQUEST',
};

/** gRPC numeric codes -> names, for SDK errors that carry no body. */
const GRPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

const norm = (reason: string): string => reason.replace(/_/g, '').toLowerCase();

export function codeOfReason(reason: string): ErrorCode | undefined {
  return REASONS[norm(reason)];
}

/** The code of a failure: its reasons, then its status name, then its HTTP status. */
export function codeOfFailure(f: GceFailure): ErrorCode {
  for (const r of f.reasons) {
    const c = codeOfReason(r);
    // the reason is the most specific: RESOURCE_EXHAUSTED with reason quotaExceeded is a resource quota, not a rate
    if (c) return c;
  }
  const byStatus = f.status ? STATUSES[f.status] : undefined;
  if (byStatus) return byStatus;
  switch (f.httpStatus) {
    case 400:
      return 'CLOUD_BAD_REQUEST';
    case 401:
      return 'CLOUD_AUTH';
    case 403:
      return 'CLOUD_PERMISSION_DENIED';
    case 404:
    case 410:
      return 'CLOUD_NOT_FOUND';
    case 408:
      return 'CLOUD_TIMEOUT';
    case 409:
    case 412:
      return 'CLOUD_CONFLICT';
    case 429:
      return 'CLOUD_THROTTLED';
    case 501:
    case 505:
      return 'CLOUD_BAD_REQUEST';
    default:
      return 'CLOUD_UNAVAILABLE';
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; status?: unknown; errors?: unknown; details?: unknown };
}

/** The facts of an error body (either envelope form) answered with `httpStatus`. */
export function gceFailureFromBody(httpStatus: number | undefined, body: unknown): GceFailure {
  const parsed = typeof body === 'string' ? parseJson(body) : body;
  const e = (parsed && typeof parsed === 'object' ? (parsed as ErrorBody).error : undefined) ?? {};
  const reasons: string[] = [];
  if (Array.isArray(e.details)) {
    for (const d of e.details as { '@type'?: unknown; reason?: unknown }[]) {
      if (typeof d?.reason === 'string' && String(d['@type'] ?? '').endsWith('google.rpc.ErrorInfo')) reasons.push(d.reason);
    }
  }
  if (Array.isArray(e.errors)) for (const x of e.errors as { reason?: unknown }[]) if (typeof x?.reason === 'string') reasons.push(x.reason);
  const status = typeof e.status === 'string' ? e.status : undefined;
  const fromBody = typeof e.code === 'number' ? e.code : undefined;
  const http = httpStatus ?? fromBody;
  return { ...(http !== undefined ? { httpStatus: http } : {}), ...(status ? { status } : {}), reasons, message: typeof e.message === 'string' ? e.message : '' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface GoogleErrorLike {
  code?: unknown;
  httpStatusCode?: unknown;
  reason?: unknown;
  message?: unknown;
  name?: unknown;
}

/** google-gax keeps the whole error body on its GoogleError under this symbol. */
const RAW_BODY = Symbol.for('google-gax.rawHttpResponsePayload');

/** The facts of anything a Compute SDK call threw (undefined: no HTTP answer at all). */
export function gceFailureOf(err: unknown): GceFailure | undefined {
  const e = (err ?? {}) as GoogleErrorLike & { [RAW_BODY]?: unknown };
  const http = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined;
  const raw = e[RAW_BODY];
  const f = raw !== undefined ? gceFailureFromBody(http, raw) : { ...(http !== undefined ? { httpStatus: http } : {}), reasons: [], message: '' };
  if (typeof e.reason === 'string' && !f.reasons.includes(e.reason)) f.reasons.unshift(e.reason);
  if (!f.message && typeof e.message === 'string') f.message = e.message;
  if (f.httpStatus === undefined) {
    if (raw === undefined && f.reasons.length === 0) return undefined;
    if (!f.status && typeof e.code === 'number') f.status = GRPC_NAMES[e.code];
  }
  return f;
}

/** The error inside a DONE operation, as a VpcnetError naming the operation. */
export function operationError(op: { name?: string | null; operationType?: string | null; targetLink?: string | null }, err: OperationErrorView): VpcnetError {
  const code = codeOfFailure({ ...(err.httpErrorStatusCode !== undefined ? { httpStatus: err.httpErrorStatusCode } : {}), reasons: err.errors.map((e) => e.code), message: '' });
  const text = err.errors.map((e) => `${e.code}: ${e.message}`).join('; ') || 'unknown error';
  return new VpcnetError(code, `GCE operation ${op.operationType ?? ''} on ${op.targetLink ?? '?'} ended DONE with an error: ${text}`, {
    details: { operation: op.name, errors: err.errors, httpErrorStatusCode: err.httpErrorStatusCode },
  });
}

/** A failure already read into facts (a raw request's answer, a test), as a VpcnetError. */
export function gceFailureError(f: GceFailure, call: string, cause?: unknown): VpcnetError {
  const code = codeOfFailure(f);
  const reason = f.reasons[0];
  const head = [f.httpStatus !== undefined ? `HTTP ${f.httpStatus}` : undefined, f.status, reason].filter(Boolean).join(' ');
  return new VpcnetError(code, `GCE ${call} failed (${head}): ${f.message}`.trim(), {
    ...(cause !== undefined ? { cause } : {}),
    details: { call, ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}), ...(f.status ? { status: f.status } : {}), ...(reason ? { reason } : {}), ...(f.reasons.length > 1 ? { reasons: f.reasons } : {}) },
  });
}

/** Any failure of an SDK call, as a VpcnetError (VpcnetErrors pass through). */
export function gceError(err: unknown, call: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const f = gceFailureOf(err);
  if (!f) {
    // no HTTP answer: reset, refused, timeout (gax code 4 DEADLINE_EXCEEDED)
    const e = (err ?? {}) as GoogleErrorLike;
    const code: ErrorCode = e.code === 4 || e.name === 'TimeoutError' || e.name === 'AbortError' ? 'CLOUD_TIMEOUT' : 'CLOUD_UNAVAILABLE';
    return new VpcnetError(code, `GCE ${call} failed without an answer`, { cause: err, details: { call } });
  }
  return gceFailureError(f, call, err);
}

export function isRetryable(err: VpcnetError): boolean {
  return err.code === 'CLOUD_THROTTLED' || err.code === 'CLOUD_UNAVAILABLE' || err.code === 'CLOUD_TIMEOUT';
}
