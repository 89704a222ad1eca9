// The Kubernetes seam: the few API calls vpcnet makes, in plain shapes. The real client is
// http-kube-client.ts (our own, on node:http/https); fake-kube-client.ts is the in-memory one;
// test/support/client-node-kube-client.ts (@kubernetes/client-node) is the tests' reference.
// Every method can fail with VpcnetError K8S_UNAVAILABLE / K8S_CONFLICT / K8S_NOT_FOUND /
// K8S_FORBIDDEN / K8S_INVALID / K8S_GONE; none is ever called on the CNI ADD path.
import type { Backoff } from '../../providers/kit/retry.ts';

/** Retry pacing of the Kubernetes loops (watch relist, node reads, readiness, annotations): full jitter, 0.5 s doubling to 30 s. */
export const KUBE_BACKOFF: Backoff = { baseMs: 500, capMs: 30_000 };

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  /** RFC 3339. */
  lastTransitionTime: string;
  lastHeartbeatTime?: string;
}

export interface KubeNode {
  name: string;
  uid: string;
  resourceVersion: string;
  providerId?: string;
  /** spec.podCIDRs (else [spec.podCIDR]): the node's pod ranges as the cluster assigned them. */
  podCidrs?: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: Taint[];
  conditions: NodeCondition[];
}

export interface KubePod {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  nodeName?: string;
  hostNetwork: boolean;
  phase?: string;
  annotations: Record<string, string>;
}

export interface NodeNetworkConfigSpec {
  /** Subnet for secondary NICs (AWS subnet-..., Azure subnet resource id, GCE subnetwork). */
  subnetId: string;
  securityGroupIds: string[];
  /** When set, nodes in this zone without an explicit selection use this config. */
  zone?: string;
}

export interface NodeNetworkConfig {
  name: string;
  resourceVersion: string;
  spec: NodeNetworkConfigSpec;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string }
  /** An in-band error; code 410 means the resourceVersion is too old: relist. */
  | { type: 'ERROR'; code: number; message: string };

export interface WatchHandle {
  /** Ends the stream; `done` then resolves. */
  stop(): void;
  /** Settles when the stream ends: resolves on a clean close, rejects on a broken connection. */
  done: Promise<void>;
}

export interface ListOptions {
  fieldSelector?: string;
  labelSelector?: string;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  allowBookmarks?: boolean;
  /** Ask the server to close the stream after this long, so a stale connection cannot linger. */
  timeoutSeconds?: number;
}

export interface NodeEvent {
  /** Node the event is about (events live in the "default" namespace, as the kubelet's do). */
  nodeName: string;
  nodeUid: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  count: number;
  /** RFC 3339. */
  firstTimestamp: string;
  lastTimestamp: string;
  /** Stable name so a repeat can be recognised. */
  name: string;
}

/** A coordination.k8s.io/v1 Lease, as far as vpcnet uses one (one holder at a time). */
export interface KubeLease {
  namespace: string;
  name: string;
  /** Empty when creating. */
  resourceVersion: string;
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** RFC 3339 with microseconds (MicroTime), or ISO. */
  renewTime: string;
}

export interface KubeClient {
  getNode(name: string): Promise<KubeNode>;
  /**
   * Replaces the node's status.conditions with `conditions` if the node is still at
   * `resourceVersion` (a merge patch replaces lists, so a stale read would drop others'
   * conditions; 409 K8S_CONFLICT tells the caller to re-read).
   */
  replaceNodeConditions(name: string, resourceVersion: string, conditions: NodeCondition[]): Promise<KubeNode>;
  /** Same contract for spec.taints. */
  replaceNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<KubeNode>;
  listPods(opts: ListOptions): Promise<ListResult<KubePod>>;
  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<KubePod>) => void): Promise<WatchHandle>;
  /** Merge-patches annotations on a node (null removes a key). */
  patchNodeAnnotations(name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Merge-patches annotations on a pod (null removes a key). */
  patchPodAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Creates the event, or updates count/message/lastTimestamp when one with the same name exists. */
  recordNodeEvent(event: NodeEvent): Promise<void>;
  listNetworkConfigs(): Promise<ListResult<NodeNetworkConfig>>;
  watchNetworkConfigs(opts: WatchOptions, onEvent: (e: WatchEvent<NodeNetworkConfig>) => void): Promise<WatchHandle>;
  /** The lease, or undefined when it does not exist. */
  getLease(namespace: string, name: string): Promise<KubeLease | undefined>;
  /** Creates the lease (K8S_CONFLICT when another agent created it first). */
  createLease(lease: KubeLease): Promise<KubeLease>;
  /** Replaces the lease if it is still at lease.resourceVersion (else K8S_CONFLICT). */
  replaceLease(lease: KubeLease): Promise<KubeLease>;
}
