// The emulated EC2 account: VPCs, subnets, instances and ENIs, with the rules that bite in
// production (per-type NIC and address limits, finite and fragmentable subnets, device
// indexes, in-use ENIs). Every method is synchronous and throws EC2 errors (ec2Error); every
// change bumps `version` and emits a ChangeEvent on `events`.
import { PageTokens } from '../../kit/emulator/keyset-pages.ts';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../src/util/clock.ts';
import { instanceTypeLimits } from '../limits.ts';
import { ec2Error } from './ec2-error.ts';
import { eniFilterValues, instanceEniFilterValues, instanceFilterValues, subnetFilterValues, tagRowFilterValues, vpcFilterValues } from './describe-filters.ts';
import { isWellFormedId, kindOfId, missingId } from './id-errors.ts';
import { applyFilters, type Filter } from './filters.ts';
import type { IdSource } from './ids.ts';
import { cidrContains, cidrsOverlap, formatCidr, formatIpv4, parseCidr, parseIpv4 } from './ipv4.ts';
import {
  attachmentStatus,
  eniStatus,
  type ChangeEvent,
  type ChangeKind,
  type Eni,
  type EniView,
  type Instance,
  type InstanceView,
  type Subnet,
  type TagRow,
  type Tags,
  type Vpc,
} from './model.ts';
import { PREFIX_LENGTH, SubnetSpace, type Pick } from './subnet-space.ts';

/** Address slots an unattached ENI may hold (the largest per-NIC limit of any type). */
const UNATTACHED_IPV4_LIMIT = 50;

export interface StateOptions {
  clock: Clock;
  ids: IdSource;
  region: string;
  ownerId: string;
  /** How free addresses are picked: lowest first (default) or seeded random (fragments more). */
  pick?: Pick;
  /** Simulated duration of a detach: the ENI stays in-use ("detaching") meanwhile. */
  detachDelayMs?: number;
  /** Simulated duration of an attach: the attachment is "attaching" meanwhile. */
  attachDelayMs?: number;
  /** A new ENI stays invisible to DescribeNetworkInterfaces this long (EC2 eventual consistency). */
  describeLagMs?: number;
  /** ENIs the account may have (the EC2 quota "network interfaces per Region", default 5000). */
  maxEnis?: number;
}

export interface CreateSubnetInput {
  vpcId: string;
  cidr: string;
  az?: string;
  tags?: Record<string, string>;
  id?: string;
  defaultForAz?: boolean;
}

export interface CreateVpcInput {
  cidr: string;
  extraCidrs?: string[];
  id?: string;
  isDefault?: boolean;
  tags?: Record<string, string>;
}

export interface CreateInstanceInput {
  instanceType: string;
  subnetId: string;
  securityGroups?: string[];
  tags?: Record<string, string>;
  /** Primary address; default: the subnet picks one. */
  privateIp?: string;
  id?: string;
}

export interface CreateEniInput {
  subnetId: string;
  description?: string;
  securityGroups?: string[];
  primaryIp?: string;
  secondaryIps?: string[];
  secondaryCount?: number;
  prefixes?: string[];
  prefixCount?: number;
  tags?: Record<string, string>;
  clientToken?: string;
  /** The request's parameters in canonical form: a retry with the same token must match. */
  requestFingerprint?: string;
}

export interface AssignInput {
  ips?: string[];
  count?: number;
  prefixes?: string[];
  prefixCount?: number;
}

export interface ModifyEniInput {
  attachmentId?: string;
  deleteOnTermination?: boolean;
  sourceDestCheck?: boolean;
  description?: string;
  securityGroups?: string[];
}

export class Ec2State {
  readonly events = new EventEmitter<{ change: [ChangeEvent] }>();
  /** Seals the describes' NextTokens (opaque, keyed to this account). */
  readonly pageTokens = new PageTokens();
  readonly region: string;
  readonly ownerId: string;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly pick: Pick;
  private readonly random: () => number;
  private readonly detachDelayMs: number;
  private readonly attachDelayMs: number;
  private readonly describeLagMs: number;
  private readonly maxEnis: number;
  private readonly vpcs = new Map<string, Vpc>();
  private readonly subnets = new Map<string, Subnet>();
  private readonly instances = new Map<string, Instance>();
  private readonly enis = new Map<string, Eni>();
  /** Attached ENIs per instance: the hot lookups (IMDS, attachment filters) skip full scans. */
  private readonly byInstance = new Map<string, Set<Eni>>();
  /** ENIs with an attach or detach in flight, so settle() costs nothing when there are none. */
  private readonly inFlight = new Set<Eni>();
  /** CreateNetworkInterface client tokens: the request they came with and the ENI made. */
  private readonly clientTokens = new Map<string, { fingerprint: string | undefined; eniId: string }>();
  private currentVersion = 0;

