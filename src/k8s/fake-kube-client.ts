// In-memory KubeClient for unit tests of code that uses the seam (the agent, the reconciler).
// Keeps resourceVersions, rejects stale writes with K8S_CONFLICT, streams watch events, and
// can be switched "down" so every call fails with K8S_UNAVAILABLE and open watches break.
import { VpcnetError } from '../errors.ts';
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

interface OpenWatch {
  kind: 'pod' | 'config';
  nodeName?: string;
  onEvent: (e: WatchEvent<never>) => void;
  end: (err?: unknown) => void;
}

const nodeNameOf = (sel?: string): string | undefined => /spec\.nodeName=([^,]+)/.exec(sel ?? '')?.[1];

export class FakeKubeClient implements KubeClient {
  readonly nodes = new Map<string, KubeNode>();
  readonly pods = new Map<string, KubePod>();
  readonly configs = new Map<string, NodeNetworkConfig>();
  readonly events = new Map<string, NodeEvent>();
  private rv = 1;
  private downValue = false;
  private readonly watches = new Set<OpenWatch>();
  calls = 0;

  setDown(down: boolean): void {
    this.downValue = down;
    if (down) for (const w of this.watches) w.end(new VpcnetError('K8S_UNAVAILABLE', 'connection reset'));
  }

  private check(): void {
    this.calls++;
    if (this.downValue) throw new VpcnetError('K8S_UNAVAILABLE', 'API server unavailable');
  }

  private nextRv(): string {
    return String(++this.rv);
  }

  // ---- test helpers ----

  putNode(node: Omit<KubeNode, 'resourceVersion'>): KubeNode {
    const n = { ...structuredClone(node), resourceVersion: this.nextRv() };
    this.nodes.set(n.name, n);
    return n;
  }

  putPod(pod: Omit<KubePod, 'resourceVersion'>): KubePod {
    const key = `${pod.namespace}/${pod.name}`;
    const type = this.pods.has(key) ? 'MODIFIED' : 'ADDED';
    const p = { ...structuredClone(pod), resourceVersion: this.nextRv() };
    this.pods.set(key, p);
    this.broadcast('pod', { type, object: p }, p.nodeName);
    return p;
  }

