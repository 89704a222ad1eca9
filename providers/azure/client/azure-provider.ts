// The Azure CloudProvider. Pods take secondary ipConfigurations of the VM's own NICs (no hot
// attach on Azure). Every change is a read-modify-write of the whole NIC: GET (etag), one PUT
// with If-Match carrying all new configurations, wait for the operation, read back what Azure
// chose, hand out only configurations whose provisioning succeeded. A scale-set instance's NICs
// are written through the scale-set VM's network profile instead (@azure/arm-compute).
import { withUrgency } from '../../kit/urgency.ts';
import { randomBytes } from 'node:crypto';
import type { VirtualMachineScaleSetVM } from '@azure/arm-compute';
import type { NetworkInterface, NetworkInterfaceIPConfiguration } from '@azure/arm-network';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import type { AssignRequest, BlockState, CloudBlock, CloudNic, CloudProvider, NodeInfo, NodeLimits, ReleaseRequest, ListNicsOptions } from '../../provider.ts';
import { AZURE_MTU, MAX_IP_CONFIGS_PER_NIC, MAX_PRIVATE_IPS_PER_VM, PREFIX_LENGTH, azureMaxPods, vmSizeLimits } from '../limits.ts';
import { ArmApi, type ArmApiOptions } from './arm-api.ts';
import { isStaleEtag } from './azure-errors.ts';
import { AzureImdsClient, normalizeMac } from './imds.ts';

export interface AzureProviderOptions extends Omit<ArmApiOptions, 'subscriptionId'> {
  metadataEndpoint?: string;
  /** Offer /28 IP prefix configurations as prefix blocks (standalone VMs; single addresses stay available). */
  prefixBlocks?: boolean;
  /** Names of the VM's NICs the pool may use; default: all of them. */
  nicNames?: string[];
  /** Overrides of what IMDS says. */
  subscriptionId?: string;
  resourceGroup?: string;
  logger?: Logger;
  /** Read-modify-write attempts when the NIC changed behind our back (412). */
  maxEtagAttempts?: number;
  /** After an operation poll failed, read the NIC this long for the new configurations to settle. Default 60 s. */
  settleMs?: number;
}

interface NicRef {
  id: string;
  name: string;
  deviceIndex: number;
}

interface Context {
  node: NodeInfo;
  limits: NodeLimits;
  rg: string;
  scaleSet?: { name: string; instanceId: string };
  nics: NicRef[];
  /** ipConfigurations per NIC id (lower case) as last seen, for the per-VM limit. */
  configCounts: Map<string, number>;
}

const SUCCEEDED = 'Succeeded';
const lower = (s: string): string => s.toLowerCase();

export class AzureProvider implements CloudProvider {
  readonly name = 'azure' as const;
  private readonly opts: AzureProviderOptions;
  private readonly imds: AzureImdsClient;
  private readonly log: Logger;
  private api: ArmApi | undefined;
  private ctx: Context | undefined;
  private readonly subnetCidrs = new Map<string, string>();

  constructor(opts: AzureProviderOptions) {
    this.opts = opts;
    this.imds = new AzureImdsClient({ ...(opts.metadataEndpoint ? { endpoint: opts.metadataEndpoint } : {}) });
    this.log = opts.logger ?? pino({ level: 'silent' });
  }

