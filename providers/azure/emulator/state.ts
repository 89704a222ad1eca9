// The emulated subscription: VNets and subnets (finite, fragmenting address spaces), NICs with
// ipConfigurations, VMs and scale-set VMs, and long-running operations. One writer per NIC at a
// time (409 AnotherOperationInProgress), etags on every change, limits per VM size.
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../src/util/clock.ts';
import { intToIp as formatIpv4, tryParseCidr as parseCidr, tryParseIpv4 as parseIpv4, type Cidr } from '../../../src/util/ip.ts';
// The shared allocator; Azure reserves five addresses per subnet: network, gateway, two DNS, broadcast.
import { AddressSpace, type Pick } from '../../kit/allocator.ts';
import { MAX_IP_CONFIGS_PER_NIC, MAX_PRIVATE_IPS_PER_VM, PREFIX_LENGTH, vmSizeLimits } from '../limits.ts';
import { ArmError, notFound } from './arm-error.ts';

export type ProvisioningState = 'Succeeded' | 'Updating' | 'Failed' | 'Deleting';

export interface IpConfig {
  name: string;
  /** First address (a prefix config: its base). */
  address: number;
  /** Set for an IP prefix configuration (28). */
  prefixLength?: number;
  allocation: 'Dynamic' | 'Static';
  subnetKey: string;
  primary: boolean;
  state: ProvisioningState;
}

export interface Nic {
  name: string;
  rg: string;
  id: string;
  location: string;
  /** ARM format 00-0D-3A-XX-XX-XX. */
  mac: string;
  etag: string;
  state: ProvisioningState;
  ipConfigs: IpConfig[];
  vmId?: string;
  primary: boolean;
  /** Set when the NIC belongs to a scale-set VM: written only through the VM. */
  vmss?: { name: string; instanceId: string; configName: string };
  busyOp?: string;
  acceleratedNetworking: boolean;
}

export interface Vm {
  name: string;
  rg: string;
  /** ARM resource id. */
  id: string;
  vmId: string;
  size: string;
  location: string;
  zone: string;
  nicIds: string[];
  vmss?: { name: string; instanceId: string };
  etag: string;
  busyOp?: string;
  principalId: string;
}

export interface Subnet {
  key: string;
  id: string;
  vnet: string;
  name: string;
  rg: string;
  cidr: Cidr;
  space: AddressSpace;
}

export interface Vnet {
  name: string;
  rg: string;
  id: string;
  location: string;
  addressPrefixes: string[];
}

export interface Operation {
  id: string;
  provider: 'Microsoft.Network' | 'Microsoft.Compute';
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

/** Change events drive the lab fabric: which NIC owns which address, and whether it is usable. */
export interface ChangeEvent {
  kind: 'nic-updated' | 'nic-deleted';
  nicId: string;
}

/** A requested ipConfiguration in a PUT (NIC or scale-set VM network profile). */
export interface WantedConfig {
  name: string;
  privateIPAddress?: string;
  prefixLength?: number;
  allocation?: 'Dynamic' | 'Static';
  subnetId?: string;
  primary?: boolean;
}

export interface StateOptions {
  clock: Clock;
  subscriptionId: string;
  tenantId: string;
  random: () => number;
  pick?: Pick;
  /** How long an accepted write stays InProgress (ms of the clock). */
  operationMs: number;
}

export interface CreateVmInput {
  name: string;
  rg: string;
  size: string;
  zone?: string;
  location?: string;
  subnetKey: string;
  /** NICs, the primary first (each gets its primary address). */
  nics?: number;
  scaleSet?: { name: string; instanceId: string };
  /** NIC limit of a size the table does not know (ARM knows every size; vpcnet's table only some). */
  maxNics?: number;
}

const lower = (s: string): string => s.toLowerCase();

export class AzureState {
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly events = new EventEmitter();
  readonly vnets = new Map<string, Vnet>();
  readonly subnets = new Map<string, Subnet>();
  readonly nics = new Map<string, Nic>();
  readonly vms = new Map<string, Vm>();
  readonly operations = new Map<string, Operation>();
  /** Resource groups that hold something (lower-case name -> name as first written, location). */
  readonly resourceGroups = new Map<string, { name: string; location: string }>();
  /**
   * Subnets (and the subnets in a VNet) list the ipConfigurations that use them, as ARM does.
   * Each such GET then grows with the subnet: at thousands of NICs a scale run may turn it off.
   */
  subnetBackReferences = true;
  /** Per subnet: the ipConfiguration ids that use it (ARM's subnet `ipConfigurations` back references). */
  private readonly subnetUsers = new Map<string, Set<string>>();
  /** Injected: the next operations on these NICs end Failed (their new configs Failed). */
  readonly failNextProvisioning = new Map<string, number>();
  operationMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly pick: Pick;
  private macCounter = 0;

