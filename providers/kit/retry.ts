// Retry with exponential backoff and full jitter, bounded by a deadline, on the Clock. Used by
// every cloud client (EC2, ARM, GCE), the metadata clients and the Kubernetes loops.
//
// Full jitter (a uniform draw in [0, ceiling)) spreads a thundering herd best: a thousand
// agents that failed together retry at a thousand different moments. A server hint
// (Retry-After on 429/503, ARM and GCE both send it) is a floor: we never come back earlier
// than the server asked, and a hint that ends past the deadline gives up at once.
import type { Clock } from '../../src/util/clock.ts';

export interface Backoff {
  /** First ceiling in ms; doubles per attempt. */
  baseMs: number;
  /** Largest ceiling in ms. */
  capMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface BackoffPolicy extends Backoff {
  /** Give up when the next wait would end later than this many ms after the first attempt. */
  deadlineMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 10_000, deadlineMs: 60_000 };

/** The ceiling of attempt `attempt` (0-based): min(cap, base * 2^attempt). */
export function backoffCeiling(attempt: number, backoff: Backoff): number {
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Full jitter: uniform in [0, ceiling). `attempt` counts from 0. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = backoff.random ?? Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, backoff));
}

export interface RetryOptions {
  clock: Clock;
  policy: BackoffPolicy;
  random?: () => number;
  /** Whether this failure may succeed when tried again (see classify.ts for the usual answer). */
  isRetryable(err: unknown): boolean;
  /** A wait the server asked for (Retry-After), in ms; undefined when none. */
  retryAfterMs?(err: unknown): number | undefined;
  /** Absolute end (Clock ms) that also bounds the retries, e.g. the CNI request's deadline. */
  deadlineAt?: number;
  /** Aborts the wait between attempts (rejects with the signal's reason). */
  signal?: AbortSignal;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export interface RetryExhausted {
  attempts: number;
  elapsedMs: number;
  /** Why it stopped: the failure was not retryable, or the deadline would pass. */
  reason: 'permanent' | 'deadline';
}

/** The wait before the next attempt: the jittered backoff, raised to the server's hint. */
export function retryDelay(err: unknown, attempt: number, opts: Pick<RetryOptions, 'policy' | 'random' | 'retryAfterMs'>): number {
  const jittered = backoffDelay(attempt, opts.policy, opts.random ?? opts.policy.random ?? Math.random);
  const hint = opts.retryAfterMs?.(err);
  return hint !== undefined && hint > jittered ? hint : jittered;
}

/**
 * Runs `fn` until it succeeds, fails with a non-retryable error, or the next wait would end
 * past the deadline. The last error is rethrown; `onGiveUp` can annotate or replace it.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
  onGiveUp?: (err: unknown, info: RetryExhausted) => unknown,
): Promise<T> {
  const start = opts.clock.now();
  const end = Math.min(start + opts.policy.deadlineMs, opts.deadlineAt ?? Infinity);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const now = opts.clock.now();
      // Drawn also when not retried, so a seeded run's random sequence does not depend on it.
      const delay = retryDelay(err, attempt, opts);
      const retryable = opts.isRetryable(err);
      if (!retryable || now + delay > end) {
        const info: RetryExhausted = { attempts: attempt + 1, elapsedMs: now - start, reason: retryable ? 'deadline' : 'permanent' };
        throw onGiveUp ? onGiveUp(err, info) : err;
      }
      opts.onRetry?.(err, attempt, delay);
      await opts.clock.sleep(delay, opts.signal);
    }
  }
}

/**
 * Parses an HTTP Retry-After value (delta seconds or an HTTP date) into ms from `now`.
 * Negative, unparsable or absent values give undefined; "0" gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
