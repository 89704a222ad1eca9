// Group commit: callers that ask for a commit while one is being written share the next
// write, which snapshots state after all of them. A burst of 100 ADDs costs a few writes.
import type { CheckpointStore } from './checkpoint.ts';
import type { CheckpointData } from './types.ts';

export class CommitQueue {
  private readonly store: CheckpointStore;
  private readonly snapshot: () => CheckpointData;
  private inflight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  writes = 0;

  constructor(store: CheckpointStore, snapshot: () => CheckpointData) {
    this.store = store;
    this.snapshot = snapshot;
  }

  /** Resolves once a checkpoint containing the state as of this call is durable. */
  commit(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inflight) return this.write();
    const next = this.inflight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.write();
      });
    this.queued = next;
    return next;
  }

  private write(): Promise<void> {
    this.writes++;
    const p = this.store.commit(this.snapshot()).finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }
}
