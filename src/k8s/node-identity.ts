// Who this node is in the cloud, from its Node object's spec.providerID.
import { VpcnetError } from '../errors.ts';
import type { KubeClient, KubeNode } from './kube-client.ts';

export type CloudName = 'aws' | 'azure' | 'gcp';

export interface ProviderId {
  cloud: CloudName;
  /** AWS i-..., Azure VM name (or "<scale set>_<index>"), GCE instance name. */
  instanceId: string;
  zone?: string;
  /** Azure resource id of the VM; GCE project. */
  resourceId?: string;
  project?: string;
}

export interface NodeIdentity extends ProviderId {
  nodeName: string;
  nodeUid: string;
  providerIdRaw: string;
  labels: Record<string, string>;
}

const AWS = /^aws:\/\/\/([a-z0-9-]*)\/(i-[0-9a-f]{8,17})$/;
const AWS_FARGATE_OR_SHORT = /^aws:\/\/\/(i-[0-9a-f]{8,17})$/;
const GCE = /^gce:\/\/([a-z0-9-:.]+)\/([a-z0-9-]+)\/([a-z0-9-]+)$/;
const AZURE_VM = /^azure:\/\/(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+))$/i;
const AZURE_VMSS =
  /^azure:\/\/(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)\/virtualMachines\/(\d+))$/i;

/** Parses the three providerID forms; anything else is CONFIG_INVALID. */
export function parseProviderId(raw: string): ProviderId {
  let m = AWS.exec(raw);
  if (m) return { cloud: 'aws', instanceId: m[2] as string, ...(m[1] ? { zone: m[1] } : {}) };
  m = AWS_FARGATE_OR_SHORT.exec(raw);
  if (m) return { cloud: 'aws', instanceId: m[1] as string };
  m = GCE.exec(raw);
  if (m) return { cloud: 'gcp', project: m[1] as string, zone: m[2] as string, instanceId: m[3] as string };
  m = AZURE_VMSS.exec(raw);
  if (m) return { cloud: 'azure', resourceId: m[1] as string, instanceId: `${m[2] as string}_${m[3] as string}` };
  m = AZURE_VM.exec(raw);
  if (m) return { cloud: 'azure', resourceId: m[1] as string, instanceId: m[2] as string };
  throw new VpcnetError('CONFIG_INVALID', 'unrecognised node providerID', { details: { providerId: raw } });
}

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export function identityOf(node: KubeNode): NodeIdentity {
  if (!node.providerId) {
    throw new VpcnetError('CONFIG_INVALID', 'node has no spec.providerID yet', { details: { node: node.name } });
  }
  const parsed = parseProviderId(node.providerId);
  const zone = parsed.zone ?? node.labels[ZONE_LABEL];
  return {
    ...parsed,
    ...(zone ? { zone } : {}),
    nodeName: node.name,
    nodeUid: node.uid,
    providerIdRaw: node.providerId,
    labels: node.labels,
  };
}

/** Reads the Node and returns its cloud identity. */
export async function getNodeIdentity(client: KubeClient, nodeName: string): Promise<NodeIdentity> {
  return identityOf(await client.getNode(nodeName));
}
