// EC2 request throttling: one token bucket per account and action, refilled continuously, as
// AWS applies its limits (figures: providers/aws/ec2-throttling.ts), on the kit's token bucket.
// Buckets are made on first use (EC2 has hundreds of actions; the kit's ServerBuckets wants a
// fixed set). A speed factor makes emulated time run faster, so refill is scaled with it.
import type { Clock } from '../../../src/util/clock.ts';
import type { ThrottleStats } from '../../kit/emulator/buckets.ts';
import { TokenBucket as KitTokenBucket } from '../../kit/rate-limit.ts';
import { ACTION_BUCKETS, CATEGORY_BUCKETS, ec2BucketKey, ec2BucketSpec, type Ec2BucketSpec, type Ec2Category, type Ec2OwnBucketAction } from '../ec2-throttling.ts';

export type { ThrottleStats };
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

/** One EC2 bucket (the kit's TokenBucket in EC2's terms). */
export class TokenBucket {
  private readonly bucket: KitTokenBucket;

  constructor(spec: BucketSpec, clock: Clock, speed = 1) {
    this.bucket = new KitTokenBucket({ perSecond: spec.refillPerSecond * speed, burst: spec.capacity }, clock);
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    return this.bucket.tryTake();
  }

  available(): number {
    return Math.floor(this.bucket.available());
  }
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
