// Runs a pass every intervalMs, never two at once; stop() cancels the next one and waits for a
// pass in flight. The timer never keeps the process alive. A failed pass is logged by onError
// and the next one runs as planned.
export class Repeater {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  private readonly intervalMs: number;
  private readonly pass: () => Promise<unknown>;
  private readonly onError: (err: unknown) => void;

  constructor(intervalMs: number, pass: () => Promise<unknown>, onError: (err: unknown) => void) {
    this.intervalMs = intervalMs;
    this.pass = pass;
    this.onError = onError;
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then(() => undefined, this.onError)
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref?.();
  }
}
