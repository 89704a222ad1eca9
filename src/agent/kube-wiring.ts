// Connects the agent to Kubernetes: node readiness from the pool, pool conditions as node
// events, release of addresses whose pods the API server says are gone, NodeNetworkConfig for
// new NICs, and pod address annotations. Everything runs in the background: an absent or
// slow API server never delays start-up or a CNI ADD (the view just stays stale or empty).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { CloudProvider, ClusterServices, NodeInfo, ProviderCondition } from '../../providers/provider.ts';
import type { VpcnetConfig } from '../config/schema.ts';
import { toVpcnetError, VpcnetError, type ErrorCode } from '../errors.ts';
import type { PoolManager } from '../ipam/pool-manager.ts';
import type { Allocation, PodKey, PoolConditionType } from '../ipam/types.ts';
import { backoffDelay, type Backoff } from '../../providers/kit/retry.ts';
import { KUBE_BACKOFF, type KubeClient } from '../k8s/kube-client.ts';
import { KubeServices } from '../k8s/kube-services.ts';
import type { EffectiveNetworkConfig } from '../k8s/network-config.ts';
import type { NodeIdentity } from '../k8s/node-identity.ts';
import { allocationsOfGonePods } from '../k8s/pod-watcher.ts';
import { LeaseLock } from '../k8s/lease-lock.ts';
import { lazyKubeClient } from '../k8s/lazy-kube-client.ts';
import type { Readiness } from '../k8s/readiness.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { NetworkConfigProvider } from './network-config-provider.ts';

export type KubeSettings = VpcnetConfig['kubernetes'];

/** Test and embedding knobs beyond the config. */
export interface KubeWiringOverrides {
  client?: KubeClient;
  backoff?: Backoff;
  /** How often pool state is turned into readiness and events; default 1 s. */
  statusIntervalMs?: number;
}

export interface KubeWiringOptions extends KubeWiringOverrides {
  settings: KubeSettings;
  nodeName: string;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

/** For `vpcnet status`: how much of the cluster view the agent has. */
export interface KubeStatus {
  nodeName: string;
  /** The Node was read and names this machine; gone-pod release runs only then. */
  nodeVerified: boolean;
  podsSynced: boolean;
  podsSeen: number;
  /** Undefined until the NodeNetworkConfig list succeeded. */
  networkConfig: EffectiveNetworkConfig | undefined;
}

/** What the wiring needs from the running agent once the pool and CNI handler exist. */
export interface AgentHooks {
  pool: PoolManager;
  /** Tears down and frees an attachment as CNI DEL would (under its lock). */
  releaseAttachment(key: PodKey): Promise<void>;
  /** True while a CNI command for the attachment runs. */
  busy(key: PodKey): boolean;
  /** Conditions the cloud provider raises (each becomes a node event; `notReady` ones also VpcnetReady=False). */
  providerConditions?(): ProviderCondition[];
}

/** Pool conditions a user must act on, and the error code whose event reason they carry. */
const CONDITION_CODES: Partial<Record<PoolConditionType, ErrorCode>> = {
  SubnetFull: 'SUBNET_FULL',
  CloudPermissionDenied: 'CLOUD_PERMISSION_DENIED',
  CloudLimitReached: 'CLOUD_LIMIT_EXCEEDED',
};

const STARTING: Readiness = { ready: false, reason: 'PoolStarting', message: 'vpcnet is filling the address pool' };

/**
 * The client for the configured cluster: a kubeconfig file, else the in-cluster service
 * account, read on the first call (lazy-kube-client.ts).
 */
export function createKubeClient(settings: KubeSettings): KubeClient {
  return lazyKubeClient({ kubeconfig: settings.kubeconfig, serviceHost: settings.serviceHost, servicePort: settings.servicePort, requestTimeoutMs: settings.requestTimeoutMs });
}

/** Where the agents' Leases live (kube-system, as the DaemonSet; deploy/base/rbac.yaml allows them). */
/** Node annotation with the pods this node can run (`vpcnet max-pods` for its type and mode), for tooling. */
export const MAX_PODS_ANNOTATION = 'vpcnet.io/max-pods';

export const SWEEP_LEASE_NAMESPACE = 'kube-system';
/** The leaked-NIC sweep lease. */
export const SWEEP_LEASE_NAME = 'vpcnet-leaked-nic-sweep';
/** Outlives the sweep period, so the holder keeps it from one sweep to the next. */
export const SWEEP_LEASE_MS = 900_000;
/** A Node without a pod range yet is re-read at most this often when the provider asks for one. */
export const POD_CIDR_REREAD_MS = 10_000;

export class KubeWiring {
  readonly services: KubeServices;
  private readonly opts: KubeWiringOptions;
  private readonly log: Logger;
  private readonly stopper = new AbortController();
  private hooks: AgentHooks | undefined;
  private startedAt = 0;
  private firstConfig: Promise<void>;
  private loops: Promise<void>[] = [];
  private readinessKey = '';
  private readonly eventedConditions = new Set<string>();
  private readonly eventedProviderConditions = new Set<string>();
  private readonly client: KubeClient;
  private lastPodCidrRead = -Infinity;
  private releasing: Promise<void> | undefined;
  private releaseAgain = false;
  /** The Node was read and is this machine: only then is its pod list ours to act on. */
  private nodeVerified = false;
  private cloudNode: Pick<NodeInfo, 'provider' | 'instanceId'> | undefined;

