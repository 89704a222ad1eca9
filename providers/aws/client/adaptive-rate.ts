// An adaptive send rate per bucket on top of the kit's static limiter: cut the rate when EC2
// answers RequestLimitExceeded (to one call per 10 s at once, then a third each time, down to one
// per maxIntervalMs), recover slowly on success (AIMD, as the SDKs' adaptive retry
// mode does with CUBIC). The static limiter caps concurrency and the ceiling rate; this one
// spaces calls further while the account's bucket is empty, so a starved node sends fewer
// attempts instead of more. Waits are jittered so nodes that were throttled together do not
// come back together.
// Urgent calls (pods waiting, start-up: kit/urgency.ts) are not held by that spacing: after a
// throttled answer they wait one token's time of the bucket's published refill (200 ms at 5/s),
// doubling per throttle in a row, jittered, never zero and never longer than the spacing itself.
import type { Clock } from '../../../src/util/clock.ts';
import { urgentSpacing } from '../../kit/urgency.ts';

export interface AdaptiveRateOptions {
  /** Fastest spacing between calls of one bucket (the ceiling rate), ms. */
  minIntervalMs: number;
  /** Slowest spacing after repeated throttling, ms. */
  maxIntervalMs: number;
  /** Spacing multiplier per throttled answer (rate divided by it); default 3: a starved node gets to a fair share in fewer tries. */
  backoffFactor?: number;
  /** Spacing multiplier per successful answer (slow recovery). */
  recoveryFactor?: number;
  /**
   * Spacing right after a throttled answer is at least this (default 10 s). A throttled answer
   * means the account's bucket is empty, and it refills at a few tokens per second for every
   * node of the account: a retry within a second is almost surely throttled again.
   */
  throttledMinIntervalMs?: number;
  /** One token's time of the bucket's published refill, ms: the urgent spacing after a throttle. Default minIntervalMs. */
  tokenIntervalMs?: number;
}

export class AdaptiveRate {
  private readonly o: Required<AdaptiveRateOptions>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private intervalMs: number;
  /** Earliest time the next call may start. */
  private nextAt = -Infinity;
  /** Earliest time the next urgent call may start, and the throttled answers in a row behind it. */
  private urgentAt = -Infinity;
  private throttles = 0;

  constructor(opts: AdaptiveRateOptions, clock: Clock, random: () => number = Math.random) {
    this.o = { backoffFactor: 3, recoveryFactor: 0.8, throttledMinIntervalMs: 10_000, tokenIntervalMs: opts.minIntervalMs, ...opts };
    this.clock = clock;
    this.random = random;
    this.intervalMs = opts.minIntervalMs;
  }

  /** Current spacing between calls, ms (its inverse is the send rate). */
  get interval(): number {
    return this.intervalMs;
  }

  /** Waits for this call's turn. Slots are reserved in order, so concurrent callers queue. */
  async acquire(signal?: AbortSignal, urgent = false): Promise<void> {
    const now = this.clock.now();
    if (urgent) {
      const at = Math.max(now, this.urgentAt);
      // urgent calls after a throttle are spaced too, so a burst of them does not drain the bucket at once
      if (this.throttles > 0) this.urgentAt = at + urgentSpacing(this.o.tokenIntervalMs, this.throttles, this.intervalMs, this.random);
      if (at > now) await this.clock.sleep(at - now, signal);
      return;
    }
    // At the ceiling rate the static limiter alone paces (its burst stays usable).
    if (this.intervalMs <= this.o.minIntervalMs && this.nextAt <= now) return;
    const at = Math.max(now, this.nextAt);
    // Full spacing while backed off, jittered to 50-100% so throttled nodes spread out.
    const spacing = this.intervalMs > this.o.minIntervalMs ? this.intervalMs * (0.5 + this.random() * 0.5) : this.intervalMs;
    this.nextAt = at + spacing;
    if (at > now) await this.clock.sleep(at - now, signal);
  }

  /** EC2 throttled a call of this bucket: slow down, and push the next slot out by the new spacing. */
  throttled(): void {
    this.intervalMs = Math.min(this.o.maxIntervalMs, Math.max(this.o.throttledMinIntervalMs, this.intervalMs * this.o.backoffFactor));
    this.nextAt = Math.max(this.nextAt, this.clock.now() + this.intervalMs * (0.5 + this.random() * 0.5));
    this.throttles++;
    this.urgentAt = Math.max(this.urgentAt, this.clock.now() + urgentSpacing(this.o.tokenIntervalMs, this.throttles, this.intervalMs, this.random));
  }

  /** A call of this bucket was accepted: recover a little. */
  succeeded(): void {
    this.throttles = 0;
    this.intervalMs = Math.max(this.o.minIntervalMs, this.intervalMs * this.o.recoveryFactor);
  }
}
