// Events on the Node for failures a user must see (kubectl describe node). Deduplicated:
// a repeat within the window only bumps a counter, sent with the next update; and rate
// limited overall so a failing loop cannot flood the API server. Best effort: a failed
// send is logged and dropped, never retried in a loop and never thrown to the caller.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.ts';
import type { Clock } from '../util/clock.ts';
import type { KubeClient } from './kube-client.ts';

export interface NodeEventRecorderOptions {
  client: KubeClient;
  nodeName: string;
  nodeUid: string;
  clock: Clock;
  logger: Logger;
  /** A repeat of the same event is sent at most once per window (as a count update). */
  dedupWindowMs?: number;
  /** At most this many sends per minute across all events. */
  maxPerMinute?: number;
}

interface Seen {
  name: string;
  count: number;
  unsent: number;
  first: number;
  lastSent: number;
}

/** Event reasons for the error codes a user can act on. */
export const EVENT_REASONS: Partial<Record<ErrorCode, string>> = {
  CLOUD_PERMISSION_DENIED: 'CloudPermissionDenied',
  CLOUD_AUTH: 'CloudAuthFailed',
  SUBNET_FULL: 'SubnetFull',
  CLOUD_LIMIT_EXCEEDED: 'CloudLimitReached',
  POOL_AT_CAPACITY: 'PodAddressLimitReached',
  CONFIG_INVALID: 'InvalidConfig',
};

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class NodeEventRecorder {
  private readonly seen = new Map<string, Seen>();
  private sendTimes: number[] = [];
  private readonly opts: Required<Omit<NodeEventRecorderOptions, 'client' | 'clock' | 'logger'>> & NodeEventRecorderOptions;
  private inflight = new Set<Promise<void>>();
  private droppedValue = 0;

  constructor(opts: NodeEventRecorderOptions) {
    this.opts = { dedupWindowMs: 10 * 60_000, maxPerMinute: 12, ...opts };
  }

  /** Events not sent because of the rate limit. */
  get dropped(): number {
    return this.droppedValue;
  }

  warning(reason: string, message: string): void {
    this.record('Warning', reason, message);
  }

  normal(reason: string, message: string): void {
    this.record('Normal', reason, message);
  }

  /** For an error with a user-facing reason, records a Warning; returns whether it did. */
  warnForError(code: ErrorCode, message: string): boolean {
    const reason = EVENT_REASONS[code];
    if (!reason) return false;
    this.warning(reason, message);
    return true;
  }

  /** Resolves when every send started so far has finished. */
  async flush(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  /** Bounds memory when messages vary (they carry ids): entries idle for two windows go. */
  private forgetOld(now: number): void {
    if (this.seen.size < 256) return;
    for (const [id, s] of this.seen) if (now - s.lastSent > 2 * this.opts.dedupWindowMs) this.seen.delete(id);
  }

  private record(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = this.opts.clock.now();
    const id = `${type}\0${reason}\0${message}`;
    let s = this.seen.get(id);
    if (!s) {
      this.forgetOld(now);
      const hash = createHash('sha256').update(id).update(String(now)).digest('hex').slice(0, 10);
      s = { name: `${this.opts.nodeName}.vpcnet.${hash}`, count: 0, unsent: 0, first: now, lastSent: -Infinity };
      this.seen.set(id, s);
    }
    s.count++;
    s.unsent++;
    if (now - s.lastSent < this.opts.dedupWindowMs) return;
    this.sendTimes = this.sendTimes.filter((t) => now - t < 60_000);
    if (this.sendTimes.length >= this.opts.maxPerMinute) {
      this.droppedValue++;
      return;
    }
    this.sendTimes.push(now);
    s.lastSent = now;
    s.unsent = 0;
    const p = this.opts.client
      .recordNodeEvent({
        name: s.name,
        nodeName: this.opts.nodeName,
        nodeUid: this.opts.nodeUid,
        type,
        reason,
        message,
        count: s.count,
        firstTimestamp: rfc3339(s.first),
        lastTimestamp: rfc3339(now),
      })
      .catch((err: unknown) => this.opts.logger.warn({ err, reason }, 'node event not recorded'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }
}
