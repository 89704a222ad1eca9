// The GCE emulator seen by the lab: each instance's nic0 with its alias IP ranges and the
// routes whose next hop it is (if it may forward), as `range` blocks the fabric routes to the node (registry entry
// `lab`; src/lab/cloud-lab.ts consumes it). Instances are named zone/name.
import type { LabCloud, LabCloudNic, NodeShapes } from '../../src/lab/cloud-lab.ts';
import { GCE_NIC_MTU, maxPodsForRange } from './limits.ts';
import type { GcpEmulator } from './emulator/index.ts';

export function labCloud(emulator: GcpEmulator): LabCloud {
  return {
    mtu: GCE_NIC_MTU,
    onChange: (listener) => emulator.onChange(listener),
    attachedNics: (instanceId) => {
      const s = emulator.state;
      s.settle();
      const inst = s.instances.get(instanceId) ?? [...s.instances.values()].find((i) => i.id === instanceId || i.name === instanceId);
      if (!inst) return [];
      const link = `/zones/${inst.zone}/instances/${inst.name}`;
      // GCE delivers a route's traffic to its next hop, and lets it send from the route's
      // addresses, only when the instance has canIpForward (else NEXT_HOP_CANNOT_IP_FORWARD)
      const routed = inst.canIpForward ? [...s.routes.values()].filter((r) => r.nextHopInstance?.endsWith(link)).map((r) => ({ kind: 'range', cidr: r.destRange })) : [];
      return inst.nics.map(
        (n, i): LabCloudNic => ({
          deviceIndex: i,
          mac: n.mac,
          primaryIp: n.networkIP,
          subnetCidr: n.subnet.ipCidrRange,
          blocks: [...n.aliasIpRanges.map((r) => ({ kind: 'range', cidr: r.ipCidrRange })), ...(i === 0 ? routed : [])],
        }),
      );
    },
  };
}

/** The demo's view of GCE machine types: every node gets one /24 alias range, whatever its type. */
export const demoNodeShapes: NodeShapes = {
  shapeOf: (t) => (/^[a-z][a-z0-9]*-[a-z0-9-]+$/.test(t) ? { pods: maxPodsForRange(24), why: 'one /24 alias range per node (GKE max pods per node)' } : undefined),
  types: () => ['e2-standard-2', 'e2-standard-4', 'n2-standard-4', 'c3-standard-4', 't2a-standard-4'],
  typeWords: 'GCE machine type',
};
