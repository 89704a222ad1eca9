import { backgroundClock, type Clock } from './clock.ts';

// Runs a pass every intervalMs, never two at once; stop() cancels the next one and waits for a
// pass in flight. A failed pass is logged by onError and the next one runs as planned. The
// default clock's timers never keep the process alive; tests pass a FakeClock.
export class Repeater {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  private readonly intervalMs: number;
  private readonly pass: () => Promise<unknown>;
  private readonly onError: (err: unknown) => void;
  private readonly clock: Clock;

  constructor(intervalMs: number, pass: () => Promise<unknown>, onError: (err: unknown) => void, clock: Clock = backgroundClock) {
    this.intervalMs = intervalMs;
    this.pass = pass;
    this.onError = onError;
    this.clock = clock;
  }

  /** Starts the passes; an interval of 0 or less means never. */
  start(): void {
    if (this.loop || this.stopping.signal.aborted || this.intervalMs <= 0) return;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(this.intervalMs, signal);
      } catch {
        return; // stopped while waiting
      }
      await this.pass().then(() => undefined, this.onError);
    }
  }
}
