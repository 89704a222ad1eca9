// The IAM permissions each Compute call of the provider needs; deploy/iam/gcp-role.yaml holds
// exactly their union (a test keeps the two equal).
export const GCE_CALL_PERMISSIONS: Record<string, { mode: 'alias-ip' | 'route' | 'both'; permissions: string[] }> = {
  'instances.get': { mode: 'both', permissions: ['compute.instances.get'] },
  'subnetworks.get': { mode: 'both', permissions: ['compute.subnetworks.get'] },
  // alias ranges from a subnet's secondary range also "use" the subnetwork
  'instances.updateNetworkInterface': { mode: 'alias-ip', permissions: ['compute.instances.updateNetworkInterface', 'compute.subnetworks.use'] },
  'zoneOperations.wait': { mode: 'alias-ip', permissions: ['compute.zoneOperations.get'] },
  // a route names the network and the instance it forwards to
  'routes.insert': { mode: 'route', permissions: ['compute.routes.create', 'compute.networks.updatePolicy', 'compute.instances.use'] },
  'routes.get': { mode: 'route', permissions: ['compute.routes.get'] },
  'routes.list': { mode: 'route', permissions: ['compute.routes.list'] },
  'routes.delete': { mode: 'route', permissions: ['compute.routes.delete', 'compute.networks.updatePolicy'] },
  'globalOperations.wait': { mode: 'route', permissions: ['compute.globalOperations.get'] },
};

export function permissionsFor(mode: 'alias-ip' | 'route' | 'all'): string[] {
  const out = new Set<string>();
  for (const c of Object.values(GCE_CALL_PERMISSIONS)) if (mode === 'all' || c.mode === 'both' || c.mode === mode) for (const p of c.permissions) out.add(p);
  return [...out].sort();
}
