// EC2 request throttling: one token bucket per account and action, refilled continuously, as
// AWS applies its limits (figures: providers/aws/ec2-throttling.ts). A speed factor makes
// emulated time run faster, so refill is scaled with it.
import type { Clock } from '../../../src/util/clock.ts';
import { ACTION_BUCKETS, CATEGORY_BUCKETS, ec2BucketKey, ec2BucketSpec, type Ec2BucketSpec, type Ec2Category, type Ec2OwnBucketAction } from '../ec2-throttling.ts';

export type BucketSpec = Ec2BucketSpec;

/**
 * A bucket key: an action with published figures of its own, a category name (`mutating`,
 * `describe`, `describeUnfiltered`: overrides every bucket of that category), or
 * `<category>:<action>` for one action's own bucket (providers/aws/ec2-throttling.ts).
 */
export type BucketCategory = Ec2OwnBucketAction | Ec2Category | `${Ec2Category}:${string}`;

export const DEFAULT_BUCKETS: Record<Ec2OwnBucketAction | Ec2Category, BucketSpec> = { ...ACTION_BUCKETS, ...CATEGORY_BUCKETS };

/** Which bucket a call draws from; `filtered` = the describe names ids or filters. */
export function bucketFor(action: string, filtered: boolean): BucketCategory {
  return ec2BucketKey(action, filtered) as BucketCategory;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly spec: BucketSpec;
  private readonly clock: Clock;
  private readonly speed: number;

  constructor(spec: BucketSpec, clock: Clock, speed = 1) {
    this.spec = spec;
    this.clock = clock;
    this.speed = speed;
    this.tokens = spec.capacity;
    this.last = clock.now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.spec.capacity, this.tokens + elapsed * this.spec.refillPerSecond * this.speed);
  }
}

export interface ThrottleStats {
  /** Calls rejected with RequestLimitExceeded, per action. */
  throttled: Record<string, number>;
  /** Calls admitted, per action. */
  admitted: Record<string, number>;
}

export class Throttler {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly stats: ThrottleStats = { throttled: {}, admitted: {} };
  private readonly clock: Clock;
  private readonly speed: number;
  private readonly overrides: Partial<Record<string, BucketSpec>>;
  enabled: boolean;

  constructor(clock: Clock, opts: { speed?: number; buckets?: Partial<Record<BucketCategory, BucketSpec>>; enabled?: boolean } = {}) {
    this.clock = clock;
    this.speed = opts.speed ?? 1;
    this.overrides = opts.buckets ?? {};
    this.enabled = opts.enabled ?? true;
  }

  /** The bucket behind `key`, made on first use: an override of the key, else of its category, else the published figure. */
  private bucket(key: string): TokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      const spec = this.overrides[key] ?? this.overrides[key.split(':', 1)[0] as string] ?? ec2BucketSpec(key);
      b = new TokenBucket(spec, this.clock, this.speed);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Admits a call or returns false (the caller answers RequestLimitExceeded). */
  admit(action: string, filtered: boolean): boolean {
    const ok = !this.enabled || this.bucket(bucketFor(action, filtered)).take();
    const table = ok ? this.stats.admitted : this.stats.throttled;
    table[action] = (table[action] ?? 0) + 1;
    return ok;
  }

  snapshot(): ThrottleStats & { tokens: Record<string, number> } {
    return {
      throttled: { ...this.stats.throttled },
      admitted: { ...this.stats.admitted },
      tokens: Object.fromEntries([...this.buckets].map(([c, b]) => [c, b.available()])),
    };
  }
}
