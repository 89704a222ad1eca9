// KubeClient on @kubernetes/client-node. Each request carries a deadline so an unreachable
// API server fails a call quickly instead of holding it for minutes.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  type V1Lease,
  type V1Node,
  type V1Pod,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { of } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { VpcnetError } from '../errors.ts';
import { toK8sError } from './k8s-errors.ts';
import type {
  KubeClient,
  KubeLease,
  KubeNode,
  KubePod,
  ListOptions,
  ListResult,
  NodeCondition,
  NodeEvent,
  NodeNetworkConfig,
  Taint,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './kube-client.ts';

export const CRD_GROUP = 'vpcnet.io';
export const CRD_VERSION = 'v1alpha1';
export const CRD_PLURAL = 'nodenetworkconfigs';
const EVENT_NAMESPACE = 'default';

export interface RealKubeClientOptions {
  /** Per-request deadline. */
  requestTimeoutMs?: number;
}

/** Loads the in-cluster service account config, or a kubeconfig file/string when given. */
export function loadKubeConfig(source: { kubeconfigYaml?: string; kubeconfigPath?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfigYaml !== undefined) kc.loadFromString(source.kubeconfigYaml);
  else if (source.kubeconfigPath !== undefined) kc.loadFromFile(source.kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}

function deadline(ms: number, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const mw: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      if (contentType) ctx.setHeaderParam('Content-Type', contentType);
      return of(ctx);
    },
    post: (res) => of(res),
  };
  return { middleware: [mw], middlewareMergeStrategy: 'append' };
}

const record = (v: unknown): Record<string, string> => ({ ...((v ?? {}) as Record<string, string>) });
const rfc3339 = (v: unknown): string => (v instanceof Date ? v.toISOString().replace(/\.\d+Z$/, 'Z') : String(v ?? ''));

function podCidrsOf(n: V1Node): { podCidrs?: string[] } {
  const list = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
  return list.length ? { podCidrs: [...list] } : {};
}

export function nodeFromApi(n: V1Node): KubeNode {
  return {
    name: n.metadata?.name ?? '',
    uid: n.metadata?.uid ?? '',
    resourceVersion: n.metadata?.resourceVersion ?? '',
    ...(n.spec?.providerID ? { providerId: n.spec.providerID } : {}),
    ...podCidrsOf(n),
    labels: record(n.metadata?.labels),
    annotations: record(n.metadata?.annotations),
    taints: (n.spec?.taints ?? []).map((t) => ({
      key: t.key,
      ...(t.value !== undefined ? { value: t.value } : {}),
      effect: t.effect as Taint['effect'],
    })),
    conditions: (n.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status as NodeCondition['status'],
      reason: c.reason ?? '',
      message: c.message ?? '',
      lastTransitionTime: rfc3339(c.lastTransitionTime),
      ...(c.lastHeartbeatTime ? { lastHeartbeatTime: rfc3339(c.lastHeartbeatTime) } : {}),
    })),
  };
}

export function podFromApi(p: V1Pod): KubePod {
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    uid: p.metadata?.uid ?? '',
    resourceVersion: p.metadata?.resourceVersion ?? '',
    ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
    hostNetwork: p.spec?.hostNetwork === true,
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    annotations: record(p.metadata?.annotations),
  };
}

export function networkConfigFromApi(o: unknown): NodeNetworkConfig {
  const obj = (o ?? {}) as { metadata?: { name?: string; resourceVersion?: string }; spec?: Record<string, unknown> };
  const spec = obj.spec ?? {};
  return {
    name: obj.metadata?.name ?? '',
    resourceVersion: obj.metadata?.resourceVersion ?? '',
    spec: {
      subnetId: String(spec['subnetId'] ?? ''),
      securityGroupIds: Array.isArray(spec['securityGroupIds']) ? spec['securityGroupIds'].map(String) : [],
      ...(typeof spec['zone'] === 'string' ? { zone: spec['zone'] } : {}),
    },
  };
}

function leaseFromApi(l: V1Lease): KubeLease {
  const renew = l.spec?.renewTime as unknown;
  return {
    namespace: l.metadata?.namespace ?? '',
    name: l.metadata?.name ?? '',
    resourceVersion: l.metadata?.resourceVersion ?? '',
    holderIdentity: l.spec?.holderIdentity ?? '',
    leaseDurationSeconds: l.spec?.leaseDurationSeconds ?? 0,
    renewTime: renew instanceof Date ? renew.toISOString() : String(renew ?? ''),
  };
}

function leaseToApi(l: KubeLease): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: l.name, namespace: l.namespace, ...(l.resourceVersion ? { resourceVersion: l.resourceVersion } : {}) },
    spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds, renewTime: new Date(l.renewTime) as never },
  };
}

