// Client-side rate limiting per EC2 token bucket: the kit's KeyedRateLimiter keyed exactly as
// EC2 keys its buckets (one per action, providers/aws/ec2-throttling.ts), with an adaptive rate
// per bucket on top (adaptive-rate.ts). One limiter serves every call of the process (and may be
// shared by several providers), so a burst of pool work never drains the account's buckets
// that other nodes also draw from.
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { KeyedRateLimiter, type BucketRate } from '../../kit/rate-limit.ts';
import { ec2BucketKey, ec2BucketSpec } from '../ec2-throttling.ts';
import { AdaptiveRate } from './adaptive-rate.ts';
import { isUrgent } from '../../kit/urgency.ts';

export type { BucketRate };

/** A bucket key (see ec2BucketKey): an action name, or `<category>:<action>`. */
export type Ec2Bucket = string;

/** Which EC2 bucket a call draws from; `filtered`: a describe naming ids or filters, or paging. */
export function bucketOf(action: string, filtered = true): Ec2Bucket {
  return ec2BucketKey(action, filtered);
}

/**
 * Slowest spacing of one bucket's calls after repeated throttling (the ×3 steps from 10 s: 10,
 * 30, 90, 120 s; jittered to 50-100 %). A throttled answer means the account's bucket is empty;
 * with thousands of nodes waiting on a 5/s refill (5000 first assigns need 980 s) a node that
 * retried about once a minute sent ~11 attempts for one accepted call; two minutes cut that to
 * ~8 (docs/benchmarks.md). The cost: nodes that reach the third throttle wait 45-90 s instead of
 * 30-60 s, so the time to warm grows where the account is congested only briefly.
 */
export const DEFAULT_MAX_INTERVAL_MS = 120_000;

/** Share of a bucket's published refill one process sends at most. */
export const CLIENT_SHARE = 0.8;

/** The client's ceiling for a bucket: below its published refill, small burst, few in flight. */
export function defaultRate(bucket: Ec2Bucket): BucketRate {
  const spec = ec2BucketSpec(bucket);
  const perSecond = spec.refillPerSecond * CLIENT_SHARE;
  return { perSecond, burst: Math.max(1, Math.floor(perSecond)), concurrency: bucket.startsWith('describe') ? 8 : 4 };
}

export interface Ec2RateLimiterOptions {
  /** Ceilings per bucket key, per category (`mutating`, `describe`, `describeUnfiltered`) or for all (`*`). */
  rates?: Partial<Record<string, BucketRate>>;
  /** Slowest spacing the adaptive rate reaches after repeated throttling; default DEFAULT_MAX_INTERVAL_MS (120 s). */
  maxIntervalMs?: number;
  /** Spacing right after a throttled answer, at least; default 10 s (adaptive-rate.ts). */
  throttledMinIntervalMs?: number;
  /** Off: only the static ceilings (tests of the ceilings themselves). */
  adaptive?: boolean;
  random?: () => number;
}

export interface RunOptions {
  filtered?: boolean;
  /** Tells a throttled answer (RequestLimitExceeded) from others, for the adaptive rate. */
  isThrottled?: (err: unknown) => boolean;
}

export class Ec2RateLimiter {
  private readonly limiter: KeyedRateLimiter<Ec2Bucket>;
  private readonly rates = new Map<Ec2Bucket, BucketRate>();
  private readonly adaptive = new Map<Ec2Bucket, AdaptiveRate>();
  private readonly clock: Clock;
  private readonly o: Ec2RateLimiterOptions;

  /** Metered on `clock` (the provider's clock). */
  constructor(opts: Ec2RateLimiterOptions = {}, clock: Clock = systemClock) {
    this.clock = clock;
    this.o = opts;
    const rates = new Proxy({} as Record<string, BucketRate>, { get: (_t, key) => this.rateOf(String(key)) });
    this.limiter = new KeyedRateLimiter<Ec2Bucket>(rates, { clock });
  }

  /** Runs one call in its bucket's turn; urgent calls (kit/urgency.ts) go first and skip the throttled spacing. */
  run<T>(action: string, fn: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    const key = bucketOf(action, opts.filtered ?? true);
    const urgent = isUrgent();
    const paced = async (): Promise<T> => {
      const pace = this.adaptiveOf(key);
      if (!pace) return fn();
      await pace.acquire(undefined, urgent);
      try {
        const out = await fn();
        pace.succeeded();
        return out;
      } catch (err) {
        if (opts.isThrottled?.(err)) pace.throttled();
        throw err;
      }
    };
    return this.limiter.run(key, paced, { urgent });
  }

  /** Calls waiting for a slot or a token, per bucket used so far. */
  waiting(): Record<string, number> {
    return Object.fromEntries([...this.rates.keys()].map((k) => [k, this.limiter.waiting(k)]));
  }

  /** Current adaptive spacing per bucket, ms (benchmarks, status). */
  intervals(): Record<string, number> {
    return Object.fromEntries([...this.adaptive].map(([k, a]) => [k, Math.round(a.interval)]));
  }

  private rateOf(key: Ec2Bucket): BucketRate {
    let r = this.rates.get(key);
    if (!r) {
      r = this.o.rates?.[key] ?? this.o.rates?.[key.split(':', 1)[0] as string] ?? this.o.rates?.['*'] ?? defaultRate(key);
      this.rates.set(key, r);
    }
    return r;
  }

  private adaptiveOf(key: Ec2Bucket): AdaptiveRate | undefined {
    if (this.o.adaptive === false) return undefined;
    let a = this.adaptive.get(key);
    if (!a) {
      const minIntervalMs = 1000 / this.rateOf(key).perSecond;
      const maxIntervalMs = Math.max(minIntervalMs, this.o.maxIntervalMs ?? DEFAULT_MAX_INTERVAL_MS);
      const throttledMinIntervalMs = Math.min(maxIntervalMs, this.o.throttledMinIntervalMs ?? 10_000);
      // one token of the account's bucket (its published refill), the urgent spacing after a throttle
      const tokenIntervalMs = Math.max(minIntervalMs, 1000 / ec2BucketSpec(key).refillPerSecond);
      a = new AdaptiveRate({ minIntervalMs, maxIntervalMs, throttledMinIntervalMs, tokenIntervalMs }, this.clock, this.o.random);
      this.adaptive.set(key, a);
    }
    return a;
  }
}
