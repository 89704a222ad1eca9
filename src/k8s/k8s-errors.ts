// Maps whatever the Kubernetes client throws to one VpcnetError, by HTTP status, never by text.
import { VpcnetError } from '../errors.ts';

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code; // ApiException
  if (typeof e.statusCode === 'number') return e.statusCode; // Watch
  return undefined;
}

export function toK8sError(err: unknown, what: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const status = statusOf(err);
  const details = { what, ...(status !== undefined ? { status } : {}) };
  switch (status) {
    case 404:
      return new VpcnetError('K8S_NOT_FOUND', `${what}: not found`, { cause: err, details });
    case 409:
      return new VpcnetError('K8S_CONFLICT', `${what}: conflict`, { cause: err, details, retryable: true });
    case 410:
      return new VpcnetError('K8S_GONE', `${what}: resource version too old`, { cause: err, details, retryable: true });
    case 401:
    case 403:
      return new VpcnetError('K8S_FORBIDDEN', `${what}: not allowed`, { cause: err, details });
    case 400:
    case 415:
    case 422:
      return new VpcnetError('K8S_INVALID', `${what}: rejected`, { cause: err, details });
    default:
      // 429, 5xx, refused connections, resets and timeouts: try again later.
      return new VpcnetError('K8S_UNAVAILABLE', `${what}: API server unavailable`, { cause: err, details, retryable: true });
  }
}
