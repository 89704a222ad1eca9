// ARM's throttling as published: token buckets per subscription for reads, writes and deletes
// (250/25 per s, 200/10, 200/10), then Microsoft.Network's own caps per subscription and region
// (10,000 reads, 1,000 writes per 5 minutes). Every answer carries the remaining count in
// x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}; a refusal is 429 + Retry-After.
import type { Clock } from '../../../src/util/clock.ts';
import { TokenBucket } from '../../kit/rate-limit.ts';
import { ARM_BUCKETS, NETWORK_RP_LIMITS, type ArmOpClass } from '../limits.ts';
import { ArmError } from './arm-error.ts';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export interface ThrottleOptions {
  enabled?: boolean;
  buckets?: Partial<Record<ArmOpClass, BucketSpec>>;
  /** Microsoft.Network caps as buckets (capacity = per window, refill = per window / window). */
  networkRp?: Partial<Record<'reads' | 'writes', BucketSpec>>;
}

export interface ThrottleStats {
  admitted: Record<string, number>;
  throttled: Record<string, number>;
}

export class ArmThrottler {
  enabled: boolean;
  private readonly arm: Record<ArmOpClass, { spec: BucketSpec; bucket: TokenBucket }>;
  private readonly network: Record<'reads' | 'writes', { spec: BucketSpec; bucket: TokenBucket }>;
  private readonly stats: ThrottleStats = { admitted: {}, throttled: {} };

  constructor(clock: Clock, opts: ThrottleOptions = {}) {
    this.enabled = opts.enabled ?? true;
    const mk = (spec: BucketSpec): { spec: BucketSpec; bucket: TokenBucket } => ({ spec, bucket: new TokenBucket({ perSecond: spec.refillPerSecond, burst: spec.capacity }, clock) });
    const armSpec = (k: ArmOpClass): BucketSpec => opts.buckets?.[k] ?? { ...ARM_BUCKETS[k] };
    this.arm = { reads: mk(armSpec('reads')), writes: mk(armSpec('writes')), deletes: mk(armSpec('deletes')) };
    const rp = (k: 'reads' | 'writes'): BucketSpec =>
      opts.networkRp?.[k] ?? { capacity: NETWORK_RP_LIMITS[k].perWindow, refillPerSecond: NETWORK_RP_LIMITS[k].perWindow / (NETWORK_RP_LIMITS[k].windowMs / 1000) };
    this.network = { reads: mk(rp('reads')), writes: mk(rp('writes')) };
  }

  /** Admits one call or throws the 429 ARM would send; returns the headers to add. */
  admit(op: string, cls: ArmOpClass, networkRp: boolean): Record<string, string> {
    const header = `x-ms-ratelimit-remaining-subscription-${cls}`;
    if (!this.enabled) {
      this.count(this.stats.admitted, op);
      return { [header]: String(this.arm[cls].spec.capacity) };
    }
    const a = this.arm[cls];
    if (!a.bucket.tryTake()) {
      this.count(this.stats.throttled, op);
      const wait = Math.max(1, Math.ceil(1 / a.spec.refillPerSecond));
      throw new ArmError(429, 'SubscriptionRequestsThrottled', `Number of '${cls.replace(/s$/, '')}' requests for subscription exceeded. Please try again after '${wait}' seconds after additional tokens are available.`, {
        'retry-after': String(wait),
        [header]: '0',
      });
    }
    const headers: Record<string, string> = { [header]: String(a.bucket.available()) };
    if (networkRp) {
      const n = this.network[cls === 'reads' ? 'reads' : 'writes'];
      if (!n.bucket.tryTake()) {
        this.count(this.stats.throttled, op);
        const wait = Math.max(1, Math.ceil(1 / n.spec.refillPerSecond));
        throw new ArmError(429, 'RetryableError', 'A retryable error occurred.', { 'retry-after': String(wait), ...headers });
      }
      headers['x-ms-ratelimit-remaining-resource'] = `Microsoft.Network/${cls === 'reads' ? 'Get' : 'Put'}Subscription5Min;${n.bucket.available()}`;
    }
    this.count(this.stats.admitted, op);
    return headers;
  }

  snapshot(): ThrottleStats & { tokens: Record<string, number> } {
    return {
      admitted: { ...this.stats.admitted },
      throttled: { ...this.stats.throttled },
      tokens: {
        reads: this.arm.reads.bucket.available(),
        writes: this.arm.writes.bucket.available(),
        deletes: this.arm.deletes.bucket.available(),
        networkReads: this.network.reads.bucket.available(),
        networkWrites: this.network.writes.bucket.available(),
      },
    };
  }

  private count(t: Record<string, number>, op: string): void {
    t[op] = (t[op] ?? 0) + 1;
  }
}
