// Virtual time for the scale run: emulated time stands still while any work is in flight and
// jumps to the next timer once everything waits on a timer. A run's emulated figures then do
// not depend on how busy the machine is (1000 agents on 2 shared cores), and idle stretches
// (pods arriving over minutes) cost no wall time. The clock is the project's FakeClock.
import type { FakeClock } from '../../src/util/clock.ts';

/**
 * Advances a FakeClock whenever the process is quiet: `busy()` reports work in flight
 * (cloud calls, metadata reads); continuations of woken sleepers run within a loop turn.
 */
export class VirtualTimeDriver {
  private readonly clock: FakeClock;
  private readonly busy: () => boolean;
  private readonly quantumMs: number;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(clock: FakeClock, busy: () => boolean, opts: { quantumMs?: number } = {}) {
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
