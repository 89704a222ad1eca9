// Exponential backoff with full jitter, so many agents reconnecting after an API server
// outage spread out instead of arriving together.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/** Delay before retry number `attempt` (1-based): uniform in [base/2, base], base doubling to maxMs. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, attempt - 1));
  const r = (opts.random ?? Math.random)();
  return Math.round(base / 2 + (base / 2) * r);
}
