// Server-side token buckets for the emulators: the cloud's published request limits per
// category (EC2's mutating / network-interface / describe buckets, ARM's per-subscription
// read and write budgets, GCE's per-project rate quotas). A call that finds its bucket empty is
// answered with the cloud's throttling error. A speed factor scales refill with emulated time.
import type { Clock } from '../../../src/util/clock.ts';
import { TokenBucket } from '../rate-limit.ts';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export interface ThrottleStats {
  /** Calls rejected, per operation. */
  throttled: Record<string, number>;
  /** Calls admitted, per operation. */
  admitted: Record<string, number>;
}

export class ServerBuckets<C extends string> {
  private readonly buckets: Map<C, TokenBucket>;
  private readonly stats: ThrottleStats = { throttled: {}, admitted: {} };
  enabled: boolean;

  constructor(clock: Clock, specs: Record<C, BucketSpec>, opts: { speed?: number; enabled?: boolean } = {}) {
    const speed = opts.speed ?? 1;
    this.buckets = new Map(
      (Object.keys(specs) as C[]).map((c) => [c, new TokenBucket({ perSecond: specs[c].refillPerSecond * speed, burst: specs[c].capacity }, clock)]),
    );
    this.enabled = opts.enabled ?? true;
  }

  /** Admits a call of `operation` against `category`, or returns false (the caller answers throttled). */
  admit(operation: string, category: C): boolean {
    const bucket = this.buckets.get(category);
    const ok = !this.enabled || (bucket?.tryTake() ?? true);
    const table = ok ? this.stats.admitted : this.stats.throttled;
    table[operation] = (table[operation] ?? 0) + 1;
    return ok;
  }

  /** Whole tokens left per category. */
  tokens(): Record<string, number> {
    return Object.fromEntries([...this.buckets].map(([c, b]) => [c, Math.floor(b.available())]));
  }

  snapshot(): ThrottleStats & { tokens: Record<string, number> } {
    return { throttled: { ...this.stats.throttled }, admitted: { ...this.stats.admitted }, tokens: this.tokens() };
  }
}
