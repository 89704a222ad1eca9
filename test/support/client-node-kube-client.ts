// KubeClient on @kubernetes/client-node: the reference the agent's own client
// (src/k8s/http-kube-client.ts) is held to in test/integration/k8s/kube-client-contract.test.ts,
// as the EC2 SDK is for our Query client. Test side only; each request carries a deadline.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  type CoreV1Event,
  type V1Lease,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { of } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { VpcnetError } from '../../src/errors.ts';
import { toK8sError } from '../../src/k8s/k8s-errors.ts';
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
} from '../../src/k8s/kube-client.ts';
import {
  CRD_GROUP,
  CRD_PLURAL,
  CRD_VERSION,
  EVENT_NAMESPACE,
  eventRepeatPatch,
  eventToApi,
  leaseFromApi,
  leaseToApi as sharedLeaseToApi,
  networkConfigFromApi,
  nodeFromApi,
  podFromApi,
  watchEventFromApi,
  type ApiPod,
} from '../../src/k8s/kube-objects.ts';

// client-node's serializer wants Date objects for times.
const leaseToApi = (l: KubeLease): V1Lease => sharedLeaseToApi(l, (iso) => new Date(iso)) as V1Lease;

export interface ClientNodeKubeClientOptions {
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

export class ClientNodeKubeClient implements KubeClient {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: ClientNodeKubeClientOptions = {}) {
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
    return this.watch('/api/v1/pods', opts, (o) => podFromApi(o as ApiPod), onEvent);
  }

  async patchNodeAnnotations(name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.call('patch node', () => this.core.patchNode({ name, body: { metadata: { annotations } } }, deadline(this.timeoutMs, PatchStrategy.MergePatch)));
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
    const body = eventToApi(e, (iso) => new Date(iso)) as unknown as CoreV1Event;
    try {
      await this.call('create event', () =>
        this.core.createNamespacedEvent({ namespace: EVENT_NAMESPACE, body }, deadline(this.timeoutMs)),
      );
    } catch (err) {
      if (!(err instanceof VpcnetError && err.code === 'K8S_CONFLICT')) throw err;
      // A repeat of an event we already created: bump it in place, as the kubelet's recorder does.
      const patch = eventRepeatPatch(e);
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
    let stopped = false;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => {
        // The client gives up on a stream silent for 30 s; that is a quiet node, not an
        // outage: end cleanly so the caller resumes from its resourceVersion without a relist.
        // stop() aborts the request, which client-node reports as an AbortError: a clean end.
        if (!err || stopped || (err as { name?: unknown }).name === 'TimeoutError') resolve();
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
        const e = watchEventFromApi(type, obj, convert);
        if (e) onEvent(e);
      },
      (err: unknown) => settle(err),
    );
    return {
      stop: () => {
        stopped = true;
        controller.abort();
      },
      done,
    };
  }
}
