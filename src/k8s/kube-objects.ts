// Kubernetes API objects (JSON as the API server sends it) to and from the seam's plain shapes.
// Only the fields vpcnet reads are typed; everything else passes through untouched.
import type { KubeLease, KubeNode, KubePod, NodeCondition, NodeEvent, NodeNetworkConfig, Taint, WatchEvent } from './kube-client.ts';

export const CRD_GROUP = 'vpcnet.io';
export const CRD_VERSION = 'v1alpha1';
export const CRD_PLURAL = 'nodenetworkconfigs';
/** Node events live in "default", as the kubelet's do. */
export const EVENT_NAMESPACE = 'default';

interface ApiMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ApiNode {
  metadata?: ApiMeta;
  spec?: { providerID?: string; podCIDR?: string; podCIDRs?: string[]; taints?: { key: string; value?: string; effect: string }[] };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: unknown; lastHeartbeatTime?: unknown }[];
  };
}

export interface ApiPod {
  metadata?: ApiMeta;
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { phase?: string };
}

export interface ApiLease {
  metadata?: ApiMeta;
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: unknown };
}

const record = (v: unknown): Record<string, string> => ({ ...((v ?? {}) as Record<string, string>) });
// Times arrive as strings on the wire and as Date from @kubernetes/client-node (test side).
const rfc3339 = (v: unknown): string => (v instanceof Date ? v.toISOString().replace(/\.\d+Z$/, 'Z') : String(v ?? ''));

function podCidrsOf(n: ApiNode): { podCidrs?: string[] } {
  const list = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
  return list.length ? { podCidrs: [...list] } : {};
}

export function nodeFromApi(n: ApiNode): KubeNode {
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

export function podFromApi(p: ApiPod): KubePod {
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
  const obj = (o ?? {}) as { metadata?: ApiMeta; spec?: Record<string, unknown> };
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

export function leaseFromApi(l: ApiLease): KubeLease {
  const renew = l.spec?.renewTime;
  const ms = renew instanceof Date ? renew.getTime() : Date.parse(String(renew ?? ''));
  return {
    namespace: l.metadata?.namespace ?? '',
    name: l.metadata?.name ?? '',
    resourceVersion: l.metadata?.resourceVersion ?? '',
    holderIdentity: l.spec?.holderIdentity ?? '',
    leaseDurationSeconds: l.spec?.leaseDurationSeconds ?? 0,
    renewTime: Number.isFinite(ms) ? new Date(ms).toISOString() : String(renew ?? ''),
  };
}

/** MicroTime as the API server writes it (RFC 3339, six fractional digits). */
export const microTime = (iso: string): string => new Date(iso).toISOString().replace(/Z$/, '000Z');

/** `time`: how renewTime is written (client-node, test side, wants a Date). */
export function leaseToApi(l: KubeLease, time: (iso: string) => unknown = microTime): ApiLease & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: l.name, namespace: l.namespace, ...(l.resourceVersion ? { resourceVersion: l.resourceVersion } : {}) },
    spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds, renewTime: time(l.renewTime) },
  };
}

/** A core/v1 Event about the node, as the kubelet's recorder writes one (`time` as for leases). */
export function eventToApi(e: NodeEvent, time: (iso: string) => unknown = (iso) => iso): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: EVENT_NAMESPACE },
    involvedObject: { kind: 'Node', name: e.nodeName, uid: e.nodeUid, apiVersion: 'v1' },
    reason: e.reason,
    message: e.message,
    type: e.type,
    count: e.count,
    firstTimestamp: time(e.firstTimestamp),
    lastTimestamp: time(e.lastTimestamp),
    source: { component: 'vpcnet-agent', host: e.nodeName },
    reportingComponent: 'vpcnet.io/agent',
    reportingInstance: e.nodeName,
  };
}

/** The merge patch that bumps a repeated event in place. */
export const eventRepeatPatch = (e: NodeEvent): Record<string, unknown> => ({ count: e.count, message: e.message, lastTimestamp: e.lastTimestamp });

/** One line of a watch stream ({type, object}); undefined for a type the seam does not know. */
export function watchEventFromApi<T>(type: unknown, object: unknown, convert: (o: unknown) => T): WatchEvent<T> | undefined {
  if (type === 'BOOKMARK') return { type, resourceVersion: (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion ?? '' };
  if (type === 'ERROR') {
    const s = (object ?? {}) as { code?: number; message?: string };
    return { type, code: s.code ?? 500, message: s.message ?? '' };
  }
  if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') return { type, object: convert(object) };
  return undefined;
}
