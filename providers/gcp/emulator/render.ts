// Compute v1 JSON renderings, in the shapes of the vendor payloads (../shared/cloud-payloads/gce).
import { httpMessageOf } from './gce-error.ts';
import { API_BASE, regionOf, type GceState, type Instance, type Nic, type Operation, type Route, type Subnet } from './state.ts';

function projectBase(s: GceState): string {
  return `${API_BASE}/projects/${s.project}`;
}

export function renderNic(s: GceState, nic: Nic): Record<string, unknown> {
  return {
    kind: 'compute#networkInterface',
    name: nic.name,
    network: s.networkLink(nic.network),
    subnetwork: `${projectBase(s)}/regions/${nic.subnet.region}/subnetworks/${nic.subnet.name}`,
    networkIP: nic.networkIP,
    ...(nic.externalIp ? { accessConfigs: [{ kind: 'compute#accessConfig', name: 'External NAT', natIP: nic.externalIp, type: 'ONE_TO_ONE_NAT' }] } : {}),
    ...(nic.aliasIpRanges.length ? { aliasIpRanges: nic.aliasIpRanges.map((r) => ({ ...r })) } : {}),
    fingerprint: nic.fingerprint,
    stackType: 'IPV4_ONLY',
  };
}

export function renderInstance(s: GceState, inst: Instance): Record<string, unknown> {
  const zoneLink = `${projectBase(s)}/zones/${inst.zone}`;
  return {
    kind: 'compute#instance',
    id: inst.id,
    creationTimestamp: inst.creationTimestamp,
    name: inst.name,
    machineType: `${zoneLink}/machineTypes/${inst.machineType}`,
    status: inst.status,
    zone: zoneLink,
    canIpForward: inst.canIpForward,
    networkInterfaces: inst.nics.map((n) => renderNic(s, n)),
    disks: [],
    metadata: { kind: 'compute#metadata', fingerprint: 'AAAAAAAAAAA=' },
    tags: { ...(inst.tags.length ? { items: [...inst.tags] } : {}), fingerprint: 'AAAAAAAAAAA=' },
    scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
    selfLink: `${zoneLink}/instances/${inst.name}`,
  };
}

export function renderSubnet(s: GceState, sn: Subnet): Record<string, unknown> {
  return {
    kind: 'compute#subnetwork',
    id: sn.id,
    creationTimestamp: sn.creationTimestamp,
    name: sn.name,
    network: s.networkLink(sn.network),
    ipCidrRange: sn.ipCidrRange,
    gatewayAddress: sn.gatewayAddress,
    region: `${projectBase(s)}/regions/${sn.region}`,
    secondaryIpRanges: sn.secondary.map((r) => ({ rangeName: r.rangeName, ipCidrRange: r.ipCidrRange })),
    privateIpGoogleAccess: false,
    stackType: 'IPV4_ONLY',
    fingerprint: 'AAAAAAAAAAA=',
    selfLink: `${projectBase(s)}/regions/${sn.region}/subnetworks/${sn.name}`,
  };
}

export function renderRoute(s: GceState, r: Route): Record<string, unknown> {
  const warnings: Record<string, unknown>[] = [];
  if (r.nextHopInstance) {
    const inst = s.instanceByLink(r.nextHopInstance);
    if (!inst) {
      warnings.push({
        code: 'NEXT_HOP_INSTANCE_NOT_FOUND',
        message: `Next hop instance '${r.nextHopInstance}' does not exist.`,
        data: [{ key: 'instance', value: r.nextHopInstance }],
      });
    } else if (!inst.canIpForward) {
      warnings.push({
        code: 'NEXT_HOP_CANNOT_IP_FORWARD',
        message: `Next hop instance '${r.nextHopInstance}' cannot forward ip traffic. The next hop instance must have canIpForward set.`,
        data: [{ key: 'instance', value: r.nextHopInstance }],
      });
    }
  }
  return {
    kind: 'compute#route',
    id: r.id,
    creationTimestamp: r.creationTimestamp,
    name: r.name,
    ...(r.description !== undefined ? { description: r.description } : {}),
    network: s.networkLink(r.network),
    ...(r.tags.length ? { tags: r.tags } : {}),
    destRange: r.destRange,
    priority: r.priority,
    ...(r.nextHopInstance ? { nextHopInstance: r.nextHopInstance } : {}),
    ...(r.nextHopIp ? { nextHopIp: r.nextHopIp } : {}),
    ...(warnings.length ? { warnings } : {}),
    selfLink: `${projectBase(s)}/global/routes/${r.name}`,
  };
}

