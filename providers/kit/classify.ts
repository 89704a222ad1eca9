// Error classification, one answer for every provider, emulator and the pool. Pure.
//
//   throttled  the cloud refused before doing anything; retry after backoff or Retry-After
//   transient  failed before reaching the cloud or known not done (refused connection, metadata
//              unreachable); retry
//   ambiguous  the call may have happened (timeout, 5xx, reset connection, an unexpected
//              failure mid-call): retry only idempotent calls, and read cloud truth before
//              planning on the result (the pool fences the blocks, the reconciler decides)
//   not-found  the thing is not there (may be describe lag right after a create)
//   permanent  retrying the same request cannot help (bad request, limits, permissions,
//              conflicts; a 412 fingerprint mismatch is permanent for *this* request: re-read
//              and send a new one)
import type { ErrorCode } from '../../src/errors.ts';

export type ErrorClass = 'throttled' | 'transient' | 'ambiguous' | 'not-found' | 'permanent';

export function classifyCode(code: ErrorCode): ErrorClass {
  switch (code) {
    case 'CLOUD_THROTTLED':
      return 'throttled';
    case 'CLOUD_TIMEOUT':
    case 'CLOUD_UNAVAILABLE':
    case 'INTERNAL':
      return 'ambiguous';
    case 'METADATA_UNREACHABLE':
    case 'K8S_UNAVAILABLE':
    case 'AGENT_UNAVAILABLE':
      return 'transient';
    case 'CLOUD_NOT_FOUND':
    case 'K8S_NOT_FOUND':
      return 'not-found';
    default:
      return 'permanent';
  }
}

/** The call may have been carried out although it failed: state is unknown until read back. */
export function isAmbiguous(code: ErrorCode): boolean {
  return classifyCode(code) === 'ambiguous';
}

/** Worth trying again (an ambiguous failure only when the call is idempotent). */
export function isRetryableClass(c: ErrorClass, idempotent = true): boolean {
  return c === 'throttled' || c === 'transient' || (c === 'ambiguous' && idempotent);
}

/**
 * HTTP status of a cloud answer. 408 and 5xx are ambiguous (the server may have acted), but
 * 501/505 are permanent (it never will); 429 is throttling; 409/412 are permanent for this
 * request.
 */
export function classifyHttpStatus(status: number): ErrorClass {
  if (status === 429) return 'throttled';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 501 || status === 505) return 'permanent';
  if (status === 408 || status >= 500) return 'ambiguous';
  return 'permanent';
}

const NOT_SENT_ERRNOS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const MAYBE_SENT_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT']);

/** A transport failure: was the request possibly delivered? */
export function classifyTransport(errno: string): ErrorClass | undefined {
  if (NOT_SENT_ERRNOS.has(errno)) return 'transient';
  if (MAYBE_SENT_ERRNOS.has(errno)) return 'ambiguous';
  return undefined;
}
