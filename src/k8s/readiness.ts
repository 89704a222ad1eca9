// Tells the scheduler whether this node can network pods: a node condition VpcnetReady,
// and, the first time the pool can serve, removal of the taint vpcnet.io/not-ready:NoSchedule
// that nodes are registered with. The taint is never put back: evicting or fencing a
// working node for a transient pool problem would hurt more than it helps; the condition
// (and events) report it instead. Writes run in the background with retries; callers only
// state what they want.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import { toVpcnetError } from '../errors.ts';
import { backoffDelay, type Backoff } from '../../providers/kit/retry.ts';
import { KUBE_BACKOFF } from './kube-client.ts';
import type { KubeClient, KubeNode, NodeCondition } from './kube-client.ts';

export const READY_CONDITION = 'VpcnetReady';
export const NOT_READY_TAINT_KEY = 'vpcnet.io/not-ready';

export interface Readiness {
  ready: boolean;
  reason: string;
  message: string;
}

export interface NodeReadinessOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  backoff?: Backoff;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class NodeReadiness {
  private desired: Readiness | undefined;
  private appliedKey = '';
  private running: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private readonly opts: NodeReadinessOptions;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: NodeReadinessOptions) {
    this.opts = opts;
  }

  /** Records the wanted state; applied in the background (latest wins). Never throws, never blocks. */
  set(ready: boolean, reason: string, message: string): void {
    this.desired = { ready, reason, message };
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** Resolves when nothing is pending (for tests and shutdown). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopper.abort(new Error('stopped'));
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (!this.stopper.signal.aborted) {
      const want = this.desired;
      if (!want) return;
      const key = JSON.stringify(want);
      if (key === this.appliedKey) return;
      try {
        await this.apply(want);
        this.appliedKey = key;
        failures = 0;
      } catch (err) {
        const e = toVpcnetError(err, 'K8S_UNAVAILABLE');
        failures = e.code === 'K8S_CONFLICT' ? 0 : failures + 1;
        this.opts.logger.warn({ err: e, attempt: failures }, 'node readiness update failed');
        if (e.code === 'K8S_CONFLICT') continue; // re-read and retry at once
        try {
          await this.opts.clock.sleep(backoffDelay(failures - 1, this.opts.backoff ?? KUBE_BACKOFF), this.stopper.signal);
        } catch {
          return;
        }
      }
    }
  }

  private async apply(want: Readiness): Promise<void> {
    const { client, nodeName, clock } = this.opts;
    let node: KubeNode = await client.getNode(nodeName);
    const now = rfc3339(clock.now());
    const status = want.ready ? 'True' : 'False';
    const prev = node.conditions.find((c) => c.type === READY_CONDITION);
    const ours: NodeCondition = {
      type: READY_CONDITION,
      status,
      reason: want.reason,
      message: want.message,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
      lastHeartbeatTime: now,
    };
    if (!prev || prev.status !== ours.status || prev.reason !== ours.reason || prev.message !== ours.message) {
      const conditions = [...node.conditions.filter((c) => c.type !== READY_CONDITION), ours];
      node = await client.replaceNodeConditions(nodeName, node.resourceVersion, conditions);
      this.opts.logger.info({ ready: want.ready, reason: want.reason }, 'node readiness condition set');
    }
    if (want.ready && node.taints.some((t) => t.key === NOT_READY_TAINT_KEY)) {
      await client.replaceNodeTaints(
        nodeName,
        node.resourceVersion,
        node.taints.filter((t) => t.key !== NOT_READY_TAINT_KEY),
      );
      this.opts.logger.info({ taint: NOT_READY_TAINT_KEY }, 'node not-ready taint removed');
    }
  }
}