  deletePod(namespace: string, name: string): void {
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) return;
    this.pods.delete(`${namespace}/${name}`);
    this.broadcast('pod', { type: 'DELETED', object: { ...p, resourceVersion: this.nextRv() } }, p.nodeName);
  }

  putConfig(config: Omit<NodeNetworkConfig, 'resourceVersion'>): void {
    const type = this.configs.has(config.name) ? 'MODIFIED' : 'ADDED';
    const c = { ...structuredClone(config), resourceVersion: this.nextRv() };
    this.configs.set(c.name, c);
    this.broadcast('config', { type, object: c });
  }

  private broadcast(kind: 'pod' | 'config', e: WatchEvent<KubePod> | WatchEvent<NodeNetworkConfig>, nodeName?: string): void {
    for (const w of this.watches) {
      if (w.kind !== kind || (kind === 'pod' && w.nodeName !== undefined && w.nodeName !== nodeName)) continue;
      w.onEvent(e as WatchEvent<never>);
    }
  }

  // ---- KubeClient ----

  async getNode(name: string): Promise<KubeNode> {
    this.check();
    const n = this.nodes.get(name);
    if (!n) throw new VpcnetError('K8S_NOT_FOUND', 'node not found', { details: { name } });
    return structuredClone(n);
  }

  private updateNode(name: string, resourceVersion: string, change: (n: KubeNode) => void): KubeNode {
    const n = this.nodes.get(name);
    if (!n) throw new VpcnetError('K8S_NOT_FOUND', 'node not found', { details: { name } });
    if (n.resourceVersion !== resourceVersion) throw new VpcnetError('K8S_CONFLICT', 'node modified', { retryable: true });
    change(n);
    n.resourceVersion = this.nextRv();
    return structuredClone(n);
  }

  async replaceNodeConditions(name: string, resourceVersion: string, conditions: NodeCondition[]): Promise<KubeNode> {
    this.check();
    return this.updateNode(name, resourceVersion, (n) => (n.conditions = structuredClone(conditions)));
  }

  async replaceNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<KubeNode> {
    this.check();
    return this.updateNode(name, resourceVersion, (n) => (n.taints = structuredClone(taints)));
  }

  async patchNodeAnnotations(name: string, annotations: Record<string, string | null>): Promise<void> {
    this.check();
    const n = this.nodes.get(name);
    if (!n) throw new VpcnetError('K8S_NOT_FOUND', 'node not found', { details: { name } });
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete n.annotations[k];
      else n.annotations[k] = v;
    }
    n.resourceVersion = this.nextRv();
  }

  async listPods(opts: ListOptions): Promise<ListResult<KubePod>> {
    this.check();
    const node = nodeNameOf(opts.fieldSelector);
    const items = [...this.pods.values()].filter((p) => node === undefined || p.nodeName === node);
    return { items: structuredClone(items), resourceVersion: String(this.rv) };
  }

  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<KubePod>) => void): Promise<WatchHandle> {
    const node = nodeNameOf(opts.fieldSelector);
    return this.openWatch({ kind: 'pod', ...(node ? { nodeName: node } : {}) }, onEvent as (e: WatchEvent<never>) => void);
  }

  async patchPodAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    this.check();
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw new VpcnetError('K8S_NOT_FOUND', 'pod not found', { details: { namespace, name } });
    const next = { ...p.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.putPod({ ...p, annotations: next });
  }

  readonly leases = new Map<string, KubeLease>();

  async getLease(namespace: string, name: string): Promise<KubeLease | undefined> {
    this.check();
    const l = this.leases.get(`${namespace}/${name}`);
    return l ? { ...l } : undefined;
  }

  async createLease(lease: KubeLease): Promise<KubeLease> {
    this.check();
    const key = `${lease.namespace}/${lease.name}`;
    if (this.leases.has(key)) throw new VpcnetError('K8S_CONFLICT', 'lease exists', { retryable: true });
    const stored = { ...lease, resourceVersion: this.nextRv() };
    this.leases.set(key, stored);
    return { ...stored };
  }

  async replaceLease(lease: KubeLease): Promise<KubeLease> {
    this.check();
    const key = `${lease.namespace}/${lease.name}`;
    const cur = this.leases.get(key);
    if (!cur) throw new VpcnetError('K8S_NOT_FOUND', 'lease not found', { details: { name: lease.name } });
    if (cur.resourceVersion !== lease.resourceVersion) throw new VpcnetError('K8S_CONFLICT', 'lease modified', { retryable: true });
    const stored = { ...lease, resourceVersion: this.nextRv() };
    this.leases.set(key, stored);
    return { ...stored };
  }

  async recordNodeEvent(event: NodeEvent): Promise<void> {
    this.check();
    this.events.set(event.name, structuredClone(event));
  }

  async listNetworkConfigs(): Promise<ListResult<NodeNetworkConfig>> {
    this.check();
    return { items: structuredClone([...this.configs.values()]), resourceVersion: String(this.rv) };
  }

  watchNetworkConfigs(_opts: WatchOptions, onEvent: (e: WatchEvent<NodeNetworkConfig>) => void): Promise<WatchHandle> {
    return this.openWatch({ kind: 'config' }, onEvent as (e: WatchEvent<never>) => void);
  }

  private async openWatch(w: Pick<OpenWatch, 'kind' | 'nodeName'>, onEvent: (e: WatchEvent<never>) => void): Promise<WatchHandle> {
    this.check();
    let end!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      end = (err) => {
        this.watches.delete(open);
        if (err) reject(err);
        else resolve();
      };
    });
    done.catch(() => undefined);
    const open: OpenWatch = { ...w, onEvent, end };
    this.watches.add(open);
    return { stop: () => end(), done };
  }
}
