// Retries of Compute calls on the shared kit (providers/kit/retry.ts: full jitter on the
// Clock): throttled (403 rateLimitExceeded, which GCE refills per minute), unavailable and
// timed-out calls are tried again, at most `attempts` times and within `deadlineMs`.
import { VpcnetError } from '../../../src/errors.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { withRetry } from '../../kit/retry.ts';
import { isUrgent } from '../../kit/urgency.ts';
import { isRetryable } from './gce-errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
  /** Give up when the next wait would end later than this after the first attempt; default 10 min. */
  deadlineMs?: number;
}

// GCE refills a spent quota at the start of the next minute: the retries must outlast one window.
export const DEFAULT_RETRY: RetryPolicy = { attempts: 12, baseMs: 500, capMs: 20_000, deadlineMs: 150_000 };

/** Urgent calls (kit/urgency.ts) back off at most this much: the limiter already paces them to the quota. */
export const URGENT_CAP_MS = 2000;

export function retrying<T>(clock: Clock, policy: RetryPolicy, random: () => number, fn: () => Promise<T>): Promise<T> {
  let failures = 0;
  const capMs = isUrgent() ? Math.min(policy.capMs, URGENT_CAP_MS) : policy.capMs;
  return withRetry(() => fn(), {
    clock,
    policy: { baseMs: Math.min(policy.baseMs, capMs), capMs, deadlineMs: policy.deadlineMs ?? 600_000 },
    random,
    isRetryable: (err) => ++failures < policy.attempts && err instanceof VpcnetError && isRetryable(err),
  });
}
