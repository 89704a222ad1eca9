// EC2 request throttling: token buckets per account and category, refilled continuously.
// Defaults are the published EC2 figures (capacity / refill per second). A speed factor makes
// emulated time run faster, so refill is scaled with it.
import type { Clock } from '../../../src/util/clock.ts';

export type BucketCategory = 'mutating' | 'networkInterface' | 'describe' | 'describeUnfiltered' | 'createTags';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

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
  private readonly buckets: Map<BucketCategory, TokenBucket>;
  private readonly stats: ThrottleStats = { throttled: {}, admitted: {} };
  enabled: boolean;

  constructor(clock: Clock, opts: { speed?: number; buckets?: Partial<Record<BucketCategory, BucketSpec>>; enabled?: boolean } = {}) {
    const specs = { ...DEFAULT_BUCKETS, ...opts.buckets };
    this.buckets = new Map(
      (Object.keys(specs) as BucketCategory[]).map((c) => [c, new TokenBucket(specs[c], clock, opts.speed ?? 1)]),
    );
    this.enabled = opts.enabled ?? true;
  }

  /** Admits a call or returns false (the caller answers RequestLimitExceeded). */
  admit(action: string, filtered: boolean): boolean {
    const bucket = this.buckets.get(bucketFor(action, filtered));
    const ok = !this.enabled || (bucket?.take() ?? true);
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