  /** Start-up: urgent (kit/urgency.ts). */
  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return withUrgency(true, () => this.discoverNow());
  }

  private async discoverNow(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    const ctx = await this.context();
    return { node: ctx.node, limits: ctx.limits };
  }

  listNics(opts: ListNicsOptions = {}): Promise<CloudNic[]> {
    return withUrgency(opts.urgent, () => this.listNicsNow());
  }

  private async listNicsNow(): Promise<CloudNic[]> {
    const ctx = await this.context();
    return Promise.all(ctx.nics.map(async (ref) => this.toCloudNic(ref, await this.readNic(ctx, ref))));
  }

  assign(req: AssignRequest): Promise<CloudBlock[]> {
    return withUrgency(req.urgent, () => this.assignNow(req));
  }

  private async assignNow(req: AssignRequest): Promise<CloudBlock[]> {
    const ctx = await this.context();
    const ref = this.nicRef(ctx, req.nicId);
    if (req.kind !== 'ip' && !(req.kind === 'prefix' && ctx.limits.blockKinds.includes('prefix'))) {
      throw new VpcnetError('CLOUD_BAD_REQUEST', `azure: ${req.kind} blocks are not available on this node`, { details: { kind: req.kind } });
    }
    if (req.count <= 0) return [];
    const tag = randomBytes(4).toString('hex');
    const names = Array.from({ length: req.count }, (_, i) => `vpcnet-${tag}-${i}`);
    let failed: unknown;
    let written: NetworkInterface | undefined;
    try {
      written = await this.rmw(ctx, ref, (configs) => {
        if (names.every((n) => configs.some((c) => c.name === n))) return undefined; // an earlier attempt landed
        this.checkLimits(ctx, ref, configs.length + names.length);
        const subnet = configs.find((c) => c.primary)?.subnet;
        return [...configs, ...names.map((name) => newConfig(name, subnet?.id ?? '', req.kind === 'prefix'))];
      });
    } catch (err) {
      if (!(err instanceof VpcnetError) || !isProvisioningFailure(err)) throw err;
      failed = err;
    }
    // Read back what Azure chose; configurations that did not provision are removed again. When
    // the operation poll itself failed (throttled, 5xx) the NIC is read until ours settle.
    // The PUT's final GET already shows them on a standalone VM: no extra read (ARM reads are the scarce budget at scale).
    let nic = written && !failed ? written : await this.readNic(ctx, ref);
    let ours = (ipConfigsOf(nic) ?? []).filter((c) => c.name !== undefined && names.includes(c.name));
    const settleBy = this.opts.clock.now() + (this.opts.settleMs ?? 60_000);
    while (failed && ours.some((c) => c.provisioningState !== SUCCEEDED && c.provisioningState !== 'Failed') && this.opts.clock.now() < settleBy) {
      await this.opts.clock.sleep(this.opts.lroPollMs);
      nic = await this.readNic(ctx, ref);
      ours = (ipConfigsOf(nic) ?? []).filter((c) => c.name !== undefined && names.includes(c.name));
    }
    const bad = ours.filter((c) => c.provisioningState === 'Failed');
    if (bad.length > 0) {
      this.log.warn({ nic: ref.name, failed: bad.length }, 'azure ipConfigurations failed to provision; removing them');
      await this.release({ nicId: ref.id, blocks: bad.map((c) => toBlock(c)) });
    }
    const good = ours.filter((c) => c.provisioningState !== 'Failed').map((c) => toBlock(c));
    if (good.length === 0 && failed && ours.length === 0) throw failed;
    if (good.length === 0 && failed) {
      throw new VpcnetError('CLOUD_UNAVAILABLE', `azure: the new ipConfigurations of ${ref.name} did not provision`, { cause: failed, details: { nic: ref.id, failed: bad.length } });
    }
    return good;
  }

  async release(req: ReleaseRequest): Promise<void> {
    const ctx = await this.context();
    const ref = ctx.nics.find((n) => lower(n.id) === lower(req.nicId));
    if (!ref || req.blocks.length === 0) return;
    const refs = new Set(req.blocks.map((b) => b.ref).filter((r): r is string => r !== undefined));
    const cidrs = new Set(req.blocks.map((b) => b.cidr));
    await this.rmw(ctx, ref, (configs) => {
      const keep = configs.filter((c) => c.primary || !((c.name !== undefined && refs.has(c.name)) || cidrs.has(blockCidr(c))));
      return keep.length === configs.length ? undefined : keep;
    });
  }

  // ---- read-modify-write ----

  /**
   * Reads the NIC's configurations, lets `change` compute the new list (undefined: nothing to
   * do) and writes it with If-Match; a 412 starts over from a fresh read.
   */
  private async rmw(ctx: Context, ref: NicRef, change: (configs: NetworkInterfaceIPConfiguration[]) => NetworkInterfaceIPConfiguration[] | undefined): Promise<NetworkInterface | undefined> {
    const attempts = this.opts.maxEtagAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        if (ctx.scaleSet) {
          await this.rmwScaleSet(ctx, ctx.scaleSet, ref, change);
          return undefined;
        }
        return await this.rmwNic(ctx, ref, change);
      } catch (err) {
        if (!isStaleEtag(err) || attempt >= attempts) throw err;
        this.log.debug({ nic: ref.name, attempt }, 'azure NIC changed behind us (412); reading it again');
      }
    }
  }

  /** Returns the NIC as the PUT's operation left it; undefined when nothing was written. */
  private async rmwNic(ctx: Context, ref: NicRef, change: (configs: NetworkInterfaceIPConfiguration[]) => NetworkInterfaceIPConfiguration[] | undefined): Promise<NetworkInterface | undefined> {
    const api = this.arm();
    const nic = await api.getNic(ctx.rg, ref.name);
    const next = change(nic.ipConfigurations ?? []);
    if (!next) return undefined;
    const out = await api.putNic(ctx.rg, ref.name, { ...nic, ipConfigurations: next }, nic.etag ?? '*');
    ctx.configCounts.set(lower(ref.id), out.ipConfigurations?.length ?? next.length);
    return out;
  }

  private async rmwScaleSet(
    ctx: Context,
    ss: { name: string; instanceId: string },
    ref: NicRef,
    change: (configs: NetworkInterfaceIPConfiguration[]) => NetworkInterfaceIPConfiguration[] | undefined,
  ): Promise<void> {
    const api = this.arm();
    // The scale-set VM model holds the configurations (no addresses); the NIC holds the truth.
    const [vm, nic] = await Promise.all([api.getVmssVm(ctx.rg, ss.name, ss.instanceId), api.getVmssNic(ctx.rg, ss.name, ss.instanceId, ref.name)]);
    const next = change(nic.ipConfigurations ?? []);
    if (!next) return;
    const confs = vm.networkProfileConfiguration?.networkInterfaceConfigurations ?? [];
    const target = confs.find((c) => lower(c.name) === lower(ref.name));
    if (!target) throw new VpcnetError('CLOUD_NOT_FOUND', `azure: scale set VM ${ss.name}/${ss.instanceId} has no network configuration ${ref.name}`);
    target.ipConfigurations = next.map((c) => ({
      name: c.name ?? '',
      ...(c.subnet?.id ? { subnet: { id: c.subnet.id } } : {}),
      primary: c.primary ?? false,
      privateIPAddressVersion: 'IPv4',
    }));
    const model: VirtualMachineScaleSetVM = { ...vm, networkProfileConfiguration: { networkInterfaceConfigurations: confs } };
    await api.putVmssVm(ctx.rg, ss.name, ss.instanceId, model, vm.etag);
    ctx.configCounts.set(lower(ref.id), next.length);
  }

  private checkLimits(ctx: Context, ref: NicRef, nicTotal: number): void {
    if (nicTotal > MAX_IP_CONFIGS_PER_NIC) {
      throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `azure: NIC ${ref.name} would have ${nicTotal} ipConfigurations (limit ${MAX_IP_CONFIGS_PER_NIC})`, { details: { nic: ref.id, limit: MAX_IP_CONFIGS_PER_NIC } });
    }
    let vmTotal = nicTotal;
    for (const n of ctx.nics) if (n !== ref) vmTotal += ctx.configCounts.get(lower(n.id)) ?? 1;
    if (vmTotal > MAX_PRIVATE_IPS_PER_VM) {
      throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `azure: VM would have ${vmTotal} private addresses (limit ${MAX_PRIVATE_IPS_PER_VM})`, { details: { limit: MAX_PRIVATE_IPS_PER_VM } });
    }
  }

  // ---- discovery ----

  private arm(): ArmApi {
    if (!this.api) throw new VpcnetError('INTERNAL', 'azure provider used before discover');
    return this.api;
  }

  private async context(): Promise<Context> {
    if (this.ctx) return this.ctx;
    const inst = await this.imds.instance();
    const c = inst.compute;
    const sub = this.opts.subscriptionId ?? c.subscriptionId;
    const rg = this.opts.resourceGroup ?? c.resourceGroupName;
    const size = vmSizeLimits(c.vmSize);
    if (!size) {
      throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', `azure: VM size ${c.vmSize} is not in vpcnet's table (providers/azure/limits.ts); its NIC limit is unknown`, { details: { vmSize: c.vmSize } });
    }
    this.api ??= new ArmApi({ ...this.opts, subscriptionId: sub });
    const api = this.api;
    let scaleSet: Context['scaleSet'];
    let nicIds: string[];
    if (c.vmScaleSetName) {
      const instanceId = /\/virtualMachines\/([^/]+)$/i.exec(c.resourceId)?.[1] ?? c.name.split('_').pop() ?? '';
      scaleSet = { name: c.vmScaleSetName, instanceId };
      const vm = await api.getVmssVm(rg, scaleSet.name, instanceId);
      nicIds = (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? '');
    } else {
      const vm = await api.getVm(rg, c.name);
      nicIds = (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? '');
    }
    const all: NicRef[] = nicIds.filter(Boolean).map((id, deviceIndex) => ({ id, name: id.split('/').pop() ?? id, deviceIndex }));
    const wanted = this.opts.nicNames?.map(lower);
    const nics = all.filter((n) => n.deviceIndex === 0 || !wanted || wanted.includes(lower(n.name)));
    const primaryRef = nics[0];
    if (!primaryRef) throw new VpcnetError('CLOUD_NOT_FOUND', `azure: VM ${c.name} has no network interfaces`);
    const ctx0: Context = {
      rg,
      ...(scaleSet ? { scaleSet } : {}),
      nics,
      configCounts: new Map(),
      node: undefined as unknown as NodeInfo,
      limits: undefined as unknown as NodeLimits,
    };
    const primary = await this.readNic(ctx0, primaryRef);
    const primaryMac = normalizeMac(primary.macAddress ?? '');
    if (!inst.nics.some((n) => n.mac === primaryMac)) {
      throw new VpcnetError('METADATA_UNREACHABLE', `azure: IMDS lists no NIC with the MAC ${primaryMac} of ${primaryRef.name}`, { details: { macs: inst.nics.map((n) => n.mac) } });
    }
    const pcfg = (primary.ipConfigurations ?? []).find((x) => x.primary) ?? primary.ipConfigurations?.[0];
    const subnetId = pcfg?.subnet?.id ?? '';
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i.exec(subnetId);
    if (!m) throw new VpcnetError('CLOUD_BAD_REQUEST', `azure: primary NIC ${primaryRef.name} has no subnet`);
    // independent reads: one round trip, not two
    const [vnet] = await Promise.all([api.getVnet(m[1] as string, m[2] as string), this.subnetCidr(subnetId)]);
    const prefixBlocks = this.opts.prefixBlocks === true && !scaleSet;
    ctx0.node = {
      provider: 'azure',
      instanceId: c.resourceId || c.vmId,
      instanceType: size.size,
      region: c.location,
      zone: c.zone || c.location,
      networkId: vnet.id ?? '',
      vpcCidrs: vnet.addressSpace?.addressPrefixes ?? [],
      primaryNicId: primaryRef.id,
      primaryIp: pcfg?.privateIPAddress ?? '',
      primarySubnetId: subnetId,
      mtu: AZURE_MTU,
    };
    ctx0.limits = {
      maxNics: nics.length,
      addressesPerNic: MAX_IP_CONFIGS_PER_NIC,
      blockKinds: prefixBlocks ? ['prefix', 'ip'] : ['ip'],
      ...(prefixBlocks ? { prefixLength: PREFIX_LENGTH } : {}),
      maxPods: azureMaxPods(nics.length),
    };
    this.log.info({ vm: c.name, size: size.size, scaleSet: scaleSet?.name, nics: nics.length }, 'azure node discovered');
    this.ctx = ctx0;
    return ctx0;
  }

  private nicRef(ctx: Context, id: string): NicRef {
    const ref = ctx.nics.find((n) => lower(n.id) === lower(id));
    if (!ref) throw new VpcnetError('CLOUD_NOT_FOUND', `azure: NIC ${id} is not one of this node's NICs`, { details: { nicId: id } });
    return ref;
  }

  private async readNic(ctx: Context, ref: NicRef): Promise<NetworkInterface> {
    const nic = ctx.scaleSet ? await this.arm().getVmssNic(ctx.rg, ctx.scaleSet.name, ctx.scaleSet.instanceId, ref.name) : await this.arm().getNic(ctx.rg, ref.name);
    ctx.configCounts.set(lower(ref.id), nic.ipConfigurations?.length ?? 0);
    return nic;
  }

  private async subnetCidr(subnetId: string): Promise<string> {
    const known = this.subnetCidrs.get(lower(subnetId));
    if (known) return known;
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i.exec(subnetId);
    if (!m) throw new VpcnetError('CLOUD_BAD_REQUEST', `azure: not a subnet id: ${subnetId}`);
    const s = await this.arm().getSubnet(m[1] as string, m[2] as string, m[3] as string);
    const cidr = s.addressPrefix ?? s.addressPrefixes?.[0] ?? '';
    this.subnetCidrs.set(lower(subnetId), cidr);
    return cidr;
  }

  private async toCloudNic(ref: NicRef, nic: NetworkInterface): Promise<CloudNic> {
    const configs = nic.ipConfigurations ?? [];
    const primary = configs.find((c) => c.primary) ?? configs[0];
    const subnetId = primary?.subnet?.id ?? '';
    return {
      id: ref.id,
      deviceIndex: ref.deviceIndex,
      mac: normalizeMac(nic.macAddress ?? '000000000000'),
      subnetId,
      subnetCidr: subnetId ? await this.subnetCidr(subnetId) : '',
      primaryIp: primary?.privateIPAddress ?? '',
      securityGroups: nic.networkSecurityGroup?.id ? [nic.networkSecurityGroup.id] : [],
      blocks: configs.filter((c) => c !== primary && !c.primary).map((c) => toBlock(c)),
      ref: ref.name,
      mtu: AZURE_MTU,
    };
  }
}

