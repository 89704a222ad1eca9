// EC2 request throttling: the kit's server-side token buckets with EC2's categories and the
// published EC2 figures (capacity / refill per second). A speed factor makes emulated time run
// faster, so refill is scaled with it.
import type { Clock } from '../../../src/util/clock.ts';
import { ServerBuckets, type BucketSpec, type ThrottleStats } from '../../kit/emulator/buckets.ts';
import { TokenBucket as KitTokenBucket } from '../../kit/rate-limit.ts';

export type { BucketSpec, ThrottleStats };

export type BucketCategory = 'mutating' | 'networkInterface' | 'describe' | 'describeUnfiltered' | 'createTags';

export const DEFAULT_BUCKETS: Record<BucketCategory, BucketSpec> = {
  mutating: { capacity: 50, refillPerSecond: 5 },
  networkInterface: { capacity: 100, refillPerSecond: 5 },
  describe: { capacity: 100, refillPerSecond: 20 },
  describeUnfiltered: { capacity: 50, refillPerSecond: 10 },
  createTags: { capacity: 100, refillPerSecond: 10 },
};

const NETWORK_INTERFACE_ACTIONS = new Set([
  'AssignPrivateIpAddresses',
  'UnassignPrivateIpAddresses',
  'CreateNetworkInterface',
  'DeleteNetworkInterface',
  'AttachNetworkInterface',
  'DetachNetworkInterface',
]);

/** Which bucket a call draws from; `filtered` = the describe names ids or filters. */
export function bucketFor(action: string, filtered: boolean): BucketCategory {
  if (NETWORK_INTERFACE_ACTIONS.has(action)) return 'networkInterface';
  if (action === 'CreateTags') return 'createTags';
  if (action.startsWith('Describe')) return filtered ? 'describe' : 'describeUnfiltered';
  return 'mutating';
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
  private readonly buckets: ServerBuckets<BucketCategory>;

  constructor(clock: Clock, opts: { speed?: number; buckets?: Partial<Record<BucketCategory, BucketSpec>>; enabled?: boolean } = {}) {
    this.buckets = new ServerBuckets<BucketCategory>(clock, { ...DEFAULT_BUCKETS, ...opts.buckets }, {
      ...(opts.speed === undefined ? {} : { speed: opts.speed }),
      ...(opts.enabled === undefined ? {} : { enabled: opts.enabled }),
    });
  }

  get enabled(): boolean {
    return this.buckets.enabled;
  }

  set enabled(on: boolean) {
    this.buckets.enabled = on;
  }

  /** Admits a call or returns false (the caller answers RequestLimitExceeded). */
  admit(action: string, filtered: boolean): boolean {
    return this.buckets.admit(action, bucketFor(action, filtered));
  }

  snapshot(): ThrottleStats & { tokens: Record<string, number> } {
    return this.buckets.snapshot();
  }
}
