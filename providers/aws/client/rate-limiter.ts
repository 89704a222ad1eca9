// Client-side rate limiting per EC2 token bucket. One limiter is shared by every call of the
// process (and may be shared by several providers, e.g. in the scale benchmark), so that a
// burst of pool work never drains the account's buckets that other nodes also draw from.
import PQueue from 'p-queue';

export type Ec2Bucket = 'mutating' | 'network-interface' | 'describe';

/** Which published EC2 bucket an action draws from. */
export function bucketOf(action: string): Ec2Bucket {
  if (action.startsWith('Describe')) return 'describe';
  if (
    action === 'AssignPrivateIpAddresses' ||
    action === 'UnassignPrivateIpAddresses' ||
    action === 'CreateNetworkInterface' ||
    action === 'DeleteNetworkInterface'
  ) {
    return 'network-interface';
  }
  return 'mutating';
}

export interface BucketRate {
  /** Calls started per second (keep below the bucket's refill rate). */
  perSecond: number;
  /** Calls in flight at once. */
  concurrency: number;
}

/**
 * Defaults sit below the published refill rates (mutating 5/s, network-interface actions 5/s,
 * describe 10/s and more for filtered calls), so a steady stream never hits RequestLimitExceeded.
 */
export const DEFAULT_RATES: Record<Ec2Bucket, BucketRate> = {
  mutating: { perSecond: 4, concurrency: 4 },
  'network-interface': { perSecond: 4, concurrency: 4 },
  describe: { perSecond: 8, concurrency: 8 },
};

export class Ec2RateLimiter {
  private readonly queues: Record<Ec2Bucket, PQueue>;

  constructor(rates: Partial<Record<Ec2Bucket, BucketRate>> = {}) {
    const make = (b: Ec2Bucket): PQueue => {
      const r = rates[b] ?? DEFAULT_RATES[b];
      return new PQueue({ concurrency: r.concurrency, interval: 1000, intervalCap: r.perSecond, strict: true });
    };
    this.queues = { mutating: make('mutating'), 'network-interface': make('network-interface'), describe: make('describe') };
  }

  run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return this.queues[bucketOf(action)].add(() => fn()) as Promise<T>;
  }

  /** Calls waiting for a slot, per bucket. */
  waiting(): Record<Ec2Bucket, number> {
    return { mutating: this.queues.mutating.size, 'network-interface': this.queues['network-interface'].size, describe: this.queues.describe.size };
  }
}
