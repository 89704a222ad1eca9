// Client-side rate limiting: one token bucket per bucket name (EC2's mutating /
// network-interface / describe buckets, ARM's per-subscription read/write budgets, GCE's
// per-project quotas), metered on the Clock so tests and virtual-time benchmarks see the same
// pacing as production. p-queue keeps each bucket's calls in order and caps those in flight;
// the bucket decides when the next one may start.
import PQueue from 'p-queue';
import { systemClock, type Clock } from '../../src/util/clock.ts';
import { isUrgent } from './urgency.ts';

export interface BucketRate {
  /** Tokens added per second: the sustained call rate. */
  perSecond: number;
  /** Calls in flight at once. */
  concurrency: number;
  /** Tokens a full bucket holds (calls that may start at once after a quiet spell); default perSecond. */
  burst?: number;
}

/**
 * A token bucket on the Clock. `reserve()` takes a token now, going into debt when none is
 * left, and returns how long the caller must wait: callers served in arrival order each wait
 * for their own token, so one waiter per call and no polling.
 */
export class TokenBucket {
  private readonly clock: Clock;
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(rate: { perSecond: number; burst?: number }, clock: Clock = systemClock) {
    if (!(rate.perSecond >= 0)) throw new RangeError('perSecond must be >= 0');
    this.clock = clock;
    this.ratePerMs = rate.perSecond / 1000;
    this.capacity = rate.burst ?? Math.max(1, rate.perSecond);
    this.tokens = this.capacity;
    this.last = clock.now();
  }

  /** Tokens available now (negative: calls already waiting for tokens). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes one token; resolves the wait in ms before the call may start (0 when one was there). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return this.ratePerMs > 0 ? Math.ceil(-this.tokens / this.ratePerMs) : Infinity;
  }

  /** Takes a token only if one is there now (the emulators' server-side buckets). */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token on the clock. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait, signal);
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.ratePerMs);
      this.last = now;
    }
  }
}

interface Bucket {
  bucket: TokenBucket;
  queue: PQueue;
  waiting: number;
}

/** Rate limits calls per bucket name; unknown names get `fallback`. */
export class KeyedRateLimiter<K extends string = string> {
  private readonly clock: Clock;
  private readonly rates: Partial<Record<K, BucketRate>>;
  private readonly fallback: BucketRate;
  private readonly buckets = new Map<K, Bucket>();

  constructor(rates: Partial<Record<K, BucketRate>>, opts: { clock?: Clock; fallback?: BucketRate } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.rates = rates;
    this.fallback = opts.fallback ?? { perSecond: 10, concurrency: 10 };
  }

  /**
   * Runs `fn` once its bucket has a token and a free slot; calls of one bucket start in order,
   * urgent ones (kit/urgency.ts) before the others waiting.
   */
  run<T>(key: K, fn: () => Promise<T>, opts: { urgent?: boolean } = {}): Promise<T> {
    const b = this.bucketOf(key);
    b.waiting++;
    const priority = (opts.urgent ?? isUrgent()) ? 1 : 0;
    return b.queue.add(async () => {
      try {
        await b.bucket.take();
      } finally {
        b.waiting--;
      }
      return fn();
    }, { priority }) as Promise<T>;
  }

  /** Calls not started yet in this bucket (waiting for a slot or a token). */
  waiting(key: K): number {
    return this.buckets.get(key)?.waiting ?? 0;
  }

  private bucketOf(key: K): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      const r = this.rates[key] ?? this.fallback;
      b = { bucket: new TokenBucket(r, this.clock), queue: new PQueue({ concurrency: r.concurrency }), waiting: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }
}