  constructor(opts: StateOptions) {
    this.clock = opts.clock;
    this.ids = opts.ids;
    this.region = opts.region;
    this.ownerId = opts.ownerId;
    this.pick = opts.pick ?? 'lowest';
    this.random = opts.ids.random();
    this.detachDelayMs = opts.detachDelayMs ?? 0;
    this.attachDelayMs = opts.attachDelayMs ?? 0;
    this.describeLagMs = opts.describeLagMs ?? 0;
    this.maxEnis = opts.maxEnis ?? 5000;
  }

  get version(): number {
    return this.currentVersion;
  }

  // ---- scenario set-up (admin API) ----

  createVpc(input: CreateVpcInput): Vpc {
    const cidrs = [input.cidr, ...(input.extraCidrs ?? [])];
    for (const c of cidrs) if (!parseCidr(c)) throw ec2Error('InvalidParameterValue', `Value (${c}) for parameter cidrBlock is invalid.`);
    if (input.isDefault && [...this.vpcs.values()].some((v) => v.isDefault)) {
      throw ec2Error('DefaultVpcAlreadyExists', 'A Default VPC already exists for this account in this region.');
    }
    const vpc: Vpc = {
      id: input.id ?? this.ids.next('vpc'),
      cidrs,
      isDefault: input.isDefault ?? false,
      tags: new Map(Object.entries(input.tags ?? {})),
    };
    this.vpcs.set(vpc.id, vpc);
    this.emit('vpc-created', {});
    return vpc;
  }

  createSubnet(input: CreateSubnetInput): Subnet {
    const vpc = this.vpcs.get(input.vpcId);
    if (!vpc) throw missingId('vpc', input.vpcId);
    const cidr = parseCidr(input.cidr);
    if (!cidr || cidr.length > 28 || cidr.length < 16) {
      throw ec2Error('InvalidSubnet.Range', `The CIDR '${input.cidr}' is invalid.`);
    }
    if (!vpc.cidrs.some((c) => cidrContains(parseCidr(c) ?? cidr, cidr))) {
      throw ec2Error('InvalidSubnet.Range', `The CIDR '${input.cidr}' is invalid.`);
    }
    for (const other of this.subnets.values()) {
      if (other.vpcId === vpc.id && cidrsOverlap(other.space.cidr, cidr)) {
        throw ec2Error('InvalidSubnet.Conflict', `The CIDR '${input.cidr}' conflicts with another subnet`);
      }
    }
    const az = input.az ?? `${this.region}a`;
    const subnet: Subnet = {
      id: input.id ?? this.ids.next('subnet'),
      vpcId: vpc.id,
      cidr: formatCidr(cidr),
      az,
      azId: azIdOf(az),
      defaultForAz: input.defaultForAz ?? false,
      tags: new Map(Object.entries(input.tags ?? {})),
      space: new SubnetSpace(cidr, this.pick, this.random),
    };
    this.subnets.set(subnet.id, subnet);
    this.emit('subnet-created', { subnetId: subnet.id });
    return subnet;
  }

  /** Launches an instance with its primary ENI (device index 0, deleted on termination). */
  createInstance(input: CreateInstanceInput): Instance {
    const limits = instanceTypeLimits(input.instanceType);
    if (!limits) throw ec2Error('InvalidParameterValue', `Invalid value '${input.instanceType}' for InstanceType.`);
    const subnet = this.subnet(input.subnetId);
    const securityGroups = input.securityGroups ?? ['sg-default'];
    const eni = this.createNetworkInterface({
      subnetId: subnet.id,
      description: 'Primary network interface',
      securityGroups,
      ...(input.privateIp === undefined ? {} : { primaryIp: input.privateIp }),
    });
    const instance: Instance = {
      id: input.id ?? this.ids.next('i'),
      limits,
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      imageId: 'ami-0vpcnetemulator0',
      launchTime: this.clock.now(),
      state: 'running',
      securityGroups,
      tags: new Map(Object.entries(input.tags ?? {})),
    };
    this.instances.set(instance.id, instance);
    this.setAttachment(eni, {
      id: this.ids.next('eni-attach'),
      instanceId: instance.id,
      deviceIndex: 0,
      networkCardIndex: 0,
      attachTime: instance.launchTime,
      deleteOnTermination: true,
    });
    this.emit('instance-created', { instanceId: instance.id, eniId: eni.id });
    return instance;
  }