  /** One agent of the cluster sweeps leaked NICs: the holder of this lease. */
  readonly sweepLease: LeaseLock;
  /** What the cluster offers the cloud provider: named Leases for its sweeps, the Node's pod ranges. */
  readonly cluster: ClusterServices;

  constructor(opts: KubeWiringOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'kube-wiring' });
    const client = opts.client ?? createKubeClient(opts.settings);
    this.client = client;
    this.sweepLease = this.lease(SWEEP_LEASE_NAME, SWEEP_LEASE_MS);
    this.cluster = {
      lock: (name, holdMs) => this.lease(name, holdMs),
      nodePodCidrs: (o) => this.nodePodCidrs(o),
    };
    this.services = new KubeServices({
      client,
      nodeName: opts.nodeName,
      clock: opts.clock,
      logger: opts.logger,
      annotatePodIps: opts.settings.annotatePodIps,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
    this.firstConfig = new Promise((resolve) => this.services.networkConfig.onChange(() => resolve()));
    this.services.networkConfig.onChange((c) => this.onNetworkConfig(c));
    this.services.pods.onChange((c) => {
      // Each (re)list is a full view: the moment to release what disappeared meanwhile.
      if (c.kind === 'synced') this.releaseGoneSoon();
    });
  }

  /** Starts watching; never waits for the API server. `node` is the cloud's view of this machine. */
  start(node?: Pick<NodeInfo, 'provider' | 'instanceId'>): void {
    this.startedAt = this.opts.clock.now();
    this.cloudNode = node;
    void this.services.identity().then((id) => this.verifyNode(id));
    this.services.start();
    this.setReadiness(STARTING);
  }

  /**
   * A start-up step waits to be retried (the agent is not serving): VpcnetReady=False with the
   * error as reason (StartupCloudThrottled, StartupCloudPermissionDenied ...) and its message.
   * Written in the background; the Node need not be known yet.
   */
  reportStartupBlocked(block: { step: string; code: string; message: string; attempts: number }): void {
    const reason = `Startup${block.code
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')}`;
    this.setReadiness({ ready: false, reason, message: `start-up step ${block.step} failed and is retried: ${block.message}` });
  }

  /** The provider the pool should use: new NICs follow this node's NodeNetworkConfig. */
  wrapProvider(inner: CloudProvider): CloudProvider {
    return new NetworkConfigProvider(inner, {
      forNextNic: () => this.networkConfigForNextNic(),
      current: () => this.services.networkConfig.current(),
      onRefused: (err) => this.services.warn(err.code, err.message),
    });
  }

  /** Called once the pool serves and the CNI handler exists: starts the background loops. */
  attach(hooks: AgentHooks): void {
    this.hooks = hooks;
    this.syncPoolState();
    this.loops.push(this.every(this.opts.statusIntervalMs ?? 1000, () => this.syncPoolState()));
    this.loops.push(this.every(this.opts.settings.podReconcileIntervalMs, () => this.releaseGoneSoon()));
    if (this.services.pods.synced) this.releaseGoneSoon();
  }

  /** Publishes the node's max pods as an annotation; retried with the loops' backoff until it lands or the agent stops. */
  publishMaxPods(maxPods: number): void {
    const signal = this.stopper.signal;
    const annotations = { [MAX_PODS_ANNOTATION]: String(maxPods) };
    this.loops.push(
      (async () => {
        for (let attempt = 0; !signal.aborted; attempt++) {
          try {
            await this.client.patchNodeAnnotations(this.opts.nodeName, annotations);
            return;
          } catch (err) {
            if (attempt === 0) this.log.warn({ err: toVpcnetError(err).message, maxPods }, 'could not annotate the node with its max pods; retrying');
          }
          try {
            await this.opts.clock.sleep(backoffDelay(attempt, this.opts.backoff ?? KUBE_BACKOFF), signal);
          } catch {
            return;
          }
        }
      })(),
    );
  }

  /** A Lease of kube-system held by this node (one agent of the cluster at a time). */
  lease(name: string, durationMs: number): LeaseLock {
    return new LeaseLock({ client: this.client, namespace: SWEEP_LEASE_NAMESPACE, name, identity: this.opts.nodeName, durationMs, clock: this.opts.clock });
  }

  /**
   * Node.spec.podCIDRs. Once set the API server never changes them, so a known value is
   * final; while none is known, `fresh` reads the Node again (at most every 10 s, bounded by
   * the request timeout). An unreachable API server gives undefined, never an error.
   */
  async nodePodCidrs(o: { fresh?: boolean } = {}): Promise<string[] | undefined> {
    const known = this.services.node()?.podCidrs;
    if (known?.length) return known;
    const now = this.opts.clock.now();
    if (!o.fresh || this.stopper.signal.aborted || now - this.lastPodCidrRead < POD_CIDR_REREAD_MS) return undefined;
    this.lastPodCidrRead = now;
    try {
      const cidrs = (await this.services.readNode()).podCidrs;
      return cidrs?.length ? cidrs : undefined;
    } catch (err) {
      this.log.warn({ err: toVpcnetError(err, 'K8S_UNAVAILABLE') }, 'reading Node.spec.podCIDR failed; the configured range (if any) is used');
      return undefined;
    }
  }

  /** After a successful ADD: annotate the pod in the background (when enabled). */
  onAdded(a: Allocation): void {
    if (!this.services.annotator || !a.podNamespace || !a.podName) return;
    this.services.annotator.annotate(a.podNamespace, a.podName, a.ip);
  }

  /** True when the pod view has (or, not synced yet, may have) the allocation's pod: the netns sweeper spares it. */
  claims(a: Allocation): boolean {
    const pods = this.services.pods;
    return !pods.synced || pods.isLive(a);
  }

  status(): KubeStatus {
    const pods = this.services.pods;
    return {
      nodeName: this.opts.nodeName,
      nodeVerified: this.nodeVerified,
      podsSynced: pods.synced,
      podsSeen: pods.livePods().size,
      networkConfig: this.services.networkConfig.current(),
    };
  }

  /** Runs one release pass now (tests); resolves when it is done. */
  async releaseGonePods(): Promise<void> {
    this.releaseGoneSoon();
    while (this.releasing) await this.releasing;
  }

  /** Stops touching the pool: no more releases, readiness updates or NIC waits. */
  async quiesce(): Promise<void> {
    this.stopper.abort(new Error('stopped'));
    await Promise.all(this.loops);
    while (this.releasing) await this.releasing;
  }

  /** Quiesces, then ends the watches (may wait for API calls in flight, up to their timeout). */
  async stop(): Promise<void> {
    await this.quiesce();
    await this.services.stop();
  }

  // ---- readiness and events ----------------------------------------------------------------

  private syncPoolState(): void {
    const pool = this.hooks?.pool;
    if (!pool) return;
    const status = pool.status();
    const first = status.conditions[0];
    const cloud = this.hooks?.providerConditions?.() ?? [];
    const blocking = cloud.find((c) => c.notReady);
    const want: Readiness = !pool.ready()
      ? first
        ? { ready: false, reason: first.type, message: first.message }
        : { ready: false, reason: 'PoolEmpty', message: 'no free pod address; the pool is growing' }
      : blocking
        ? { ready: false, reason: blocking.type, message: blocking.message }
        : { ready: true, reason: 'PoolReady', message: 'the address pool can serve pods' };
    this.setReadiness(want);
    this.eventProviderConditions(cloud);
    const raised = new Set<string>();
    for (const c of status.conditions) {
      const code = CONDITION_CODES[c.type];
      if (!code) continue;
      const id = `${c.type}@${c.since}`;
      raised.add(id);
      if (this.eventedConditions.has(id)) continue;
      this.services.warn(code, c.message);
    }
    this.eventedConditions.clear();
    for (const id of raised) this.eventedConditions.add(id);
  }

  /** Each provider condition is a Warning event once per raise (its type is the reason). */
  private eventProviderConditions(conditions: ProviderCondition[]): void {
    if (!this.services.eventsReady()) return; // sent once the Node is known
    const raised = new Set<string>();
    for (const c of conditions) {
      const id = `${c.type}\0${c.message}`;
      raised.add(id);
      if (!this.eventedProviderConditions.has(id)) this.services.warning(c.type, c.message);
    }
    this.eventedProviderConditions.clear();
    for (const id of raised) this.eventedProviderConditions.add(id);
  }

  private setReadiness(want: Readiness): void {
    const key = JSON.stringify(want);
    if (key === this.readinessKey) return;
    this.readinessKey = key;
    this.log.info({ ready: want.ready, reason: want.reason }, 'node readiness changed');
    this.services.readiness.set(want.ready, want.reason, want.message);
  }

  // ---- gone pods ---------------------------------------------------------------------------

  private releaseGoneSoon(): void {
    if (!this.hooks || this.stopper.signal.aborted) return;
    if (this.releasing) {
      this.releaseAgain = true;
      return;
    }
    this.releasing = (async () => {
      do {
        this.releaseAgain = false;
        await this.releaseGoneOnce().catch((err: unknown) => this.log.error({ err }, 'gone-pod release failed'));
      } while (this.releaseAgain && !this.stopper.signal.aborted);
    })().finally(() => (this.releasing = undefined));
  }

  private async releaseGoneOnce(): Promise<void> {
    const hooks = this.hooks;
    if (!hooks || !this.nodeVerified) return;
    const pods = this.services.pods;
    // A stale view (watch broken) lacks pods created meanwhile: wait for the relist.
    if (!pods.live) return;
    const candidates = [...hooks.pool.pool.allocations(), ...hooks.pool.status().lost];
    const gone = allocationsOfGonePods(candidates, pods, this.opts.clock.now(), this.opts.settings.goneGraceMs);
    for (const a of gone) {
      if (this.stopper.signal.aborted) return;
      // The view may have moved while earlier releases ran; a runtime command in flight wins.
      if (pods.isLive(a) || hooks.busy(a)) continue;
      try {
        await hooks.releaseAttachment({ containerId: a.containerId, ifname: a.ifname });
        this.opts.metrics.inc('vpcnet_reconcile_total', { kind: 'pods', outcome: 'released' });
        this.log.info({ pod: `${a.podNamespace}/${a.podName}`, containerId: a.containerId, ip: a.ip }, 'released address of gone pod');
      } catch (err) {
        this.opts.metrics.inc('vpcnet_reconcile_total', { kind: 'pods', outcome: 'failed' });
        this.log.warn({ pod: `${a.podNamespace}/${a.podName}`, containerId: a.containerId, err }, 'releasing address of gone pod failed');
      }
    }
  }

  /**
   * A wrong node name would make another node's (or no node's) pods look like ours and free
   * addresses of running pods: act on the pod view only once the Node is read and, where the
   * providerID format matches the cloud's instance id (AWS), names this very instance.
   */
  private verifyNode(id: NodeIdentity): void {
    const cloud = this.cloudNode;
    if (cloud && cloud.provider === 'aws' && id.cloud === 'aws' && id.instanceId !== cloud.instanceId) {
      const msg = `node ${id.nodeName} has providerID instance ${id.instanceId} but this agent runs on ${cloud.instanceId}: check the node name; addresses of gone pods are not released`;
      this.log.error({ node: id.nodeName, nodeInstance: id.instanceId, cloudInstance: cloud.instanceId }, 'node identity mismatch');
      this.services.warn('CONFIG_INVALID', msg);
      return;
    }
    this.nodeVerified = true;
    this.releaseGoneSoon();
  }

  // ---- network config ----------------------------------------------------------------------

  private onNetworkConfig(c: EffectiveNetworkConfig): void {
    if (c.source === 'missing') {
      this.services.warn('CONFIG_INVALID', `node selects NodeNetworkConfig "${c.name}", which does not exist; no new NICs until it does`);
    }
  }

  /** Waits (bounded, from start) for the first view so boot-time NICs land in the right subnet. */
  private async networkConfigForNextNic(): Promise<EffectiveNetworkConfig | undefined> {
    const nc = this.services.networkConfig;
    const known = nc.current();
    if (known) return known;
    const left = this.startedAt + this.opts.settings.networkConfigWaitMs - this.opts.clock.now();
    if (left > 0) {
      this.log.info({ waitMs: left }, 'new NIC waits for the NodeNetworkConfig view');
      await Promise.race([this.firstConfig, this.opts.clock.sleep(left, this.stopper.signal).catch(() => undefined)]);
    }
    if (this.stopper.signal.aborted) throw new VpcnetError('POOL_NOT_READY', 'agent stopping: no new NIC');
    const now = nc.current();
    if (!now) this.log.warn({}, 'NodeNetworkConfig view unknown; new NIC uses the static subnet and security groups');
    return now;
  }

  private async every(ms: number, fn: () => void): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        await this.opts.clock.sleep(ms, signal);
      } catch {
        return;
      }
      fn();
    }
  }
}

/** Node name for the Kubernetes view: the config's, else the host name (as the kubelet does). */
export function nodeNameOf(config: VpcnetConfig): string {
  return config.nodeName ?? hostname();
}
