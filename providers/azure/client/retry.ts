// Retry with full-jitter backoff on the Clock, honouring Retry-After, and a per-bucket client
// rate limiter. Same shapes as the shared kit's withRetry / KeyedRateLimiter (providers/kit, in
// progress on its own branch): switching over is an import change.
import type { Clock } from '../../../src/util/clock.ts';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Give up when the next wait would end later than this after the first attempt. */
  deadlineMs: number;
}

export const DEFAULT_ARM_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 10_000, deadlineMs: 60_000 };

export interface RetryOptions {
  clock: Clock;
  policy: BackoffPolicy;
  random?: () => number;
  isRetryable(err: unknown): boolean;
  retryAfterMs?(err: unknown): number | undefined;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const start = opts.clock.now();
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const ceiling = Math.min(opts.policy.capMs, opts.policy.baseMs * 2 ** Math.min(attempt, 30));
      const jittered = Math.floor(random() * ceiling);
      const hint = opts.retryAfterMs?.(err);
      const delay = hint !== undefined && hint > jittered ? hint : jittered;
      if (!opts.isRetryable(err) || opts.clock.now() + delay > start + opts.policy.deadlineMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      await opts.clock.sleep(delay);
    }
  }
}

export interface BucketRate {
  perSecond: number;
  burst: number;
}

/** Token buckets per name, on the Clock; callers wait for their own token in arrival order. */
export class KeyedRateLimiter<K extends string> {
  private readonly clock: Clock;
  private readonly rates: Record<K, BucketRate>;
  private readonly state = new Map<K, { tokens: number; last: number }>();

  constructor(rates: Record<K, BucketRate>, clock: Clock) {
    this.rates = rates;
    this.clock = clock;
  }

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const r = this.rates[key];
    const now = this.clock.now();
    const s = this.state.get(key) ?? { tokens: r.burst, last: now };
    s.tokens = Math.min(r.burst, s.tokens + ((now - s.last) / 1000) * r.perSecond);
    s.last = now;
    s.tokens -= 1;
    this.state.set(key, s);
    if (s.tokens < 0) await this.clock.sleep(Math.ceil((-s.tokens / r.perSecond) * 1000));
    return fn();
  }
}