  /** Terminates an instance: ENIs marked delete-on-termination go, the others become available. */
  terminateInstance(instanceId: string): void {
    const instance = this.instance(instanceId);
    this.settle();
    for (const eni of this.enisOf(instanceId)) {
      const del = eni.attachment?.deleteOnTermination;
      this.setAttachment(eni, undefined);
      if (del) this.removeEni(eni);
    }
    instance.state = 'terminated';
    this.emit('instance-terminated', { instanceId });
  }

  // ---- EC2 API operations ----

  describeInstances(ids: string[], filters: Filter[]): Instance[] {
    const selected = ids.length ? ids.map((id) => this.instance(id)) : [...this.instances.values()];
    return applyFilters(selected, filters, (i, name) => instanceFilterValues(i, name) ?? instanceEniFilterValues(this.enisOf(i.id), name));
  }

  describeSubnets(ids: string[], filters: Filter[]): Subnet[] {
    const selected = ids.length ? ids.map((id) => this.subnet(id)) : [...this.subnets.values()];
    return applyFilters(selected, filters, subnetFilterValues);
  }

  describeNetworkInterfaces(ids: string[], filters: Filter[]): Eni[] {
    this.settle();
    const visibleFrom = this.clock.now() - this.describeLagMs;
    const visible = (e: Eni): boolean => this.describeLagMs <= 0 || e.createTime <= visibleFrom;
    const selected = ids.length
      ? ids.map((id) => {
          const e = this.eni(id);
          if (!visible(e)) throw missingId('eni', id);
          return e;
        })
      : this.candidatesFor(filters).filter(visible);
    return applyFilters(selected, filters, eniFilterValues(this.ownerId));
  }

  createNetworkInterface(input: CreateEniInput): Eni {
    if (input.clientToken !== undefined) {
      const seen = this.clientTokens.get(input.clientToken);
      const same = seen && this.enis.get(seen.eniId);
      if (seen && seen.fingerprint !== input.requestFingerprint) {
        throw ec2Error('IdempotentParameterMismatch', `Client token '${input.clientToken}' was used with different parameters before.`);
      }
      if (same) return same;
    }
    const subnet = this.subnet(input.subnetId);
    if (this.enis.size >= this.maxEnis) {
      throw ec2Error('NetworkInterfaceLimitExceeded', `You have reached the limit of ${this.maxEnis} network interfaces for this Region.`);
    }
    const secondaryIps = input.secondaryIps ?? [];
    const prefixes = input.prefixes ?? [];
    if (secondaryIps.length && input.secondaryCount) {
      throw ec2Error('InvalidParameterCombination', 'You may specify secondary private addresses or a count of them, not both.');
    }
    if (prefixes.length && input.prefixCount) {
      throw ec2Error('InvalidParameterCombination', 'You may specify Ipv4 prefixes or a count of them, not both.');
    }
    const slots = 1 + secondaryIps.length + (input.secondaryCount ?? 0) + prefixes.length + (input.prefixCount ?? 0);
    if (slots > UNATTACHED_IPV4_LIMIT) {
      throw ec2Error('PrivateIpAddressLimitExceeded', 'Number of private addresses will exceed limit.');
    }
    const taken: { ips: number[]; prefixes: number[] } = { ips: [], prefixes: [] };
    try {
      const primary = input.primaryIp === undefined ? this.takeIps(subnet, 1, taken)[0] : this.takeIp(subnet, input.primaryIp, taken);
      for (const ip of secondaryIps) this.takeIp(subnet, ip, taken);
      if (input.secondaryCount) this.takeIps(subnet, input.secondaryCount, taken);
      for (const p of prefixes) this.takePrefix(subnet, p, taken);
      if (input.prefixCount) this.takePrefixes(subnet, input.prefixCount, taken);
      const eni: Eni = {
        id: this.ids.next('eni'),
        subnetId: subnet.id,
        vpcId: subnet.vpcId,
        az: subnet.az,
        description: input.description ?? '',
        mac: this.ids.mac(),
        primaryIp: primary as number,
        secondaryIps: taken.ips.filter((ip) => ip !== primary),
        prefixes: taken.prefixes,
        securityGroups: input.securityGroups?.length ? input.securityGroups : ['sg-default'],
        tags: new Map(Object.entries(input.tags ?? {})),
        createTime: this.clock.now(),
        sourceDestCheck: true,
        ...(input.clientToken === undefined ? {} : { clientToken: input.clientToken }),
      };
      this.enis.set(eni.id, eni);
      if (input.clientToken !== undefined) this.clientTokens.set(input.clientToken, { fingerprint: input.requestFingerprint, eniId: eni.id });
      this.emit('eni-created', { eniId: eni.id, subnetId: subnet.id, addresses: this.addressesOf(eni) });
      return eni;
    } catch (err) {
      for (const ip of taken.ips) subnet.space.release(ip);
      for (const p of taken.prefixes) subnet.space.releasePrefix(p);
      throw err;
    }
  }

