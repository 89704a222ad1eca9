// The Azure emulator seen by the lab: each VM's NICs with the configurations whose provisioning
// succeeded. A configuration still Updating or Failed is not routed (Azure delivers nothing to
// it), so the fabric drops what Azure would drop (registry entry `lab`).
import type { LabCloud, LabCloudNic, NodeShapes } from '../../src/lab/cloud-lab.ts';
import { intToIp as formatIpv4 } from '../../src/util/ip.ts';
import type { AzureEmulator } from './emulator/index.ts';
import { configAddressText, formatCidr } from './emulator/state.ts';
import { AZURE_MTU, azureMaxPods, knownVmSizes, MAX_IP_CONFIGS_PER_NIC, MAX_PODS_PER_NODE, vmSizeLimits } from './limits.ts';

export function labCloud(emulator: AzureEmulator): LabCloud {
  return {
    mtu: AZURE_MTU,
    onChange: (listener) => emulator.onChange(listener),
    attachedNics: (instanceId) => {
      const vm = emulator.state.vms.get(instanceId.toLowerCase()) ?? emulator.state.vmByName(instanceId);
      if (!vm) return [];
      return vm.nicIds.flatMap((id, deviceIndex): LabCloudNic[] => {
        const nic = emulator.state.nics.get(id.toLowerCase());
        const primary = nic?.ipConfigs.find((c) => c.primary);
        const subnet = primary ? emulator.state.subnetOf(primary.subnetKey) : undefined;
        if (!nic || !primary || !subnet) return [];
        return [
          {
            deviceIndex,
            mac: nic.mac.replace(/-/g, ':').toLowerCase(),
            primaryIp: formatIpv4(primary.address),
            subnetCidr: formatCidr(subnet.cidr),
            blocks: nic.ipConfigs
              .filter((c) => !c.primary && c.state === 'Succeeded')
              .map((c) => (c.prefixLength !== undefined ? { kind: 'prefix', cidr: configAddressText(c) } : { kind: 'ip', cidr: `${configAddressText(c)}/32` })),
          },
        ];
      });
    },
  };
}

/** The demo's view of VM sizes: each demo VM has one NIC, whose secondary ipConfigurations its pods take. */
export const demoNodeShapes: NodeShapes = {
  shapeOf: (size) => (vmSizeLimits(size) ? { pods: azureMaxPods(1), why: `one NIC x ${MAX_IP_CONFIGS_PER_NIC - 1} secondary ipConfigurations, capped at ${MAX_PODS_PER_NODE} pods per node` } : undefined),
  types: () => knownVmSizes(),
  typeWords: 'Azure VM size',
};
