// ARM JSON shapes, as in the vendor examples (../shared/cloud-payloads/azure): NICs with their
// ipConfigurations (a prefix configuration's privateIPAddress is a CIDR), subnets, VNets, VMs
// and scale-set VMs with their network profiles.
import { intToIp as formatIpv4 } from '../../../src/util/ip.ts';
import { type AzureState, configAddressText, formatCidr, type IpConfig, type Nic, type Vm } from './state.ts';

export function renderIpConfig(s: AzureState, nic: Nic, c: IpConfig): Record<string, unknown> {
  const subnet = s.subnetOf(c.subnetKey);
  return {
    name: c.name,
    id: `${nic.id}/ipConfigurations/${c.name}`,
    etag: nic.etag,
    type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
    properties: {
      provisioningState: c.state,
      privateIPAddress: configAddressText(c),
      ...(c.prefixLength !== undefined ? { privateIPAddressPrefixLength: c.prefixLength } : {}),
      privateIPAllocationMethod: c.allocation,
      subnet: { id: subnet?.id ?? '' },
      primary: c.primary,
      privateIPAddressVersion: 'IPv4',
    },
  };
}

export function renderNic(s: AzureState, nic: Nic): Record<string, unknown> {
  return {
    name: nic.name,
    id: nic.id,
    etag: nic.etag,
    location: nic.location,
    type: 'Microsoft.Network/networkInterfaces',
    properties: {
      provisioningState: nic.state,
      resourceGuid: nic.id.length.toString(16).padStart(8, '0') + '-0000-4000-8000-000000000000',
      ipConfigurations: nic.ipConfigs.map((c) => renderIpConfig(s, nic, c)),
      dnsSettings: { dnsServers: [], appliedDnsServers: [] },
      macAddress: nic.mac,
      enableAcceleratedNetworking: nic.acceleratedNetworking,
      enableIPForwarding: false,
      primary: nic.primary,
      ...(nic.vmId ? { virtualMachine: { id: nic.vmId } } : {}),
      nicType: 'Standard',
      vnetEncryptionSupported: false,
    },
  };
}

export function renderSubnet(s: AzureState, key: string): Record<string, unknown> | undefined {
  const sub = s.subnetOf(key);
  if (!sub) return undefined;
  const users = s.subnetBackReferences ? s.subnetIpConfigurationIds(key) : [];
  return {
    name: sub.name,
    id: sub.id,
    etag: 'W/"00000000-0000-0000-0000-000000000001"',
    type: 'Microsoft.Network/virtualNetworks/subnets',
    properties: {
      provisioningState: 'Succeeded',
      addressPrefix: formatCidr(sub.cidr),
      // ARM lists every ipConfiguration in the subnet by id, and leaves the field out when none.
      ...(users.length ? { ipConfigurations: users.map((id) => ({ id })) } : {}),
      privateEndpointNetworkPolicies: 'Disabled',
      privateLinkServiceNetworkPolicies: 'Enabled',
    },
  };
}

export function renderVnet(s: AzureState, rg: string, name: string): Record<string, unknown> | undefined {
  const v = s.vnets.get(`${rg}/${name}`.toLowerCase());
  if (!v) return undefined;
  const subnets = [...s.subnets.values()].filter((x) => x.rg.toLowerCase() === rg.toLowerCase() && x.vnet.toLowerCase() === name.toLowerCase());
  return {
    name: v.name,
    id: v.id,
    location: v.location,
    type: 'Microsoft.Network/virtualNetworks',
    properties: {
      provisioningState: 'Succeeded',
      addressSpace: { addressPrefixes: v.addressPrefixes },
      subnets: subnets.map((x) => renderSubnet(s, x.key)),
    },
  };
}

function networkInterfaces(vm: Vm): Array<Record<string, unknown>> {
  return vm.nicIds.map((id, i) => ({ id, properties: { primary: i === 0 } }));
}

export function renderResourceGroup(s: AzureState, rg: { name: string; location: string }): Record<string, unknown> {
  return {
    id: s.rgPrefix(rg.name),
    name: rg.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: rg.location,
    properties: { provisioningState: 'Succeeded' },
  };
}

