// The EC2 emulator seen by the lab: attached ENIs with their secondary IPs and /28 prefixes
// (registry entry `lab`; src/lab/cloud-lab.ts consumes it).
import type { LabCloud, LabCloudNic } from '../../src/lab/cloud-lab.ts';
import { AWS_NIC_MTU } from './limits.ts';
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