export class RealKubeClient implements KubeClient {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: RealKubeClientOptions = {}) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kc);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toK8sError(err, what);
    }
  }

  async getNode(name: string): Promise<KubeNode> {
    const n = await this.call('get node', () => this.core.readNode({ name }, deadline(this.timeoutMs)));
    return nodeFromApi(n);
  }

  async replaceNodeConditions(name: string, resourceVersion: string, conditions: NodeCondition[]): Promise<KubeNode> {
    const body = { metadata: { resourceVersion }, status: { conditions } };
    const n = await this.call('patch node status', () =>
      this.core.patchNodeStatus({ name, body }, deadline(this.timeoutMs, PatchStrategy.MergePatch)),
    );
    return nodeFromApi(n);
  }

  async replaceNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<KubeNode> {
    const body = { metadata: { resourceVersion }, spec: { taints: taints.length ? taints : null } };
    const n = await this.call('patch node taints', () =>
      this.core.patchNode({ name, body }, deadline(this.timeoutMs, PatchStrategy.MergePatch)),
    );
    return nodeFromApi(n);
  }

  async listPods(opts: ListOptions): Promise<ListResult<KubePod>> {
    const list = await this.call('list pods', () =>
      this.core.listPodForAllNamespaces(
        {
          ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
          ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
        },
        deadline(this.timeoutMs),
      ),
    );
    return { items: list.items.map(podFromApi), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<KubePod>) => void): Promise<WatchHandle> {
    return this.watch('/api/v1/pods', opts, (o) => podFromApi(o as V1Pod), onEvent);
  }

  async patchPodAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.call('patch pod', () =>
      this.core.patchNamespacedPod(
        { namespace, name, body: { metadata: { annotations } } },
        deadline(this.timeoutMs, PatchStrategy.MergePatch),
      ),
    );
  }

  async recordNodeEvent(e: NodeEvent): Promise<void> {
    const body = {
      metadata: { name: e.name, namespace: EVENT_NAMESPACE },
      involvedObject: { kind: 'Node', name: e.nodeName, uid: e.nodeUid, apiVersion: 'v1' },
      reason: e.reason,
      message: e.message,
      type: e.type,
      count: e.count,
      firstTimestamp: new Date(e.firstTimestamp),
      lastTimestamp: new Date(e.lastTimestamp),
      source: { component: 'vpcnet-agent', host: e.nodeName },
      reportingComponent: 'vpcnet.io/agent',
      reportingInstance: e.nodeName,
    };
    try {
      await this.call('create event', () =>
        this.core.createNamespacedEvent({ namespace: EVENT_NAMESPACE, body }, deadline(this.timeoutMs)),
      );
    } catch (err) {
      if (!(err instanceof VpcnetError && err.code === 'K8S_CONFLICT')) throw err;
      // A repeat of an event we already created: bump it in place, as the kubelet's recorder does.
      const patch = { count: e.count, message: e.message, lastTimestamp: e.lastTimestamp };
      await this.call('patch event', () =>
        this.core.patchNamespacedEvent(
          { namespace: EVENT_NAMESPACE, name: e.name, body: patch },
          deadline(this.timeoutMs, PatchStrategy.MergePatch),
        ),
      );
    }
  }

  async listNetworkConfigs(): Promise<ListResult<NodeNetworkConfig>> {
    const list = (await this.call('list nodenetworkconfigs', () =>
      this.custom.listClusterCustomObject(
        { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL },
        deadline(this.timeoutMs),
      ),
    )) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
    return {
      items: (list.items ?? []).map(networkConfigFromApi),
      resourceVersion: list.metadata?.resourceVersion ?? '',
    };
  }

  async getLease(namespace: string, name: string): Promise<KubeLease | undefined> {
    try {
      return leaseFromApi(await this.call('get lease', () => this.coordination.readNamespacedLease({ namespace, name }, deadline(this.timeoutMs))));
    } catch (err) {
      if (err instanceof VpcnetError && err.code === 'K8S_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async createLease(l: KubeLease): Promise<KubeLease> {
    const body = leaseToApi(l);
    return leaseFromApi(await this.call('create lease', () => this.coordination.createNamespacedLease({ namespace: l.namespace, body }, deadline(this.timeoutMs))));
  }

  async replaceLease(l: KubeLease): Promise<KubeLease> {
    const body = leaseToApi(l);
    return leaseFromApi(
      await this.call('replace lease', () => this.coordination.replaceNamespacedLease({ namespace: l.namespace, name: l.name, body }, deadline(this.timeoutMs))),
    );
  }

  watchNetworkConfigs(opts: WatchOptions, onEvent: (e: WatchEvent<NodeNetworkConfig>) => void): Promise<WatchHandle> {
    return this.watch(`/apis/${CRD_GROUP}/${CRD_VERSION}/${CRD_PLURAL}`, opts, networkConfigFromApi, onEvent);
  }

  private async watch<T>(
    path: string,
    opts: WatchOptions,
    convert: (o: unknown) => T,
    onEvent: (e: WatchEvent<T>) => void,
  ): Promise<WatchHandle> {
    let settle!: (err: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => {
        // The client gives up on a stream silent for 30 s; that is a quiet node, not an
        // outage: end cleanly so the caller resumes from its resourceVersion without a relist.
        if (!err || (err as { name?: unknown }).name === 'TimeoutError') resolve();
        else reject(toK8sError(err, `watch ${path}`));
      };
    });
    done.catch(() => undefined); // the caller may only look at it later
    const query = {
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowBookmarks === true,
      ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}),
    };
    const controller = await this.watcher.watch(
      path,
      query,
      (type, obj: unknown) => {
        if (type === 'BOOKMARK') {
          const rv = (obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '';
          onEvent({ type: 'BOOKMARK', resourceVersion: rv });
        } else if (type === 'ERROR') {
          const s = obj as { code?: number; message?: string };
          onEvent({ type: 'ERROR', code: s.code ?? 500, message: s.message ?? '' });
        } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          onEvent({ type, object: convert(obj) });
        }
      },
      (err: unknown) => settle(err),
    );
    return { stop: () => controller.abort(), done };
  }
}