  attachNetworkInterface(eniId: string, instanceId: string, deviceIndex: number, networkCardIndex = 0): string {
    this.settle();
    const eni = this.eni(eniId);
    const instance = this.instance(instanceId);
    if (instance.state !== 'running') {
      throw ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a valid state for this operation.`);
    }
    if (eni.attachment) throw ec2Error('InvalidNetworkInterface.InUse', `Interface: [${eniId}] in use.`);
    if (eni.az !== instance.az) {
      throw ec2Error('InvalidParameterValue', `Network interface '${eniId}' is in a different availability zone than instance '${instanceId}'.`);
    }
    if (eni.vpcId !== instance.vpcId) {
      throw ec2Error('InvalidParameterValue', `Network interface '${eniId}' is in a different VPC than instance '${instanceId}'.`);
    }
    if (networkCardIndex !== 0) throw ec2Error('InvalidParameterValue', `Invalid network card index ${networkCardIndex}.`);
    if (!Number.isInteger(deviceIndex) || deviceIndex < 1) {
      throw ec2Error('InvalidParameterValue', `Invalid value '${deviceIndex}' for deviceIndex.`);
    }
    const attached = this.enisOf(instanceId);
    if (attached.some((e) => e.attachment?.deviceIndex === deviceIndex)) {
      throw ec2Error('InvalidParameterValue', `Instance '${instanceId}' already has an interface attached at device index '${deviceIndex}'.`);
    }
    if (attached.length + 1 > instance.limits.maxNics) {
      throw ec2Error(
        'AttachmentLimitExceeded',
        `Interface count ${attached.length + 1} exceeds the limit for ${instance.limits.instanceType}`,
      );
    }
    if (this.slotsOf(eni) > instance.limits.ipv4PerNic) {
      throw ec2Error('PrivateIpAddressLimitExceeded', 'Number of private addresses will exceed limit.');
    }
    if (eni.prefixes.length && !instance.limits.prefixDelegation) {
      throw ec2Error('InvalidParameterValue', `Instance type ${instance.limits.instanceType} does not support IPv4 prefixes.`);
    }
    const attachmentId = this.ids.next('eni-attach');
    const now = this.clock.now();
    this.setAttachment(eni, {
      id: attachmentId,
      instanceId,
      deviceIndex,
      networkCardIndex,
      attachTime: now,
      deleteOnTermination: false,
      ...(this.attachDelayMs > 0 ? { readyAt: now + this.attachDelayMs } : {}),
    });
    if (this.attachDelayMs > 0) {
      this.inFlight.add(eni);
      this.emit('eni-modified', { eniId, instanceId });
    } else {
      this.emit('eni-attached', { eniId, instanceId });
    }
    return attachmentId;
  }

  detachNetworkInterface(attachmentId: string, force = false): void {
    this.settle();
    const eni = [...this.enis.values()].find((e) => e.attachment?.id === attachmentId);
    if (!eni?.attachment) throw missingId('attachment', attachmentId);
    if (eni.attachment.deviceIndex === 0 && !force) {
      throw ec2Error('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.');
    }
    if (eni.attachment.detachAt !== undefined) return;
    const instanceId = eni.attachment.instanceId;
    if (this.detachDelayMs > 0) {
      eni.attachment.detachAt = this.clock.now() + this.detachDelayMs;
      this.inFlight.add(eni);
      this.emit('eni-modified', { eniId: eni.id, instanceId });
      return;
    }
    this.setAttachment(eni, undefined);
    this.emit('eni-detached', { eniId: eni.id, instanceId });
  }

  deleteNetworkInterface(eniId: string): void {
    this.settle();
    const eni = this.eni(eniId);
    if (eni.attachment) {
      throw ec2Error('InvalidNetworkInterface.InUse', `The network interface '${eniId}' is currently in use.`);
    }
    this.removeEni(eni);
  }

  assignPrivateIpAddresses(eniId: string, input: AssignInput): { ips: number[]; prefixes: number[] } {
    this.settle();
    const eni = this.eni(eniId);
    const subnet = this.subnet(eni.subnetId);
    const ips = input.ips ?? [];
    const prefixes = input.prefixes ?? [];
    const wantsIps = ips.length > 0 || (input.count ?? 0) > 0;
    const wantsPrefixes = prefixes.length > 0 || (input.prefixCount ?? 0) > 0;
    if (wantsIps && wantsPrefixes) {
      throw ec2Error('InvalidParameterCombination', 'You may specify secondary private addresses or Ipv4 prefixes, not both.');
    }
    if (!wantsIps && !wantsPrefixes) {
      throw ec2Error('MissingParameter', 'Either secondary private addresses, a count of them, Ipv4 prefixes or a prefix count is required.');
    }
    if (ips.length && input.count) {
      throw ec2Error('InvalidParameterCombination', 'You may specify secondary private addresses or a count of them, not both.');
    }
    if (prefixes.length && input.prefixCount) {
      throw ec2Error('InvalidParameterCombination', 'You may specify Ipv4 prefixes or a count of them, not both.');
    }
    const instance = eni.attachment ? this.instances.get(eni.attachment.instanceId) : undefined;
    if (wantsPrefixes && instance && !instance.limits.prefixDelegation) {
      throw ec2Error('InvalidParameterValue', `Instance type ${instance.limits.instanceType} does not support IPv4 prefixes.`);
    }
    const limit = instance?.limits.ipv4PerNic ?? UNATTACHED_IPV4_LIMIT;
    const adding = ips.length + (input.count ?? 0) + prefixes.length + (input.prefixCount ?? 0);
    if (this.slotsOf(eni) + adding > limit) {
      throw ec2Error('PrivateIpAddressLimitExceeded', 'Number of private addresses will exceed limit.');
    }
    const taken: { ips: number[]; prefixes: number[] } = { ips: [], prefixes: [] };
    try {
      for (const ip of ips) this.takeIp(subnet, ip, taken);
      if (input.count) this.takeIps(subnet, input.count, taken);
      for (const p of prefixes) this.takePrefix(subnet, p, taken);
      if (input.prefixCount) this.takePrefixes(subnet, input.prefixCount, taken);
    } catch (err) {
      for (const ip of taken.ips) subnet.space.release(ip);
      for (const p of taken.prefixes) subnet.space.releasePrefix(p);
      throw err;
    }
    eni.secondaryIps.push(...taken.ips);
    eni.prefixes.push(...taken.prefixes);
    this.emit('addresses-assigned', {
      eniId,
      ...(eni.attachment ? { instanceId: eni.attachment.instanceId } : {}),
      addresses: [...taken.ips.map(formatIpv4), ...taken.prefixes.map(prefixText)],
    });
    return taken;
  }

  unassignPrivateIpAddresses(eniId: string, ips: string[], prefixes: string[]): void {
    this.settle();
    const eni = this.eni(eniId);
    const subnet = this.subnet(eni.subnetId);
    if (!ips.length && !prefixes.length) {
      throw ec2Error('MissingParameter', 'Either private addresses or Ipv4 prefixes are required.');
    }
    const ipNums = ips.map((t) => parseIpv4(t));
    if (ipNums.some((n) => n === undefined || !eni.secondaryIps.includes(n))) {
      if (ipNums.some((n) => n === eni.primaryIp)) {
        throw ec2Error('InvalidParameterValue', `The primary address of interface ${eniId} cannot be unassigned.`);
      }
      throw ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${eniId}`);
    }
    const prefixNums = prefixes.map((t) => {
      const c = parseCidr(t);
      return c && c.length === PREFIX_LENGTH ? c.base : undefined;
    });
    if (prefixNums.some((n) => n === undefined || !eni.prefixes.includes(n))) {
      throw ec2Error('InvalidParameterValue', `Some of the specified prefixes are not assigned to interface ${eniId}`);
    }
    for (const n of ipNums as number[]) subnet.space.release(n);
    for (const n of prefixNums as number[]) subnet.space.releasePrefix(n);
    eni.secondaryIps = eni.secondaryIps.filter((n) => !ipNums.includes(n));
    eni.prefixes = eni.prefixes.filter((n) => !prefixNums.includes(n));
    this.emit('addresses-unassigned', {
      eniId,
      ...(eni.attachment ? { instanceId: eni.attachment.instanceId } : {}),
      addresses: [...ips, ...prefixes],
    });
  }

  createTags(resourceIds: string[], tags: Record<string, string>): void {
    const targets = resourceIds.map((id) => this.taggable(id));
    for (const t of targets) for (const [k, v] of Object.entries(tags)) t.set(k, v);
    this.emit('tags-changed', {});
  }

  /** DeleteTags: a tag given with a value goes only if its value is that one (EC2 semantics). */
  deleteTags(resourceIds: string[], tags: Array<{ key: string; value?: string }>): void {
    const targets = resourceIds.map((id) => this.taggable(id));
    for (const t of targets) {
      if (tags.length === 0) t.clear();
      for (const { key, value } of tags) if (value === undefined || t.get(key) === value) t.delete(key);
    }
    this.emit('tags-changed', {});
  }

  describeTags(filters: Filter[]): TagRow[] {
    const rows: TagRow[] = [];
    const add = (resourceId: string, resourceType: TagRow['resourceType'], tags: Tags): void => {
      for (const [key, value] of tags) rows.push({ resourceId, resourceType, key, value });
    };
    for (const e of this.enis.values()) add(e.id, 'network-interface', e.tags);
    for (const sn of this.subnets.values()) add(sn.id, 'subnet', sn.tags);
    for (const i of this.instances.values()) add(i.id, 'instance', i.tags);
    for (const v of this.vpcs.values()) add(v.id, 'vpc', v.tags);
    rows.sort((a, b) => a.resourceId.localeCompare(b.resourceId) || a.key.localeCompare(b.key));
    return applyFilters(rows, filters, tagRowFilterValues);
  }

  describeVpcs(ids: string[], filters: Filter[]): Vpc[] {
    const selected = ids.length ? ids.map((id) => this.vpc(id)) : [...this.vpcs.values()];
    return applyFilters(selected, filters, vpcFilterValues(this.ownerId));
  }

  /** The region's zones: a, b and c, plus any zone a subnet names. */
  availabilityZones(): string[] {
    const zones = new Set(['a', 'b', 'c'].map((l) => `${this.region}${l}`));
    for (const sn of this.subnets.values()) zones.add(sn.az);
    return [...zones].sort();
  }

  modifyNetworkInterfaceAttribute(eniId: string, input: ModifyEniInput): void {
    this.settle();
    const eni = this.eni(eniId);
    if (input.deleteOnTermination !== undefined) {
      if (!input.attachmentId) throw ec2Error('MissingParameter', 'The request must contain the parameter Attachment.AttachmentId');
      if (eni.attachment?.id !== input.attachmentId) throw missingId('attachment', input.attachmentId);
      eni.attachment.deleteOnTermination = input.deleteOnTermination;
    }
    if (input.sourceDestCheck !== undefined) eni.sourceDestCheck = input.sourceDestCheck;
    if (input.description !== undefined) eni.description = input.description;
    if (input.securityGroups?.length) eni.securityGroups = [...input.securityGroups];
    this.emit('eni-modified', { eniId, ...(eni.attachment ? { instanceId: eni.attachment.instanceId } : {}) });
  }

  // ---- views ----

  /** Every ENI with its addresses and attachment: what the simulated VPC routes. */
  listEnis(): EniView[] {
    this.settle();
    return [...this.enis.values()].map((e) => this.eniView(e));
  }

  /** An instance as its metadata service sees it now. */
  instanceView(instanceId: string): InstanceView | undefined {
    this.settle();
    const i = this.instances.get(instanceId);
    if (!i) return undefined;
    const enis = this.enisOf(instanceId)
      .filter((e) => e.attachment?.readyAt === undefined)
      .map((e) => this.eniView(e))
      .sort((a, b) => (a.deviceIndex ?? 0) - (b.deviceIndex ?? 0));
    return {
      instanceId: i.id,
      instanceType: i.limits.instanceType,
      imageId: i.imageId,
      launchTime: i.launchTime,
      // The identity document says x86_64 or arm64 (Mac types included).
      architecture: i.limits.architecture.startsWith('arm64') ? 'arm64' : 'x86_64',
      accountId: this.ownerId,
      az: i.az,
      region: this.region,
      state: i.state,
      subnetId: i.subnetId,
      vpcId: i.vpcId,
      enis,
    };
  }

  listInstanceIds(): string[] {
    return [...this.instances.keys()];
  }

  vpcOf(id: string): Vpc | undefined {
    return this.vpcs.get(id);
  }

  /** VPCs as plain data (the admin API's state listing). */
  listVpcs(): Array<{ id: string; cidrs: string[]; isDefault: boolean; tags: Record<string, string> }> {
    return [...this.vpcs.values()].map((v) => ({ id: v.id, cidrs: [...v.cidrs], isDefault: v.isDefault, tags: Object.fromEntries(v.tags) }));
  }

  subnetById(id: string): Subnet | undefined {
    return this.subnets.get(id);
  }

  instanceById(id: string): Instance | undefined {
    return this.instances.get(id);
  }

  enisOf(instanceId: string): Eni[] {
    return [...(this.byInstance.get(instanceId) ?? [])];
  }

  /** Finishes attaches and detaches whose simulated duration is over. */
  settle(): void {
    if (this.inFlight.size === 0) return;
    const now = this.clock.now();
    for (const eni of this.inFlight) {
      const a = eni.attachment;
      if (a?.detachAt !== undefined) {
        if (a.detachAt > now) continue;
        this.setAttachment(eni, undefined);
        this.inFlight.delete(eni);
        this.emit('eni-detached', { eniId: eni.id, instanceId: a.instanceId }, a.detachAt);
      } else if (a?.readyAt !== undefined) {
        if (a.readyAt > now) continue;
        const readyAt = a.readyAt;
        delete a.readyAt;
        this.inFlight.delete(eni);
        this.emit('eni-attached', { eniId: eni.id, instanceId: a.instanceId }, readyAt);
      } else {
        this.inFlight.delete(eni);
      }
    }
  }

  // ---- internals ----

  /** All ENIs, or only those of the instances a literal attachment.instance-id filter names. */
  private candidatesFor(filters: Filter[]): Eni[] {
    const f = filters.find((x) => x.name === 'attachment.instance-id' && x.values.every((v) => !/[*?]/.test(v)));
    if (!f) return [...this.enis.values()];
    return [...new Set(f.values)].flatMap((id) => this.enisOf(id));
  }

  private eniView(e: Eni): EniView {
    const subnet = this.subnets.get(e.subnetId);
    return {
      eniId: e.id,
      mac: e.mac,
      subnetId: e.subnetId,
      subnetCidr: subnet?.cidr ?? '',
      vpcId: e.vpcId,
      vpcCidrs: this.vpcs.get(e.vpcId)?.cidrs ?? [],
      az: e.az,
      primaryIp: formatIpv4(e.primaryIp),
      secondaryIps: e.secondaryIps.map(formatIpv4),
      prefixes: e.prefixes.map(prefixText),
      securityGroups: [...e.securityGroups],
      sourceDestCheck: e.sourceDestCheck,
      status: eniStatus(e),
      ...(e.attachment
        ? { instanceId: e.attachment.instanceId, deviceIndex: e.attachment.deviceIndex, attachmentStatus: attachmentStatus(e.attachment) }
        : {}),
      tags: Object.fromEntries(e.tags),
      createTime: e.createTime,
    };
  }

  private setAttachment(eni: Eni, attachment: Eni['attachment']): void {
    if (eni.attachment) this.byInstance.get(eni.attachment.instanceId)?.delete(eni);
    eni.attachment = attachment;
    if (!attachment) return;
    const set = this.byInstance.get(attachment.instanceId) ?? new Set<Eni>();
    set.add(eni);
    this.byInstance.set(attachment.instanceId, set);
  }

  private removeEni(eni: Eni): void {
    this.setAttachment(eni, undefined);
    const space = this.subnets.get(eni.subnetId)?.space;
    space?.release(eni.primaryIp);
    for (const ip of eni.secondaryIps) space?.release(ip);
    for (const p of eni.prefixes) space?.releasePrefix(p);
    this.enis.delete(eni.id);
    this.emit('eni-deleted', { eniId: eni.id, subnetId: eni.subnetId, addresses: this.addressesOf(eni) });
  }

  private addressesOf(eni: Eni): string[] {
    return [eni.primaryIp, ...eni.secondaryIps].map(formatIpv4).concat(eni.prefixes.map(prefixText));
  }

  private slotsOf(eni: Eni): number {
    return 1 + eni.secondaryIps.length + eni.prefixes.length;
  }

  private takeIp(subnet: Subnet, text: string, taken: { ips: number[] }): number {
    const ip = parseIpv4(text);
    if (ip === undefined || !subnet.space.contains(ip)) {
      throw ec2Error('InvalidParameterValue', `Address ${text} does not fall within the subnet's address range`);
    }
    if (!subnet.space.isFree(ip)) throw ec2Error('InvalidIPAddress.InUse', `Address ${text} is in use.`);
    subnet.space.take(ip);
    taken.ips.push(ip);
    return ip;
  }

  private takeIps(subnet: Subnet, count: number, taken: { ips: number[] }): number[] {
    const got = subnet.space.allocate(count);
    if (!got) {
      throw ec2Error('InsufficientFreeAddressesInSubnet', 'The specified subnet does not have enough free addresses to satisfy the request.');
    }
    taken.ips.push(...got);
    return got;
  }

  private takePrefix(subnet: Subnet, text: string, taken: { prefixes: number[] }): void {
    const c = parseCidr(text);
    if (!c || c.length !== PREFIX_LENGTH || !subnet.space.contains(c.base)) {
      throw ec2Error('InvalidParameterValue', `Prefix ${text} is not a /28 within the subnet's address range`);
    }
    if (!subnet.space.isPrefixFree(c.base)) throw ec2Error('InvalidIPAddress.InUse', `Prefix ${text} is in use.`);
    subnet.space.takePrefix(c.base);
    taken.prefixes.push(c.base);
  }

  private takePrefixes(subnet: Subnet, count: number, taken: { prefixes: number[] }): void {
    const got = subnet.space.allocatePrefixes(count);
    if (!got) {
      throw ec2Error('InsufficientCidrBlocks', 'The specified subnet does not have enough free cidr blocks to satisfy the request.');
    }
    taken.prefixes.push(...got);
  }

  private subnet(id: string): Subnet {
    const s = this.subnets.get(id);
    if (!s) throw missingId('subnet', id);
    return s;
  }

  private vpc(id: string): Vpc {
    const v = this.vpcs.get(id);
    if (!v) throw missingId('vpc', id);
    return v;
  }

  /** The tags of a taggable resource; EC2's InvalidID for an id of no known kind. */
  private taggable(id: string): Tags {
    const found = this.enis.get(id) ?? this.subnets.get(id) ?? this.instances.get(id) ?? this.vpcs.get(id);
    if (found) return found.tags;
    const kind = kindOfId(id);
    if (!kind || kind === 'attachment' || !isWellFormedId(kind, id)) throw ec2Error('InvalidID', `The ID '${id}' is not valid`);
    throw missingId(kind, id);
  }

  private instance(id: string): Instance {
    const i = this.instances.get(id);
    if (!i) throw missingId('instance', id);
    return i;
  }

  private eni(id: string): Eni {
    const e = this.enis.get(id);
    if (!e) throw missingId('eni', id);
    return e;
  }

  /** `at`: when the change took effect, for changes noticed after the fact by settle(). */
  private emit(kind: ChangeKind, fields: Omit<ChangeEvent, 'kind' | 'version' | 'at'>, at = this.clock.now()): void {
    this.currentVersion++;
    this.events.emit('change', { kind, version: this.currentVersion, at, ...fields });
  }
}

function prefixText(base: number): string {
  return `${formatIpv4(base)}/${PREFIX_LENGTH}`;
}

const AZ_ID_WORDS: Record<string, string> = {
  north: 'n', south: 's', east: 'e', west: 'w', central: 'c',
  northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw', gov: 'g',
};

/**
 * The zone id EC2 gives a zone name: region code letters + zone number, us-east-1a -> use1-az1,
 * ap-southeast-2b -> apse2-az2. (On EC2 the name-to-id mapping differs per account; here it
 * follows the letter.)
 */
export function azIdOf(az: string): string {
  const letter = az.charCodeAt(az.length - 1) - 96;
  const parts = az.slice(0, -1).split('-');
  const code = [parts[0], ...parts.slice(1, -1).map((w) => AZ_ID_WORDS[w] ?? w.charAt(0)), parts.at(-1)].join('');
  return `${code}-az${letter}`;
}