export function renderVm(vm: Vm): Record<string, unknown> {
  return {
    name: vm.name,
    id: vm.id,
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location,
    zones: [vm.zone],
    etag: vm.etag,
    identity: { type: 'SystemAssigned', principalId: vm.principalId, tenantId: '00000000-0000-0000-0000-000000000000' },
    properties: {
      vmId: vm.vmId,
      provisioningState: vm.busyOp ? 'Updating' : 'Succeeded',
      hardwareProfile: { vmSize: vm.size },
      networkProfile: { networkInterfaces: networkInterfaces(vm) },
    },
  };
}

/** A scale-set VM: the NICs are part of the VM model (networkProfileConfiguration). */
export function renderVmssVm(s: AzureState, vm: Vm): Record<string, unknown> {
  const nics = vm.nicIds.map((id) => s.nics.get(id.toLowerCase())).filter((n): n is Nic => n !== undefined);
  return {
    name: vm.name,
    id: vm.id,
    type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
    location: vm.location,
    zones: [vm.zone],
    instanceId: vm.vmss?.instanceId ?? '',
    etag: vm.etag,
    sku: { name: vm.size, tier: 'Standard' },
    properties: {
      vmId: vm.vmId,
      latestModelApplied: true,
      provisioningState: vm.busyOp ? 'Updating' : 'Succeeded',
      hardwareProfile: { vmSize: vm.size },
      networkProfile: { networkInterfaces: networkInterfaces(vm) },
      networkProfileConfiguration: {
        networkInterfaceConfigurations: nics.map((nic) => ({
          name: nic.vmss?.configName ?? nic.name,
          properties: {
            primary: nic.primary,
            enableAcceleratedNetworking: nic.acceleratedNetworking,
            ipConfigurations: nic.ipConfigs.map((c) => ({
              name: c.name,
              properties: {
                subnet: { id: s.subnetOf(c.subnetKey)?.id ?? '' },
                primary: c.primary,
                privateIPAddressVersion: 'IPv4',
                ...(c.prefixLength !== undefined ? { privateIPAddressPrefixLength: c.prefixLength } : {}),
              },
            })),
          },
        })),
      },
    },
  };
}

/** IMDS /metadata/instance/network: all values strings, NICs in no guaranteed order, MACs without separators. */
export function renderImdsNetwork(s: AzureState, vm: Vm, order: (n: number) => number[]): Record<string, unknown> {
  const nics = vm.nicIds.map((id) => s.nics.get(id.toLowerCase())).filter((n): n is Nic => n !== undefined);
  const interfaces = nics.map((nic) => {
    const subnet = s.subnetOf(nic.ipConfigs[0]?.subnetKey ?? '');
    // IMDS lists the single addresses of configurations that are provisioned; prefixes are not shown.
    const addrs = nic.ipConfigs.filter((c) => c.prefixLength === undefined && c.state === 'Succeeded');
    return {
      ipv4: {
        ipAddress: addrs.map((c) => ({ privateIpAddress: formatIpv4(c.address), publicIpAddress: '' })),
        subnet: subnet ? [{ address: formatIpv4(subnet.cidr.base), prefix: String(subnet.cidr.prefixLength) }] : [],
      },
      ipv6: { ipAddress: [] },
      macAddress: nic.mac.replace(/-/g, ''),
    };
  });
  return { interface: order(interfaces.length).map((i) => interfaces[i]) };
}

export function renderImdsCompute(s: AzureState, vm: Vm): Record<string, unknown> {
  return {
    azEnvironment: 'AzurePublicCloud',
    location: vm.location,
    name: vm.name,
    osType: 'Linux',
    provider: 'Microsoft.Compute',
    resourceGroupName: vm.rg,
    resourceId: vm.id,
    subscriptionId: s.subscriptionId,
    vmId: vm.vmId,
    vmScaleSetName: vm.vmss?.name ?? '',
    vmSize: vm.size,
    zone: vm.zone,
    tagsList: [],
  };
}