export function renderOperation(s: GceState, op: Operation): Record<string, unknown> {
  const base = op.zone ? `${projectBase(s)}/zones/${op.zone}` : `${projectBase(s)}/global`;
  return {
    kind: 'compute#operation',
    id: op.id,
    name: op.name,
    ...(op.zone ? { zone: `${projectBase(s)}/zones/${op.zone}` } : {}),
    operationType: op.operationType,
    targetLink: op.targetLink,
    ...(op.targetId ? { targetId: op.targetId } : {}),
    status: op.status,
    user: 'vpcnet-emulator@developer.gserviceaccount.com',
    progress: op.status === 'DONE' ? 100 : 0,
    insertTime: op.insertTime,
    ...(op.startTime ? { startTime: op.startTime } : {}),
    ...(op.endTime ? { endTime: op.endTime } : {}),
    ...(op.error
      ? {
          error: { errors: [{ code: op.error.code, message: op.error.message }] },
          httpErrorStatusCode: op.error.httpStatus,
          httpErrorMessage: httpMessageOf(op.error.httpStatus),
        }
      : {}),
    selfLink: `${base}/operations/${op.name}`,
  };
}

export { regionOf };

export function renderNetwork(s: GceState, net: { id: string; name: string; creationTimestamp: string }): Record<string, unknown> {
  const subnets = [...s.subnets.values()].filter((x) => x.network === net.name);
  return {
    kind: 'compute#network',
    id: net.id,
    creationTimestamp: net.creationTimestamp,
    name: net.name,
    selfLink: s.networkLink(net.name),
    selfLinkWithId: `${projectBase(s)}/global/networks/${net.id}`,
    autoCreateSubnetworks: false,
    subnetworks: subnets.map((x) => `${projectBase(s)}/regions/${x.region}/subnetworks/${x.name}`),
    routingConfig: { routingMode: 'REGIONAL' },
    networkFirewallPolicyEnforcementOrder: 'AFTER_CLASSIC_FIREWALL',
    mtu: 1460,
  };
}

const EPOCH = '1969-12-31T16:00:00.000-08:00'; // what GCE reports as the creationTimestamp of zones and regions

export function renderZone(s: GceState, zone: string): Record<string, unknown> {
  return {
    kind: 'compute#zone',
    id: s.stableId(`zone:${zone}`),
    creationTimestamp: EPOCH,
    name: zone,
    description: zone,
    status: 'UP',
    region: `${projectBase(s)}/regions/${regionOf(zone)}`,
    selfLink: `${projectBase(s)}/zones/${zone}`,
    availableCpuPlatforms: ['Intel Cascade Lake', 'AMD Milan'],
    supportsPzs: false,
  };
}

export function renderRegion(s: GceState, region: string): Record<string, unknown> {
  return {
    kind: 'compute#region',
    id: s.stableId(`region:${region}`),
    creationTimestamp: EPOCH,
    name: region,
    description: region,
    status: 'UP',
    zones: [...s.zones].filter((z) => regionOf(z) === region).sort().map((z) => `${projectBase(s)}/zones/${z}`),
    quotas: [],
    selfLink: `${projectBase(s)}/regions/${region}`,
    supportsPzs: false,
  };
}