  constructor(opts: StateOptions) {
    this.clock = opts.clock;
    this.subscriptionId = opts.subscriptionId;
    this.tenantId = opts.tenantId;
    this.random = opts.random;
    this.pick = opts.pick ?? 'lowest';
    this.operationMs = opts.operationMs;
  }

  // ---- ids ----
  rgPrefix(rg: string): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${rg}`;
  }
  subnetKey(rg: string, vnet: string, subnet: string): string {
    return lower(`${rg}/${vnet}/${subnet}`);
  }
  subnetKeyOfId(id: string): string | undefined {
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i.exec(id);
    return m ? this.subnetKey(m[1] as string, m[2] as string, m[3] as string) : undefined;
  }
  static nicKey(id: string): string {
    return lower(id);
  }

  // ---- set-up ----
  addVnet(rg: string, name: string, location: string, addressPrefixes: string[]): Vnet {
    this.addResourceGroup(rg, location);
    const v: Vnet = { name, rg, location, addressPrefixes, id: `${this.rgPrefix(rg)}/providers/Microsoft.Network/virtualNetworks/${name}` };
    this.vnets.set(lower(`${rg}/${name}`), v);
    return v;
  }

  addSubnet(rg: string, vnet: string, name: string, prefix: string): Subnet {
    const cidr = parseCidr(prefix);
    if (!cidr) throw new ArmError(400, 'InvalidAddressPrefixFormat', `Address prefix ${prefix} has an invalid format.`);
    const key = this.subnetKey(rg, vnet, name);
    const s: Subnet = {
      key,
      vnet,
      name,
      rg,
      cidr,
      space: new AddressSpace({ base: cidr.base, prefixLength: cidr.prefixLength }, { reservedHead: 4, reservedTail: 1, pick: this.pick, random: this.random }),
      id: `${this.rgPrefix(rg)}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${name}`,
    };
    this.subnets.set(key, s);
    return s;
  }

  addResourceGroup(rg: string, location: string): void {
    if (!this.resourceGroups.has(lower(rg))) this.resourceGroups.set(lower(rg), { name: rg, location });
  }

  hasResourceGroup(rg: string): boolean {
    return this.resourceGroups.has(lower(rg));
  }

  /** ipConfiguration ids of the NICs in a subnet, in the order they were made. */
  subnetIpConfigurationIds(key: string): string[] {
    return [...(this.subnetUsers.get(key) ?? [])];
  }

  createVm(input: CreateVmInput): Vm {
    const limits = vmSizeLimits(input.size) ?? (input.maxNics ? { size: input.size, maxNics: input.maxNics, vcpus: 2 } : undefined);
    if (!limits) throw new ArmError(400, 'InvalidParameter', `The value ${input.size} provided for the VM size is not valid.`);
    const nicCount = input.nics ?? 1;
    if (nicCount > limits.maxNics) {
      throw new ArmError(400, 'NetworkInterfaceCountExceeded', `The number of network interfaces (${nicCount}) exceeds the maximum allowed for the VM size ${input.size} (${limits.maxNics}).`);
    }
    const subnet = this.subnets.get(input.subnetKey);
    if (!subnet) throw notFound('Microsoft.Network/virtualNetworks/subnets', input.subnetKey, input.rg);
    const vnet = this.vnets.get(lower(`${subnet.rg}/${subnet.vnet}`));
    const location = input.location ?? vnet?.location ?? 'eastus';
    this.addResourceGroup(input.rg, location);
    const vmName = input.scaleSet ? `${input.scaleSet.name}_${input.scaleSet.instanceId}` : input.name;
    const id = input.scaleSet
      ? `${this.rgPrefix(input.rg)}/providers/Microsoft.Compute/virtualMachineScaleSets/${input.scaleSet.name}/virtualMachines/${input.scaleSet.instanceId}`
      : `${this.rgPrefix(input.rg)}/providers/Microsoft.Compute/virtualMachines/${input.name}`;
    const vm: Vm = {
      name: vmName,
      rg: input.rg,
      id,
      vmId: randomUUID(),
      size: limits.size,
      location,
      zone: input.zone ?? '1',
      nicIds: [],
      etag: newEtag(),
      principalId: stableUuid(`${this.subscriptionId}/${id}`),
      ...(input.scaleSet ? { vmss: { ...input.scaleSet } } : {}),
    };
    const addrs = subnet.space.allocate(nicCount);
    if (!addrs) throw new ArmError(400, 'SubnetIsFull', `Subnet ${subnet.name} with address prefix ${formatCidr(subnet.cidr)} does not have enough capacity for ${nicCount} IP addresses.`);
    addrs.forEach((addr, i) => {
      const nicName = input.scaleSet ? `${input.scaleSet.name}-nic${i}` : `${input.name}-nic${i}`;
      const nicId = input.scaleSet ? `${id}/networkInterfaces/${nicName}` : `${this.rgPrefix(input.rg)}/providers/Microsoft.Network/networkInterfaces/${nicName}`;
      const nic: Nic = {
        name: nicName,
        rg: input.rg,
        id: nicId,
        location,
        mac: this.nextMac(),
        etag: newEtag(),
        state: 'Succeeded',
        ipConfigs: [{ name: 'ipconfig1', address: addr, allocation: 'Dynamic', subnetKey: subnet.key, primary: true, state: 'Succeeded' }],
        vmId: id,
        primary: i === 0,
        acceleratedNetworking: true,
        ...(input.scaleSet ? { vmss: { name: input.scaleSet.name, instanceId: input.scaleSet.instanceId, configName: nicName } } : {}),
      };
      this.nics.set(AzureState.nicKey(nicId), nic);
      this.indexNic(nic, true);
      vm.nicIds.push(nicId);
    });
    this.vms.set(lower(id), vm);
    for (const n of vm.nicIds) this.emit({ kind: 'nic-updated', nicId: n });
    return vm;
  }

  /** Deletes a VM and its NICs (a terminated node). */
  deleteVm(id: string): void {
    const vm = this.vms.get(lower(id));
    if (!vm) return;
    for (const nicId of vm.nicIds) {
      const nic = this.nics.get(AzureState.nicKey(nicId));
      if (!nic) continue;
      for (const c of nic.ipConfigs) this.freeConfig(c);
      this.indexNic(nic, false);
      this.nics.delete(AzureState.nicKey(nicId));
      this.emit({ kind: 'nic-deleted', nicId });
    }
    this.vms.delete(lower(id));
  }

  // ---- reads ----
  getNic(id: string): Nic {
    const nic = this.nics.get(AzureState.nicKey(id));
    if (!nic) throw notFound('Microsoft.Network/networkInterfaces', id.split('/').pop() ?? id, id.split('/')[4] ?? '');
    return nic;
  }
  getVm(id: string): Vm {
    const vm = this.vms.get(lower(id));
    if (!vm) throw notFound('Microsoft.Compute/virtualMachines', id.split('/').pop() ?? id, id.split('/')[4] ?? '');
    return vm;
  }
  vmByName(name: string): Vm | undefined {
    for (const vm of this.vms.values()) if (lower(vm.name) === lower(name)) return vm;
    return undefined;
  }
  subnetOf(key: string): Subnet | undefined {
    return this.subnets.get(key);
  }

  // ---- writes ----
  /**
   * Replaces a NIC's ipConfigurations with `wanted` (a NIC PUT, or a scale-set VM update):
   * kept names keep their address, missing ones are freed, new ones get addresses now and
   * finish provisioning when the returned operation does. All or nothing.
   */
  updateNicConfigs(nic: Nic, wanted: WantedConfig[], opts: { ifMatch?: string; via: 'nic' | 'vmss' }): Operation {
    if (opts.via === 'nic' && nic.vmss) {
      throw new ArmError(400, 'OperationNotAllowed', `Network interface ${nic.name} belongs to virtual machine scale set ${nic.vmss.name}; update it through the scale set VM.`);
    }
    if (opts.ifMatch !== undefined && opts.ifMatch !== '*' && opts.ifMatch !== nic.etag) {
      throw new ArmError(412, 'PreconditionFailed', `The condition specified using HTTP conditional header(s) is not met. Current etag of ${nic.name} is ${nic.etag}.`);
    }
    if (nic.busyOp) {
      throw new ArmError(409, 'AnotherOperationInProgress', `Another operation on this or dependent resource is in progress. To retry later, specify the operation id ${nic.busyOp}.`);
    }
    const vm = nic.vmId ? this.vms.get(lower(nic.vmId)) : undefined;
    if (vm?.busyOp && opts.via === 'nic') {
      throw new ArmError(409, 'AnotherOperationInProgress', `Another operation on this or dependent resource is in progress (virtual machine ${vm.name}).`);
    }
    if (wanted.length === 0) throw new ArmError(400, 'NetworkInterfaceMustHaveAtLeastOneIpConfiguration', `Network interface ${nic.name} must have at least one IP configuration.`);
    const names = new Set<string>();
    for (const w of wanted) {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,79}$/.test(w.name)) throw new ArmError(400, 'InvalidResourceName', `Resource name ${w.name} is invalid.`);
      if (names.has(lower(w.name))) throw new ArmError(400, 'DuplicateResourceName', `Network interface ${nic.name} has two IP configurations named ${w.name}.`);
      names.add(lower(w.name));
    }
    const primaries = wanted.filter((w) => w.primary === true);
    const oldPrimary = nic.ipConfigs.find((c) => c.primary);
    if (primaries.length > 1 || (primaries[0] && oldPrimary && lower(primaries[0].name) !== lower(oldPrimary.name)) || (oldPrimary && !names.has(lower(oldPrimary.name)))) {
      throw new ArmError(400, 'PrimaryIpConfigurationCannotBeChanged', `The primary IP configuration ${oldPrimary?.name ?? ''} of ${nic.name} must be kept.`);
    }
    if (wanted.length > MAX_IP_CONFIGS_PER_NIC) {
      throw new ArmError(400, 'QuotaExceeded', `Network interface ${nic.name} cannot have more than ${MAX_IP_CONFIGS_PER_NIC} IP configurations (asked ${wanted.length}).`);
    }
    if (vm) {
      const others = vm.nicIds.filter((id) => lower(id) !== lower(nic.id)).reduce((n, id) => n + (this.nics.get(AzureState.nicKey(id))?.ipConfigs.length ?? 0), 0);
      if (others + wanted.length > MAX_PRIVATE_IPS_PER_VM) {
        throw new ArmError(400, 'QuotaExceeded', `Virtual machine ${vm.name} cannot have more than ${MAX_PRIVATE_IPS_PER_VM} private IP addresses (asked ${others + wanted.length}).`);
      }
    }
    const primarySubnet = oldPrimary?.subnetKey ?? '';
    const byName = new Map(nic.ipConfigs.map((c) => [lower(c.name), c]));
    const kept: IpConfig[] = [];
    const fresh: WantedConfig[] = [];
    for (const w of wanted) {
      const old = byName.get(lower(w.name));
      if (old) {
        const oldText = formatIpv4(old.address);
        const asked = w.privateIPAddress?.split('/')[0];
        if (asked && asked !== oldText && w.allocation === 'Static') {
          throw new ArmError(400, 'IpConfigurationAddressCannotBeChanged', `IP configuration ${w.name} keeps its address ${oldText} in this emulator.`);
        }
        kept.push(old);
      } else fresh.push(w);
    }
    // Allocate every new address first; on any failure give back what was taken (all or nothing).
    const taken: Array<{ subnet: Subnet; address: number; prefix: boolean }> = [];
    const added: IpConfig[] = [];
    try {
      for (const w of fresh) {
        const key = w.subnetId ? this.subnetKeyOfId(w.subnetId) : primarySubnet;
        const subnet = key ? this.subnets.get(key) : undefined;
        if (!subnet) throw new ArmError(400, 'InvalidResourceReference', `Subnet ${w.subnetId ?? ''} referenced by ${w.name} was not found.`);
        if (subnet.key !== primarySubnet) throw new ArmError(400, 'IpConfigurationsMustBeInSameVnetAndSubnet', `All IP configurations of ${nic.name} must be in subnet ${primarySubnet}.`);
        const prefix = w.prefixLength !== undefined;
        if (prefix && w.prefixLength !== PREFIX_LENGTH) throw new ArmError(400, 'InvalidPrivateIPAddressPrefixLength', `privateIPAddressPrefixLength must be ${PREFIX_LENGTH}.`);
        let address: number;
        if (w.allocation === 'Static' && w.privateIPAddress) {
          const a = parseIpv4(w.privateIPAddress);
          if (a === undefined || !subnet.space.isFree(a)) throw new ArmError(400, 'PrivateIPAddressNotAvailable', `Private static IP address ${w.privateIPAddress} is not available in subnet ${subnet.name}.`);
          subnet.space.take(a);
          address = a;
        } else if (prefix) {
          const got = subnet.space.allocateBlocks(PREFIX_LENGTH, 1);
          if (!got) throw new ArmError(400, 'SubnetIsFull', `Subnet ${subnet.name} with address prefix ${formatCidr(subnet.cidr)} does not have a free /${PREFIX_LENGTH} for IP prefix configuration ${w.name}.`);
          address = got[0] as number;
        } else {
          const got = subnet.space.allocate(1);
          if (!got) throw new ArmError(400, 'SubnetIsFull', `Subnet ${subnet.name} with address prefix ${formatCidr(subnet.cidr)} does not have enough capacity for ${fresh.length} IP addresses.`);
          address = got[0] as number;
        }
        taken.push({ subnet, address, prefix });
        added.push({
          name: w.name,
          address,
          ...(prefix ? { prefixLength: PREFIX_LENGTH } : {}),
          allocation: w.allocation ?? 'Dynamic',
          subnetKey: subnet.key,
          primary: false,
          state: 'Updating',
        });
      }
    } catch (err) {
      for (const t of taken) {
        if (t.prefix) t.subnet.space.releaseBlock(t.address, PREFIX_LENGTH);
        else t.subnet.space.release(t.address);
      }
      throw err;
    }
    const removed = nic.ipConfigs.filter((c) => !names.has(lower(c.name)));
    for (const c of removed) this.freeConfig(c);
    this.indexNic(nic, false);
    nic.ipConfigs = [...kept, ...added];
    this.indexNic(nic, true);
    const op = this.startOperation(opts.via === 'nic' ? 'Microsoft.Network' : 'Microsoft.Compute');
    nic.busyOp = op.id;
    nic.state = 'Updating';
    nic.etag = newEtag();
    if (vm && opts.via === 'vmss') {
      vm.busyOp = op.id;
      vm.etag = newEtag();
    }
    const fail = (this.failNextProvisioning.get(AzureState.nicKey(nic.id)) ?? 0) > 0;
    if (fail) this.failNextProvisioning.set(AzureState.nicKey(nic.id), (this.failNextProvisioning.get(AzureState.nicKey(nic.id)) ?? 1) - 1);
    this.emit({ kind: 'nic-updated', nicId: nic.id });
    const finish = (): void => {
      nic.busyOp = undefined;
      if (vm && vm.busyOp === op.id) vm.busyOp = undefined;
      for (const c of added) c.state = fail ? 'Failed' : 'Succeeded';
      nic.state = fail ? 'Failed' : 'Succeeded';
      nic.etag = newEtag();
      op.status = fail ? 'Failed' : 'Succeeded';
      op.endTime = new Date(this.clock.now()).toISOString();
      if (fail) op.error = { code: 'InternalServerError', message: 'An error occurred while provisioning the IP configurations (injected).' };
      this.emit({ kind: 'nic-updated', nicId: nic.id });
    };
    if (this.operationMs <= 0) finish();
    else void this.clock.sleep(this.operationMs).then(finish);
    return op;
  }

  deleteNic(id: string): Operation | undefined {
    const nic = this.nics.get(AzureState.nicKey(id));
    if (!nic) return undefined;
    if (nic.vmId) throw new ArmError(400, 'NicInUse', `Network Interface ${nic.id} is used by existing resource ${nic.vmId}. In order to delete the network interface, it must be dissociated from the resource.`);
    if (nic.busyOp) throw new ArmError(409, 'AnotherOperationInProgress', `Another operation on this or dependent resource is in progress.`);
    for (const c of nic.ipConfigs) this.freeConfig(c);
    this.indexNic(nic, false);
    this.nics.delete(AzureState.nicKey(id));
    this.emit({ kind: 'nic-deleted', nicId: nic.id });
    const op = this.startOperation('Microsoft.Network');
    op.status = 'Succeeded';
    return op;
  }

  /** Fills every free address of a subnet (tests: the next assign fails SubnetIsFull). */
  exhaustSubnet(key: string): number {
    const s = this.subnets.get(key);
    if (!s) return 0;
    const n = s.space.freeCount;
    s.space.allocate(n);
    return n;
  }

  /** Adds or drops a NIC's configurations in the per-subnet back references (kept up to date, so a subnet GET costs its own size only). */
  private indexNic(nic: Nic, add: boolean): void {
    for (const c of nic.ipConfigs) {
      let users = this.subnetUsers.get(c.subnetKey);
      if (!users) this.subnetUsers.set(c.subnetKey, (users = new Set()));
      const id = `${nic.id}/ipConfigurations/${c.name}`;
      if (add) users.add(id);
      else users.delete(id);
    }
  }

  private freeConfig(c: IpConfig): void {
    const s = this.subnets.get(c.subnetKey);
    if (!s) return;
    if (c.prefixLength !== undefined) s.space.releaseBlock(c.address, c.prefixLength);
    else s.space.release(c.address);
  }

  private startOperation(provider: Operation['provider']): Operation {
    const op: Operation = { id: randomUUID(), provider, status: 'InProgress', startTime: new Date(this.clock.now()).toISOString() };
    this.operations.set(op.id, op);
    // Keep the table bounded: completed operations older than the newest 10,000 go.
    if (this.operations.size > 10_000) {
      for (const [k, o] of this.operations) {
        if (o.status !== 'InProgress') this.operations.delete(k);
        if (this.operations.size <= 9_000) break;
      }
    }
    return op;
  }

  private nextMac(): string {
    this.macCounter++;
    const n = this.macCounter;
    const bytes = [0x00, 0x0d, 0x3a, (n >> 16) & 255, (n >> 8) & 255, n & 255];
    return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('-');
  }

  private emit(ev: ChangeEvent): void {
    this.events.emit('change', ev);
  }
}

/** A UUID-shaped id derived from a name: the same VM gets the same identity in every emulator run. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function newEtag(): string {
  return `W/"${randomUUID()}"`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefixLength}`;
}

/** "10.0.0.4" or, for a prefix configuration, "10.0.0.16/28" (as ARM writes privateIPAddress). */
export function configAddressText(c: IpConfig): string {
  return c.prefixLength !== undefined ? `${formatIpv4(c.address)}/${c.prefixLength}` : formatIpv4(c.address);
}
