// The EC2 emulator seen by the lab: attached ENIs with their secondary IPs and /28 prefixes
// (registry entry `lab`; src/lab/cloud-lab.ts consumes it).
import type { LabCloud, LabCloudNic, NodeShapes } from '../../src/lab/cloud-lab.ts';
import { AWS_NIC_MTU, INSTANCE_TYPE_LIMITS, instanceTypeLimits } from './limits.ts';
import type { AwsEmulator } from './emulator/index.ts';

export function labCloud(emulator: AwsEmulator): LabCloud {
  return {
    mtu: AWS_NIC_MTU,
    onChange: (listener) => emulator.onChange(listener),
    attachedNics: (instanceId) =>
      emulator
        .listEnis()
        .filter((e) => e.instanceId === instanceId && e.attachmentStatus === 'attached' && e.deviceIndex !== undefined)
        .map(
          (e): LabCloudNic => ({
            deviceIndex: e.deviceIndex ?? 0,
            mac: e.mac,
            primaryIp: e.primaryIp,
            subnetCidr: e.subnetCidr,
            blocks: [...e.secondaryIps.map((ip) => ({ kind: 'ip', cidr: `${ip}/32` })), ...e.prefixes.map((p) => ({ kind: 'prefix', cidr: p }))],
          }),
        ),
  };
}

/** The demo's view of EC2 instance types: how many NICs and addresses a node has. */
export const demoNodeShapes: NodeShapes = {
  shapeOf: (t) => {
    const l = instanceTypeLimits(t);
    // Routed mode: one secondary address per pod; a NIC's primary address is not handed out.
    return l && { pods: l.maxNics * (l.ipv4PerNic - 1), why: `${l.maxNics} NICs x ${l.ipv4PerNic - 1} secondary addresses`, note: "each pod takes one secondary address; a NIC's primary address is not handed out" };
  },
  types: () => INSTANCE_TYPE_LIMITS.keys(),
  typeWords: 'EC2 instance type',
};
