// Time is a seam: the pool and its tests never read the wall clock directly.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function wallSleep(keepAlive: boolean): Clock['sleep'] {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (!keepAlive) timer.unref();
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: wallSleep(true) };

/** The wall clock for background loops: a pending sleep does not keep the process alive. */
export const backgroundClock: Clock = { now: () => Date.now(), sleep: wallSleep(false) };

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
  done: boolean;
}

/**
 * A clock that only moves when told to: tests call `advance`, the scale bench's virtual-time
 * driver calls `nextAt`/`advanceTo`. Sleepers sit in a min-heap on (due time, arrival order),
 * so thousands of parked agents cost log n per timer.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private live = 0;
  /** Min-heap on (at, seq). Aborted sleepers stay in it, marked done, and are skipped. */
  private readonly heap: Sleeper[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const s: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, wake: resolve, done: false };
      const onAbort = (): void => {
        if (s.done) return;
        s.done = true;
        this.live--;
        reject(signal?.reason);
      };
      s.wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.live++;
      this.push(s);
    });
  }

  /** Number of pending sleeps; lets a test wait until code under test is parked. */
  get pending(): number {
    return this.live;
  }

  /** When the next live sleeper is due; undefined when nobody sleeps. */
  nextAt(): number | undefined {
    this.dropDone();
    return this.heap[0]?.at;
  }

  /** Moves time to `t` (never backwards) and wakes every sleeper due by then, in order, without waiting for their continuations. */
  advanceTo(t: number): void {
    this.current = Math.max(this.current, t);
    for (;;) {
      this.dropDone();
      const top = this.heap[0];
      if (!top || top.at > this.current) return;
      this.wakeTop();
    }
  }

  /** Moves time forward, waking sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      this.dropDone();
      const due = this.heap[0];
      if (!due || due.at > target) break;
      this.current = Math.max(this.current, due.at);
      this.wakeTop();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }

  private wakeTop(): void {
    const s = this.pop();
    s.done = true;
    this.live--;
    s.wake();
  }

  private dropDone(): void {
    while (this.heap.length > 0 && (this.heap[0] as Sleeper).done) this.pop();
  }

  private push(s: Sleeper): void {
    const h = this.heap;
    h.push(s);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Sleeper, h[parent] as Sleeper)) break;
      [h[i], h[parent]] = [h[parent] as Sleeper, h[i] as Sleeper];
      i = parent;
    }
  }

  private pop(): Sleeper {
    const h = this.heap;
    const top = h[0] as Sleeper;
    const last = h.pop() as Sleeper;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Sleeper, h[m] as Sleeper)) m = l;
        if (r < h.length && before(h[r] as Sleeper, h[m] as Sleeper)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Sleeper, h[i] as Sleeper];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Sleeper, b: Sleeper): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}

/**
 * A clock running `speed` times faster than the wall clock, for benchmarks that emulate
 * minutes of cloud time (token bucket refills, backoff) in seconds. All parties of one run
 * (emulator and clients) must share it so that they agree on emulated time.
 */
export function scaledClock(speed: number, base: Clock = systemClock): Clock {
  if (!(speed > 0)) throw new RangeError('speed must be > 0');
  const realStart = base.now();
  return {
    now: () => realStart + (base.now() - realStart) * speed,
    sleep: (ms, signal) => base.sleep(ms / speed, signal),
  };
}
