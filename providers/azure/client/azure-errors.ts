// ARM failures as VpcnetErrors: by HTTP status and the CloudError code, never by message.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

export interface ArmFailure {
  statusCode?: number;
  code?: string;
  message: string;
  retryAfterMs?: number;
}

const LIMIT_CODES = /QuotaExceeded|LimitReached|LimitExceeded|CountExceeded/i;

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
  if (s === undefined) return f.code === 'REQUEST_SEND_ERROR' || f.code === 'ECONNREFUSED' ? 'CLOUD_UNAVAILABLE' : f.code === 'ETIMEDOUT' || /timeout/i.test(f.code ?? '') ? 'CLOUD_TIMEOUT' : 'CLOUD_UNAVAILABLE';
  if (s === 401) return 'CLOUD_AUTH';
  if (s === 403) return 'CLOUD_PERMISSION_DENIED';
  if (s === 404) return 'CLOUD_NOT_FOUND';
  if (s === 409 || s === 412) return 'CLOUD_CONFLICT';
  if (s === 429) return 'CLOUD_THROTTLED';
  if (s === 408) return 'CLOUD_TIMEOUT';
  if (s >= 500) return 'CLOUD_UNAVAILABLE';
  if (f.code === 'SubnetIsFull' || f.code === 'PrivateIPAddressNotAvailable') return 'SUBNET_FULL';
  if (f.code && LIMIT_CODES.test(f.code)) return 'CLOUD_LIMIT_EXCEEDED';
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
  if (e.code === 'CLOUD_CONFLICT') return e.details?.status === 409;
  return e.code === 'CLOUD_THROTTLED' || e.code === 'CLOUD_UNAVAILABLE' || e.code === 'CLOUD_TIMEOUT';
}

export function retryAfterOf(err: unknown): number | undefined {
  const cause = err instanceof VpcnetError ? err.cause : err;
  return armFailureOf(cause).retryAfterMs;
}

export function isStaleEtag(err: unknown): boolean {
  return err instanceof VpcnetError && err.code === 'CLOUD_CONFLICT' && err.details?.status === 412;
}
