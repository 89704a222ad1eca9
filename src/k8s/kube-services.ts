// Everything Kubernetes the agent runs, in one place for the entry point to start and stop.
// Nothing here is on the CNI ADD path and nothing blocks agent start-up: the node is read in
// the background with retries, and each part works (or waits) on its own while the API
// server is away.
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.ts';
import { toVpcnetError } from '../errors.ts';
import type { Clock } from '../util/clock.ts';
import { backoffDelay, type Backoff } from '../../providers/kit/retry.ts';
import { KUBE_BACKOFF } from './kube-client.ts';
import type { KubeClient, KubeNode } from './kube-client.ts';
import { NetworkConfigWatcher } from './network-config.ts';
import { NodeEventRecorder } from './node-events.ts';
import { identityOf, type NodeIdentity } from './node-identity.ts';
import { PodAddressAnnotator } from './pod-annotator.ts';
import { PodWatcher } from './pod-watcher.ts';
import { NodeReadiness } from './readiness.ts';

export interface KubeServicesOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** Write vpcnet.io/pod-ip on pods (needs RBAC pods: patch). */
  annotatePodIps?: boolean;
  backoff?: Backoff;
  /** Re-read the Node this often so label changes reach the network config. */
  nodeRefreshMs?: number;
}

export class KubeServices {
  readonly pods: PodWatcher;
  readonly readiness: NodeReadiness;
  readonly networkConfig: NetworkConfigWatcher;
  readonly annotator: PodAddressAnnotator | undefined;
  private events: NodeEventRecorder | undefined;
  private identityValue: NodeIdentity | undefined;
  private lastNode: KubeNode | undefined;
  private readonly identityWaiters: ((id: NodeIdentity) => void)[] = [];
  private readonly stopper = new AbortController();
  private nodeLoop: Promise<void> | undefined;
  private readonly opts: KubeServicesOptions;
  private readonly log: Logger;

  constructor(opts: KubeServicesOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'kubernetes' });
    const common = { client: opts.client, nodeName: opts.nodeName, clock: opts.clock, logger: this.log, ...(opts.backoff ? { backoff: opts.backoff } : {}) };
    this.pods = new PodWatcher(common);
    this.readiness = new NodeReadiness(common);
    this.networkConfig = new NetworkConfigWatcher(common);
    this.annotator = opts.annotatePodIps
      ? new PodAddressAnnotator({ client: opts.client, clock: opts.clock, logger: this.log, ...(opts.backoff ? { backoff: opts.backoff } : {}) })
      : undefined;
  }

  start(): void {
    this.pods.start();
    this.nodeLoop ??= this.watchNode();
  }

  /** Resolves once the Node has been read (the agent may cross-check it with cloud metadata). */
  identity(): Promise<NodeIdentity> {
    if (this.identityValue) return Promise.resolve(this.identityValue);
    return new Promise((resolve) => this.identityWaiters.push(resolve));
  }

  /** The Node as last read (every nodeRefreshMs, or by readNode); undefined before the first read. */
  node(): KubeNode | undefined {
    return this.lastNode;
  }

  /** Reads the Node now (one API call); the result is also what node() returns from then on. */
  async readNode(): Promise<KubeNode> {
    const node = await this.opts.client.getNode(this.opts.nodeName);
    this.lastNode = node;
    return node;
  }

  /** True once node events can be recorded (the Node was read). */
  eventsReady(): boolean {
    return this.events !== undefined;
  }

  /** A Warning event with its own reason (provider conditions); before the node is known it is only logged. */
  warning(reason: string, message: string): void {
    if (!this.events) {
      this.log.warn({ reason, message }, 'node event not recorded yet: node unknown');
      return;
    }
    this.events.warning(reason, message);
  }

  /** A Warning event on the node for errors users must act on; before the node is known it is only logged. */
  warn(code: ErrorCode, message: string): void {
    if (!this.events) {
      this.log.warn({ code, message }, 'node event not recorded yet: node unknown');
      return;
    }
    this.events.warnForError(code, message);
  }

  async stop(): Promise<void> {
    this.stopper.abort(new Error('stopped'));
    this.readiness.stop();
    this.annotator?.stop();
    await Promise.all([this.pods.stop(), this.networkConfig.stop(), this.nodeLoop, this.events?.flush()]);
  }

  private async watchNode(): Promise<void> {
    const { client, nodeName, clock } = this.opts;
    let failures = 0;
    while (!this.stopper.signal.aborted) {
      let wait: number;
      try {
        const node = await client.getNode(nodeName);
        this.lastNode = node;
        failures = 0;
        if (!this.identityValue) {
          const id = identityOf(node);
          this.identityValue = id;
          this.events = new NodeEventRecorder({ client, nodeName, nodeUid: node.uid, clock, logger: this.log });
          this.networkConfig.start(node);
          for (const w of this.identityWaiters.splice(0)) w(id);
          this.log.info({ cloud: id.cloud, instanceId: id.instanceId, zone: id.zone }, 'node identity known');
        } else this.networkConfig.setNode(node);
        wait = this.opts.nodeRefreshMs ?? 300_000;
      } catch (err) {
        failures++;
        this.log.warn({ err: toVpcnetError(err, 'K8S_UNAVAILABLE'), attempt: failures }, 'reading the node failed');
        wait = backoffDelay(failures - 1, this.opts.backoff ?? KUBE_BACKOFF);
      }
      try {
        await clock.sleep(wait, this.stopper.signal);
      } catch {
        return;
      }
    }
  }
}
