// KubeClient on our own HTTP transport (kube-http.ts): the dozen calls vpcnet makes, as plain
// REST paths. @kubernetes/client-node did the same in ~140 MB of loaded code; the wire format
// is the stable Kubernetes REST API, so this is the production client and client-node stays
// the test-side reference (test/support/client-node-kube-client.ts, held to one contract).
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
import { KubeHttp, type Query } from './kube-http.ts';
import {
  CRD_GROUP,
  CRD_PLURAL,
  CRD_VERSION,
  EVENT_NAMESPACE,
  eventRepeatPatch,
  eventToApi,
  leaseFromApi,
  leaseToApi,
  networkConfigFromApi,
  nodeFromApi,
  podFromApi,
  watchEventFromApi,
  type ApiLease,
  type ApiNode,
  type ApiPod,
} from './kube-objects.ts';
import type { KubeTarget } from './kubeconfig.ts';

export interface HttpKubeClientOptions {
  /** Per-request deadline. */
  requestTimeoutMs?: number;
  /** End a watch that has been silent this long (as client-node's 30 s). */
  watchIdleMs?: number;
}

const MERGE_PATCH = 'application/merge-patch+json';
const enc = encodeURIComponent;
const CRD_PATH = `/apis/${CRD_GROUP}/${CRD_VERSION}/${CRD_PLURAL}`;
const leasePath = (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`;

interface ApiList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string };
}

const selectors = (o: ListOptions): Query => ({
  ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
  ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
});

export class HttpKubeClient implements KubeClient {
  private readonly http: KubeHttp;

  constructor(target: KubeTarget, opts: HttpKubeClientOptions = {}) {
    this.http = new KubeHttp(target, { requestTimeoutMs: opts.requestTimeoutMs ?? 10_000, watchIdleMs: opts.watchIdleMs ?? 30_000 });
  }

  private async call<T>(what: string, method: string, path: string, opts: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    try {
      return await this.http.request<T>(method, path, what, opts);
    } catch (err) {
      throw toK8sError(err, what);
    }
  }

  async getNode(name: string): Promise<KubeNode> {
    return nodeFromApi(await this.call<ApiNode>('get node', 'GET', `/api/v1/nodes/${enc(name)}`));
  }

  async replaceNodeConditions(name: string, resourceVersion: string, conditions: NodeCondition[]): Promise<KubeNode> {
    const body = { metadata: { resourceVersion }, status: { conditions } };
    return nodeFromApi(await this.call<ApiNode>('patch node status', 'PATCH', `/api/v1/nodes/${enc(name)}/status`, { body, contentType: MERGE_PATCH }));
  }

  async replaceNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<KubeNode> {
    const body = { metadata: { resourceVersion }, spec: { taints: taints.length ? taints : null } };
    return nodeFromApi(await this.call<ApiNode>('patch node taints', 'PATCH', `/api/v1/nodes/${enc(name)}`, { body, contentType: MERGE_PATCH }));
  }

  async patchNodeAnnotations(name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.call('patch node', 'PATCH', `/api/v1/nodes/${enc(name)}`, { body: { metadata: { annotations } }, contentType: MERGE_PATCH });
  }

  async listPods(opts: ListOptions): Promise<ListResult<KubePod>> {
    const list = await this.call<ApiList<ApiPod>>('list pods', 'GET', '/api/v1/pods', { query: selectors(opts) });
    return { items: (list.items ?? []).map(podFromApi), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<KubePod>) => void): Promise<WatchHandle> {
    return this.watch('/api/v1/pods', opts, (o) => podFromApi(o as ApiPod), onEvent);
  }

  async patchPodAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.call('patch pod', 'PATCH', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, { body: { metadata: { annotations } }, contentType: MERGE_PATCH });
  }

  async recordNodeEvent(e: NodeEvent): Promise<void> {
    const events = `/api/v1/namespaces/${EVENT_NAMESPACE}/events`;
    try {
      await this.call('create event', 'POST', events, { body: eventToApi(e) });
    } catch (err) {
      if (!(err instanceof VpcnetError && err.code === 'K8S_CONFLICT')) throw err;
      // A repeat of an event we already created: bump it in place, as the kubelet's recorder does.
      await this.call('patch event', 'PATCH', `${events}/${enc(e.name)}`, { body: eventRepeatPatch(e), contentType: MERGE_PATCH });
    }
  }

  async listNetworkConfigs(): Promise<ListResult<NodeNetworkConfig>> {
    const list = await this.call<ApiList<unknown>>('list nodenetworkconfigs', 'GET', CRD_PATH);
    return { items: (list.items ?? []).map(networkConfigFromApi), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  watchNetworkConfigs(opts: WatchOptions, onEvent: (e: WatchEvent<NodeNetworkConfig>) => void): Promise<WatchHandle> {
    return this.watch(CRD_PATH, opts, networkConfigFromApi, onEvent);
  }

  async getLease(namespace: string, name: string): Promise<KubeLease | undefined> {
    try {
      return leaseFromApi(await this.call<ApiLease>('get lease', 'GET', `${leasePath(namespace)}/${enc(name)}`));
    } catch (err) {
      if (err instanceof VpcnetError && err.code === 'K8S_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async createLease(l: KubeLease): Promise<KubeLease> {
    return leaseFromApi(await this.call<ApiLease>('create lease', 'POST', leasePath(l.namespace), { body: leaseToApi(l) }));
  }

  async replaceLease(l: KubeLease): Promise<KubeLease> {
    return leaseFromApi(await this.call<ApiLease>('replace lease', 'PUT', `${leasePath(l.namespace)}/${enc(l.name)}`, { body: leaseToApi(l) }));
  }

  private async watch<T>(path: string, opts: WatchOptions, convert: (o: unknown) => T, onEvent: (e: WatchEvent<T>) => void): Promise<WatchHandle> {
    const query: Query = {
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowBookmarks === true,
      ...selectors(opts),
      ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}),
    };
    const stream = await this.http.watch(path, query, (line) => {
      const { type, object } = line as { type?: unknown; object?: unknown };
      const e = watchEventFromApi(type, object, convert);
      if (e) onEvent(e);
    });
    const done = stream.done.catch((err: unknown) => {
      throw toK8sError(err, `watch ${path}`);
    });
    done.catch(() => undefined); // the caller may only look at it later
    return { stop: () => stream.stop(), done };
  }
}
