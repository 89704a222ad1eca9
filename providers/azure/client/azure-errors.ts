// ARM failures as VpcnetErrors: by HTTP status and the CloudError code, never by message.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

export interface ArmFailure {
  statusCode?: number;
  code?: string;
  message: string;
  retryAfterMs?: number;
}

const LIMIT_CODES = /QuotaExceeded|LimitReached|LimitExceeded|CountExceeded/i;

/**
 * ARM and Microsoft.Network error codes whose meaning does not depend on the HTTP status they
 * come with (an LRO that ends Failed carries a code and no status at all). Sources:
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * (429, SubscriptionRequestsThrottled), .../troubleshooting/common-deployment-errors (codes).
 */
const CODES: Record<string, ErrorCode> = {
  TooManyRequests: 'CLOUD_THROTTLED',
  SubscriptionRequestsThrottled: 'CLOUD_THROTTLED',
  TenantRequestsThrottled: 'CLOUD_THROTTLED',
  ResourceRequestsThrottled: 'CLOUD_THROTTLED',
  OperationRateLimitExceeded: 'CLOUD_THROTTLED',
  RetryableError: 'CLOUD_UNAVAILABLE',
  InternalServerError: 'CLOUD_UNAVAILABLE',
  InternalExecutionError: 'CLOUD_UNAVAILABLE',
  InternalRetriableError: 'CLOUD_UNAVAILABLE',
  InternalOperationError: 'CLOUD_UNAVAILABLE',
  ServerBusy: 'CLOUD_UNAVAILABLE',
  ServiceUnavailable: 'CLOUD_UNAVAILABLE',
  GatewayTimeout: 'CLOUD_TIMEOUT',
  OperationTimedOut: 'CLOUD_TIMEOUT',
  // The NIC or something it references is busy with another write: the same request succeeds later.
  AnotherOperationInProgress: 'CLOUD_CONFLICT',
  ReferencedResourceNotProvisioned: 'CLOUD_CONFLICT',
  OperationPreempted: 'CLOUD_CONFLICT',
  Conflict: 'CLOUD_CONFLICT',
  PreconditionFailed: 'CLOUD_CONFLICT',
  PrivateIPAddressInUse: 'ADDRESS_CONFLICT',
  SubnetIsFull: 'SUBNET_FULL',
  PrivateIPAddressNotAvailable: 'SUBNET_FULL',
  AuthorizationFailed: 'CLOUD_PERMISSION_DENIED',
  LinkedAuthorizationFailed: 'CLOUD_PERMISSION_DENIED',
  InvalidAuthenticationToken: 'CLOUD_AUTH',
  InvalidAuthenticationTokenTenant: 'CLOUD_AUTH',
  ExpiredAuthenticationToken: 'CLOUD_AUTH',
  AuthenticationFailed: 'CLOUD_AUTH',
  ResourceNotFound: 'CLOUD_NOT_FOUND',
  NotFound: 'CLOUD_NOT_FOUND',
  ResourceGroupNotFound: 'CLOUD_NOT_FOUND',
  InvalidRequestFormat: 'CLOUD_BAD_REQUEST',
  InvalidParameter: 'CLOUD_BAD_REQUEST',
  BadRequest: 'CLOUD_BAD_REQUEST',
};

/** Conflicts that go away by themselves (a write in progress), as opposed to a stale etag. */
const BUSY_CODES = new Set(['AnotherOperationInProgress', 'ReferencedResourceNotProvisioned', 'OperationPreempted', 'RetryableError']);

/** Reads statusCode, code and Retry-After off an SDK RestError (or anything else). */
export function armFailureOf(err: unknown): ArmFailure {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; response?: { headers?: { get?(n: string): string | undefined } }; details?: { error?: { code?: unknown } } };
  const statusCode = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const detailCode = e?.details?.error?.code;
  const code = typeof detailCode === 'string' ? detailCode : typeof e?.code === 'string' ? e.code : undefined;
  const ra = e?.response?.headers?.get?.('retry-after');
  const retryAfterMs = ra !== undefined && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
  return { ...(statusCode !== undefined ? { statusCode } : {}), ...(code ? { code } : {}), message: typeof e?.message === 'string' ? e.message : String(err), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

export function codeOf(f: ArmFailure): ErrorCode {
  const s = f.statusCode;
  // 429 is throttling whatever code it carries (RetryableError comes as 429 too)
  if (s === 429) return 'CLOUD_THROTTLED';
  const byCode = f.code ? (CODES[f.code] ?? (LIMIT_CODES.test(f.code) ? 'CLOUD_LIMIT_EXCEEDED' : undefined)) : undefined;
  if (byCode) return byCode;
  if (s === undefined) return /timeout|timedout/i.test(f.code ?? '') ? 'CLOUD_TIMEOUT' : 'CLOUD_UNAVAILABLE';
  if (s === 401) return 'CLOUD_AUTH';
  if (s === 403) return 'CLOUD_PERMISSION_DENIED';
  if (s === 404) return 'CLOUD_NOT_FOUND';
  if (s === 409 || s === 412) return 'CLOUD_CONFLICT';
  if (s === 408 || s === 504) return 'CLOUD_TIMEOUT';
  if (s === 501 || s === 505) return 'CLOUD_BAD_REQUEST';
  if (s >= 500) return 'CLOUD_UNAVAILABLE';
  return 'CLOUD_BAD_REQUEST';
}

export function toArmError(err: unknown, op: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const f = armFailureOf(err);
  return new VpcnetError(codeOf(f), `ARM ${op} failed: ${f.code ?? f.statusCode ?? 'error'}`, {
    cause: err,
    details: { op, ...(f.statusCode !== undefined ? { status: f.statusCode } : {}), ...(f.code ? { armCode: f.code } : {}) },
  });
}

/** Worth retrying the same request: throttling, a busy NIC (409), 5xx, transport failures. 412 needs a fresh read first. */
export function isRetryableArm(err: unknown): boolean {
  const e = err instanceof VpcnetError ? err : toArmError(err, 'call');
  if (e.code === 'CLOUD_CONFLICT') return e.details?.status === 409 || BUSY_CODES.has(String(e.details?.armCode));
  return e.code === 'CLOUD_THROTTLED' || e.code === 'CLOUD_UNAVAILABLE' || e.code === 'CLOUD_TIMEOUT';
}

export function retryAfterOf(err: unknown): number | undefined {
  const cause = err instanceof VpcnetError ? err.cause : err;
  return armFailureOf(cause).retryAfterMs;
}

export function isStaleEtag(err: unknown): boolean {
  return err instanceof VpcnetError && err.code === 'CLOUD_CONFLICT' && err.details?.status === 412;
}
