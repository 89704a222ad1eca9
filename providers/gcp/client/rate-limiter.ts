// Client-side pacing of Compute calls per GCE quota group (providers/gcp/api-quotas.ts), on the
// kit's KeyedRateLimiter. Two rules, because GCE counts per project and refills per synchronized
// minute rather than continuously:
// - a ceiling per group: one node sends at most a small share of the project's per-minute
//   quota, so a loop gone wrong on one node cannot starve the others of the project;
// - a hold after a throttled answer: once GCE says a group is spent (403 rateLimitExceeded),
//   every call of that group waits for the next interval (plus a jitter that spreads the nodes
//   of a project over its first seconds) instead of retrying into a spent quota.
// Urgent calls (pods waiting, start-up: kit/urgency.ts) skip that hold: they go first and, after
// a throttled answer, wait one token's time of the node's share (400 ms at the default quota),
// doubling per throttle in a row and jittered, never past the next interval. A start-up under
// throttling so finishes at the pace the quota allows instead of a minute per throttled answer.
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { KeyedRateLimiter, type BucketRate } from '../../kit/rate-limit.ts';
import { isUrgent, urgentSpacing } from '../../kit/urgency.ts';
import { DEFAULT_QUOTAS, groupOf, msToNextWindow, QUOTA_GROUPS, QUOTA_WINDOW_MS, type QuotaGroup } from '../api-quotas.ts';

/** Share of a group's per-project quota one node uses at most. */
export const NODE_SHARE = 0.1;

/** One node's ceiling for a group: NODE_SHARE of its quota per minute, a burst of 10, 4 in flight. */
export function defaultGroupRate(group: QuotaGroup, perMinute = DEFAULT_QUOTAS[group]): BucketRate {
  const perSecond = (perMinute * NODE_SHARE) / 60;
  return { perSecond, burst: Math.max(1, Math.min(10, Math.floor(perMinute * NODE_SHARE))), concurrency: 4 };
}

export interface GceRateLimiterOptions {
  clock?: Clock;
  /** The project's quotas per minute where raised (the ceilings follow them). */
  quotas?: Partial<Record<QuotaGroup, number>>;
  /** Ceilings per group, overriding those derived from the quotas. */
  rates?: Partial<Record<QuotaGroup, BucketRate>>;
  /** Length of a quota interval (shorter only in sped-up emulations); default 60 s. */
  windowMs?: number;
  /** After a refill, calls held by a throttled answer start within this much; default 3 s. */
  spreadMs?: number;
  random?: () => number;
}

export class GceRateLimiter {
  private readonly limiter: KeyedRateLimiter<QuotaGroup>;
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly spreadMs: number;
  private readonly random: () => number;
  /** Per group: calls wait until then (the start of the interval after a throttled answer, plus jitter). */
  private readonly heldUntil = new Map<QuotaGroup, number>();
  private readonly holdsValue: Record<QuotaGroup, number> = { read: 0, list: 0, mutation: 0, operationRead: 0 };
  /** Per group: urgent calls wait until then after a throttled answer, and how many in a row. */
  private readonly urgentAfter = new Map<QuotaGroup, { at: number; throttles: number }>();
  private readonly rates: Partial<Record<QuotaGroup, BucketRate>>;

  constructor(opts: GceRateLimiterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.windowMs = opts.windowMs ?? QUOTA_WINDOW_MS;
    this.spreadMs = opts.spreadMs ?? 3000;
    this.random = opts.random ?? Math.random;
    const rates: Partial<Record<QuotaGroup, BucketRate>> = {};
    for (const g of QUOTA_GROUPS) rates[g] = opts.rates?.[g] ?? defaultGroupRate(g, opts.quotas?.[g]);
    this.rates = rates;
    this.limiter = new KeyedRateLimiter<QuotaGroup>(rates, { clock: this.clock });
  }

  /**
   * Runs one Compute call of `method` in its group's turn. `isThrottled` tells GCE's "quota
   * spent" answer from others: it holds the whole group until the next interval.
   */
  run<T>(method: string, fn: () => Promise<T>, isThrottled: (err: unknown) => boolean): Promise<T> {
    const group = groupOf(method);
    const urgent = isUrgent();
    return this.limiter.run(
      group,
      async () => {
        for (;;) {
          const wait = this.readyAt(group, urgent) - this.clock.now();
          if (wait <= 0) break;
          await this.clock.sleep(wait);
        }
        const sentAt = this.clock.now();
        try {
          const out = await fn();
          this.urgentAfter.delete(group);
          return out;
        } catch (err) {
          if (isThrottled(err)) {
            this.hold(group, sentAt);
            this.holdUrgent(group);
          }
          throw err;
        }
      },
      { urgent },
    );
  }

  private readyAt(group: QuotaGroup, urgent: boolean): number {
    return urgent ? (this.urgentAfter.get(group)?.at ?? 0) : (this.heldUntil.get(group) ?? 0);
  }

  /** Urgent calls of the group wait one token's time (doubling per throttle in a row), never past the refill. */
  private holdUrgent(group: QuotaGroup): void {
    const now = this.clock.now();
    const throttles = (this.urgentAfter.get(group)?.throttles ?? 0) + 1;
    const rate = this.rates[group]?.perSecond ?? 1;
    const toRefill = msToNextWindow(now, this.windowMs) + this.spreadMs;
    this.urgentAfter.set(group, { at: now + urgentSpacing(1000 / rate, throttles, toRefill, this.random), throttles });
  }

  /** Times a group was held after a throttled answer (status, tests). */
  holds(): Record<QuotaGroup, number> {
    return { ...this.holdsValue };
  }

  /** Calls of the group not started yet. */
  waiting(group: QuotaGroup): number {
    return this.limiter.waiting(group);
  }

  /**
   * GCE counted the call when it arrived, so the interval that is spent is the one the call was
   * sent in: hold until the next one starts. An answer that comes back after that (a slow
   * reply, a busy node) holds nothing: the quota has been refilled meanwhile.
   */
  private hold(group: QuotaGroup, sentAt: number): void {
    const now = this.clock.now();
    const refill = sentAt + msToNextWindow(sentAt, this.windowMs);
    if (refill <= now) return;
    // a call started before the hold and answered after it does not extend it
    if ((this.heldUntil.get(group) ?? 0) > now) return;
    this.heldUntil.set(group, refill + Math.floor(this.random() * this.spreadMs));
    this.holdsValue[group]++;
  }
}