function ipConfigsOf(nic: NetworkInterface): NetworkInterfaceIPConfiguration[] | undefined {
  return nic.ipConfigurations;
}

function newConfig(name: string, subnetId: string, prefix: boolean): NetworkInterfaceIPConfiguration {
  return {
    name,
    subnet: { id: subnetId },
    privateIPAllocationMethod: 'Dynamic',
    privateIPAddressVersion: 'IPv4',
    primary: false,
    ...(prefix ? { privateIPAddressPrefixLength: PREFIX_LENGTH } : {}),
  };
}

/** privateIPAddress is a bare address, or a CIDR for a prefix configuration (10.0.0.16/28). */
function blockCidr(c: NetworkInterfaceIPConfiguration): string {
  const a = c.privateIPAddress ?? '';
  if (a.includes('/')) return a;
  return c.privateIPAddressPrefixLength ? `${a}/${c.privateIPAddressPrefixLength}` : `${a}/32`;
}

function stateOf(p: string | undefined): BlockState {
  if (p === SUCCEEDED) return 'ready';
  if (p === 'Failed') return 'failed';
  return 'pending';
}

function toBlock(c: NetworkInterfaceIPConfiguration): CloudBlock {
  const prefix = c.privateIPAddressPrefixLength !== undefined && c.privateIPAddressPrefixLength !== null;
  return { kind: prefix ? 'prefix' : 'ip', cidr: blockCidr(c), ref: c.name ?? '', state: stateOf(c.provisioningState) };
}

/** The write was accepted but its operation ended Failed (the poller's error, not an HTTP one). */
function isProvisioningFailure(err: VpcnetError): boolean {
  return err.details?.status === undefined && err.details?.lro === true;
}
