// Virtual time for the scale run: emulated time stands still while any work is in flight and
// jumps to the next timer once everything waits on a timer. A run's emulated figures then do
// not depend on how busy the machine is (1000 agents on 2 shared cores), and idle stretches
// (pods arriving over minutes) cost no wall time.
import type { Clock } from '../../src/util/clock.ts';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
  done: boolean;
}

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
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
      const s: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve, done: false };
      const onAbort = (): void => {
        if (s.done) return;
        s.done = true;
        reject(signal?.reason);
      };
      s.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.push(s);
    });
  }

  /** When the next live sleeper is due; undefined when nobody sleeps. */
  nextAt(): number | undefined {
    while (this.heap.length > 0 && (this.heap[0] as Sleeper).done) this.pop();
    return this.heap[0]?.at;
  }

  /** Moves time to `t` (never backwards) and wakes every sleeper due by then, in order. */
  advanceTo(t: number): void {
    this.current = Math.max(this.current, t);
    while (this.heap.length > 0 && (this.heap[0] as Sleeper).at <= this.current) {
      const s = this.pop();
      if (s.done) continue;
      s.done = true;
      s.resolve();
    }
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

/**
 * Advances a VirtualClock whenever the process is quiet: `busy()` reports work in flight
 * (cloud calls, metadata reads); continuations of woken sleepers run within a loop turn.
 */
export class VirtualTimeDriver {
  private readonly clock: VirtualClock;
  private readonly busy: () => boolean;
  private readonly quantumMs: number;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(clock: VirtualClock, busy: () => boolean, opts: { quantumMs?: number } = {}) {
    this.clock = clock;
    this.busy = busy;
    this.quantumMs = opts.quantumMs ?? 1;
  }

  start(): void {
    this.done ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.quiet())) {
        await realDelay(1);
        continue;
      }
      const next = this.clock.nextAt();
      if (next === undefined) {
        await realDelay(1);
        continue;
      }
      // Wake everything due within one quantum together: fewer steps, same order.
      this.clock.advanceTo(next + this.quantumMs - 1);
    }
  }

  /** Quiet: nothing in flight over a few loop turns (so woken continuations have run). */
  private async quiet(): Promise<boolean> {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.busy()) return false;
    }
    return true;
  }
}

function realDelay(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
