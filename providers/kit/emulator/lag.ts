// Eventual consistency for emulators: a metadata service (IMDS, Azure IMDS, the GCE metadata
// server) answers from the state as it was `lagMs` ago. Snapshots are kept even without lag,
// so a lag set later has a past to show; old ones are pruned once a newer one is visible.
import type { Clock } from '../../../src/util/clock.ts';

export class LaggedView<T> {
  private readonly clock: Clock;
  private lagMs: number;
  /** Oldest first; the first entry is the oldest still needed. */
  private readonly history: { at: number; value: T }[] = [];

  constructor(clock: Clock, initial: T, lagMs = 0) {
    this.clock = clock;
    this.lagMs = lagMs;
    this.history.push({ at: clock.now(), value: initial });
  }

  setLag(ms: number): void {
    this.lagMs = Math.max(0, ms);
  }

  get lag(): number {
    return this.lagMs;
  }

  /** Records the state as of now. */
  record(value: T): void {
    this.history.push({ at: this.clock.now(), value });
  }

  /** The state as seen `lagMs` ago: the newest snapshot taken at or before then. */
  current(): T {
    const visibleAt = this.clock.now() - this.lagMs;
    let i = 0;
    while (i + 1 < this.history.length && (this.history[i + 1] as { at: number }).at <= visibleAt) i++;
    // Older snapshots are dropped: a lag raised later shows back to the oldest one kept.
    if (i > 0) this.history.splice(0, i);
    return (this.history[0] as { value: T }).value;
  }
}
