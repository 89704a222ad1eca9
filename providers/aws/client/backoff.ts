// Exponential backoff with full jitter, bounded by a deadline. All waiting goes through the
// Clock so tests drive it with FakeClock.
import type { Clock } from '../../../src/util/clock.ts';

export interface BackoffPolicy {
  /** First backoff ceiling in ms; doubles per attempt. */
  baseMs: number;
  /** Largest backoff ceiling in ms. */
  capMs: number;
  /** Give up when the next wait would end later than this many ms after the first attempt. */
  deadlineMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 10_000, deadlineMs: 60_000 };

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)). `attempt` counts from 0. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export interface RetryOptions {
  clock: Clock;
  policy: BackoffPolicy;
  random: () => number;
  isRetryable(err: unknown): boolean;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export interface RetryExhausted {
  attempts: number;
  elapsedMs: number;
}

/**
 * Runs `fn` until it succeeds, fails with a non-retryable error, or the deadline would pass.
 * The last error is rethrown; `onGiveUp` can annotate it with the attempt count.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
  onGiveUp?: (err: unknown, info: RetryExhausted) => unknown,
): Promise<T> {
  const start = opts.clock.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const delay = backoffDelay(attempt, opts.policy, opts.random);
      const elapsed = opts.clock.now() - start;
      if (!opts.isRetryable(err) || elapsed + delay > opts.policy.deadlineMs) {
        throw onGiveUp ? onGiveUp(err, { attempts: attempt + 1, elapsedMs: elapsed }) : err;
      }
      opts.onRetry?.(err, attempt, delay);
      await opts.clock.sleep(delay);
    }
  }
}
