// Client-side rate limiting per EC2 token bucket (the kit's KeyedRateLimiter with EC2's bucket
// names). One limiter is shared by every call of the process (and may be shared by several
// providers, e.g. in the scale benchmark), so that a burst of pool work never drains the
// account's buckets that other nodes also draw from.
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { KeyedRateLimiter, type BucketRate } from '../../kit/rate-limit.ts';

export type { BucketRate };

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
  private readonly limiter: KeyedRateLimiter<Ec2Bucket>;

  /** Rates per bucket, metered on `clock` (the provider's clock). */
  constructor(rates: Partial<Record<Ec2Bucket, BucketRate>> = {}, clock: Clock = systemClock) {
    this.limiter = new KeyedRateLimiter<Ec2Bucket>({ ...DEFAULT_RATES, ...rates }, { clock });
  }

  run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return this.limiter.run(bucketOf(action), fn);
  }

  /** Calls waiting for a slot or a token, per bucket. */
  waiting(): Record<Ec2Bucket, number> {
    return { mutating: this.limiter.waiting('mutating'), 'network-interface': this.limiter.waiting('network-interface'), describe: this.limiter.waiting('describe') };
  }
}
