// In-memory CloudProvider that behaves like a real cloud: finite subnet (SUBNET_FULL),
// per-instance NIC and address limits, prefixes, idempotent release/detach/delete, listNics
// as the only truth. Tests inject faults per operation and count calls from the call log.
import { VpcnetError, type ErrorCode } from '../../src/errors.ts';
import { systemClock, type Clock } from '../../src/util/clock.ts';
import type {
  AssignRequest,
  AttachNicRequest,
  BlockKind,
  CloudBlock,
  CloudNic,
  BlockState,
  CloudProvider,
  LeakedNic,
  LeakedNicCleanup,
  NicLifecycle,
  NodeInfo,
  NodeLimits,
  ProviderName,
  ReleaseRequest,
} from '../provider.ts';
import { FakeSubnet } from './fake-subnet.ts';

export type FakeOp = 'discover' | 'listNics' | 'attachNic' | 'detachNic' | 'assign' | 'release' | 'findLeakedNics' | 'deleteNic';

export interface FakeCall {
  op: FakeOp;
  args: unknown;
  ok: boolean;
  code?: ErrorCode;
}

export interface FaultOptions {
  times?: number;
  /**
   * before: the call fails and nothing happens (default).
   * after: the cloud does the work, then the caller sees the error (a timeout after success).
   * created (attachNic only): the NIC is created but never attached: a leak for findLeakedNics.
   */
  when?: 'before' | 'after' | 'created';
}

export interface FakeProviderOptions {
  name?: ProviderName;
  limits?: Partial<NodeLimits>;
  /** Capability: NICs can be attached and detached at run time (default true, as on AWS). */
  nicLifecycle?: boolean;
  /** Capability: leaked-NIC clean-up (default: same as nicLifecycle). */
  leakedNics?: boolean;
  /** MTU the node's NICs report (default 9001, AWS). */
  mtu?: number;
  /**
   * Blocks carry provider data: a ref (`${refPrefix}N`, e.g. Azure's ipConfiguration name or
   * GCE's secondary range name) and a state ('ready' once assigned). Default: none, as on AWS.
   */
  blockRefs?: { prefix: string };
  /** The node's subnet; small ones run out (SUBNET_FULL). Default 10.0.0.0/24. */
  subnetCidr?: string;
  /** Where `range` blocks come from (GCE secondary range). Default 10.100.0.0/16. */
  rangeCidr?: string;
  /** Addresses the cloud reserves at the start / end of the subnet (AWS: 4 and 1). */
  reservedLow?: number;
  reservedHigh?: number;
  clock?: Clock;
  /** Runs before every call (after it is logged); tests use it to hold or observe calls. */
  hook?: (op: FakeOp, args: unknown) => Promise<void> | void;
}

interface Fault {
  code: ErrorCode;
  times: number;
  when: 'before' | 'after' | 'created';
}

/** Ranges one NIC may hold in the fake (a fake limit; range nodes use one). */
const FAKE_RANGES_PER_NIC = 10;

const DEFAULT_LIMITS = { maxNics: 3, addressesPerNic: 10, blockKinds: ['ip', 'prefix'], prefixLength: 28 } satisfies Omit<NodeLimits, 'maxPods'>;

export class FakeCloudProvider implements CloudProvider {
  readonly name: ProviderName;
  readonly limits: NodeLimits;
  readonly nicLifecycle?: NicLifecycle;
  readonly leakedNics?: LeakedNicCleanup;
  readonly mtu: number;
  private readonly blockRefs: { prefix: string } | undefined;
  private refSeq = 0;
  readonly calls: FakeCall[] = [];
  readonly subnet: FakeSubnet;
  readonly rangeSpace: FakeSubnet;
  hook: FakeProviderOptions['hook'];
  private readonly clock: Clock;
  private readonly nics = new Map<string, CloudNic>();
  private readonly unattached = new Map<string, { nic: CloudNic; since: number }>();
  private readonly faults = new Map<FakeOp, Fault[]>();
  private readonly shorts = new Map<FakeOp, { blocks: number; times: number }>();
  private seq = 0;

  constructor(opts: FakeProviderOptions = {}) {
    this.name = opts.name ?? 'aws';
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    // Default max pods: every secondary slot plus two host-network pods (the AWS VPC CNI's count).
    this.limits = { ...limits, maxPods: opts.limits?.maxPods ?? limits.maxNics * (limits.addressesPerNic - 1) + 2 };
    this.mtu = opts.mtu ?? 9001;
    this.blockRefs = opts.blockRefs;
    if (opts.nicLifecycle ?? true) this.nicLifecycle = { attachNic: (r) => this.attachNic(r), detachNic: (id) => this.detachNic(id) };
    if (opts.leakedNics ?? opts.nicLifecycle ?? true) this.leakedNics = { findLeakedNics: (g) => this.findLeakedNics(g), deleteNic: (id) => this.deleteNic(id) };
    this.subnet = new FakeSubnet(opts.subnetCidr ?? '10.0.0.0/24', opts.reservedLow ?? 4, opts.reservedHigh ?? 1);
    this.rangeSpace = new FakeSubnet(opts.rangeCidr ?? '10.100.0.0/16');
    this.clock = opts.clock ?? systemClock;
    this.hook = opts.hook;
    const primary = this.createNic(0, []);
    if (!primary) throw new VpcnetError('SUBNET_FULL', 'fake subnet has no address for the primary NIC');
    this.nics.set(primary.id, primary);
  }

  // ---- test controls ----------------------------------------------------------------------

  /** The next `times` calls of `op` fail with `code`. */
  failNext(op: FakeOp, code: ErrorCode, opts: FaultOptions = {}): void {
    const list = this.faults.get(op) ?? [];
    list.push({ code, times: opts.times ?? 1, when: opts.when ?? 'before' });
    this.faults.set(op, list);
  }

  /** The next `times` assign/attachNic calls succeed with at most `blocks` blocks (partial success). */
  shortNext(op: 'assign' | 'attachNic', blocks: number, times = 1): void {
    this.shorts.set(op, { blocks, times });
  }

  callCount(op?: FakeOp, ok?: boolean): number {
    return this.calls.filter((c) => (op === undefined || c.op === op) && (ok === undefined || c.ok === ok)).length;
  }

  get primaryNic(): CloudNic {
    return copyNic([...this.nics.values()].find((n) => n.deviceIndex === 0) as CloudNic);
  }

  /** Out-of-band change: the cloud lost a block (someone unassigned it). */
  dropBlock(nicId: string, cidr: string): void {
    const nic = this.nics.get(nicId);
    if (!nic) return;
    nic.blocks = nic.blocks.filter((b) => b.cidr !== cidr);
    this.spaceOf(cidr).giveBack(cidr);
  }

  /** Out-of-band change: a block appears that this node's agent did not ask for. */
  addBlockOutOfBand(nicId: string, kind: BlockKind): CloudBlock | undefined {
    const nic = this.nics.get(nicId);
    const block = this.takeBlock(kind, this.limits.prefixLength ?? 28);
    if (nic && block) nic.blocks.push(block);
    return block;
  }

  /** Out-of-band change: someone detached and deleted a secondary NIC. */
  removeNicOutOfBand(nicId: string): void {
    const nic = this.nics.get(nicId);
    if (!nic || nic.deviceIndex === 0) return;
    this.freeNic(nic);
    this.nics.delete(nicId);
  }

  /** Out-of-band change: the cloud reports a block in another state (Azure: Updating, Failed). */
  setBlockState(nicId: string, cidr: string, state: BlockState): void {
    const block = this.nics.get(nicId)?.blocks.find((b) => b.cidr === cidr);
    if (block) block.state = state;
  }

  /** Every address of the subnet that is not in use, as a count. */
  get subnetFree(): number {
    return this.subnet.free;
  }

  // ---- CloudProvider ----------------------------------------------------------------------

  async discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return this.call('discover', undefined, () => {
      const p = this.primaryNic;
      const node: NodeInfo = {
        provider: this.name,
        instanceId: 'i-fake0001',
        instanceType: 'fake.large',
        region: 'fake-region-1',
        zone: 'fake-region-1a',
        networkId: 'vpc-fake',
        vpcCidrs: [this.subnet.cidr],
        primaryNicId: p.id,
        primaryIp: p.primaryIp,
        primarySubnetId: p.subnetId,
        mtu: this.mtu,
      };
      return { node, limits: { ...this.limits, blockKinds: [...this.limits.blockKinds] } };
    });
  }

  async listNics(): Promise<CloudNic[]> {
    return this.call('listNics', undefined, () => [...this.nics.values()].sort((a, b) => a.deviceIndex - b.deviceIndex).map(copyNic));
  }

  async attachNic(req: AttachNicRequest): Promise<CloudNic> {
    return this.call('attachNic', req, (fault) => {
      this.checkAttach(req);
      const count = this.shortened('attachNic', req.blockCount ?? 0);
      const blocks = req.blockKind && count > 0 ? this.takeBlocks(req.blockKind, count) : [];
      const nic = this.createNic(req.deviceIndex, blocks, req.securityGroups);
      if (!nic) {
        blocks.forEach((b) => this.spaceOf(b.cidr).giveBack(b.cidr));
        throw new VpcnetError('SUBNET_FULL', 'no free address in the subnet for a new NIC');
      }
      if (fault?.when === 'created') {
        this.unattached.set(nic.id, { nic, since: this.clock.now() });
        throw new VpcnetError(fault.code, `fake: NIC ${nic.id} created but attach failed`);
      }
      this.nics.set(nic.id, nic);
      return copyNic(nic);
    });
  }

  async detachNic(nicId: string): Promise<void> {
    return this.call('detachNic', nicId, () => {
      const nic = this.nics.get(nicId);
      if (!nic) return;
      if (nic.deviceIndex === 0) throw new VpcnetError('CLOUD_BAD_REQUEST', 'the primary NIC cannot be detached');
      this.freeNic(nic);
      this.nics.delete(nicId);
    });
  }

  async assign(req: AssignRequest): Promise<CloudBlock[]> {
    return this.call('assign', req, () => {
      const nic = this.nics.get(req.nicId);
      if (!nic) throw new VpcnetError('CLOUD_NOT_FOUND', `NIC ${req.nicId} not found`);
      if (!this.limits.blockKinds.includes(req.kind)) throw new VpcnetError('CLOUD_BAD_REQUEST', `block kind ${req.kind} not supported`);
      if (!Number.isInteger(req.count) || req.count < 1) throw new VpcnetError('CLOUD_BAD_REQUEST', `bad count ${req.count}`);
      if (req.kind === 'range') {
        if (nic.blocks.filter((b) => b.kind === 'range').length + req.count > FAKE_RANGES_PER_NIC) {
          throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `NIC ${nic.id} cannot hold ${req.count} more ranges`);
        }
      } else if (nic.blocks.filter((b) => b.kind !== 'range').length + req.count > this.limits.addressesPerNic - 1) {
        throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `NIC ${nic.id} cannot hold ${req.count} more blocks`);
      }
      const blocks = this.takeBlocks(req.kind, this.shortened('assign', req.count), req.prefixLength);
      nic.blocks.push(...blocks);
      return blocks.map((b) => ({ ...b }));
    });
  }

  async release(req: ReleaseRequest): Promise<void> {
    return this.call('release', req, () => {
      const nic = this.nics.get(req.nicId);
      if (!nic) return;
      const drop = new Set(req.blocks.map((b) => b.cidr));
      for (const b of nic.blocks) if (drop.has(b.cidr)) this.spaceOf(b.cidr).giveBack(b.cidr);
      nic.blocks = nic.blocks.filter((b) => !drop.has(b.cidr));
    });
  }

  async findLeakedNics(graceMs: number): Promise<LeakedNic[]> {
    return this.call('findLeakedNics', graceMs, () =>
      [...this.unattached.values()]
        .filter((u) => u.since <= this.clock.now() - graceMs)
        .map((u) => ({ id: u.nic.id, subnetId: u.nic.subnetId, since: u.since })),
    );
  }

  async deleteNic(nicId: string): Promise<void> {
    return this.call('deleteNic', nicId, () => {
      if (this.nics.has(nicId)) throw new VpcnetError('CLOUD_CONFLICT', `NIC ${nicId} is attached`);
      const u = this.unattached.get(nicId);
      if (!u) return;
      this.freeNic(u.nic);
      this.unattached.delete(nicId);
    });
  }

  // ---- internals --------------------------------------------------------------------------

  private async call<T>(op: FakeOp, args: unknown, work: (fault: Fault | undefined) => T): Promise<T> {
    const record: FakeCall = { op, args: structuredClone(args), ok: true };
    this.calls.push(record);
    await this.hook?.(op, args);
    const fault = this.takeFault(op);
    try {
      if (fault?.when === 'before') throw new VpcnetError(fault.code, `fake: injected ${fault.code} on ${op}`);
      const result = work(fault);
      if (fault?.when === 'after') throw new VpcnetError(fault.code, `fake: injected ${fault.code} on ${op} after it took effect`);
      return result;
    } catch (err) {
      record.ok = false;
      if (err instanceof VpcnetError) record.code = err.code;
      throw err;
    }
  }

  private takeFault(op: FakeOp): Fault | undefined {
    const list = this.faults.get(op);
    const fault = list?.[0];
    if (!list || !fault) return undefined;
    if (--fault.times <= 0) list.shift();
    return { ...fault };
  }

  private shortened(op: FakeOp, count: number): number {
    const s = this.shorts.get(op);
    if (!s) return count;
    if (--s.times <= 0) this.shorts.delete(op);
    return Math.min(count, s.blocks);
  }

  private checkAttach(req: AttachNicRequest): void {
    if (!this.nicLifecycle) throw new VpcnetError('CLOUD_BAD_REQUEST', 'this node cannot attach NICs');
    if (this.nics.size >= this.limits.maxNics) throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `instance holds ${this.limits.maxNics} NICs already`);
    if ([...this.nics.values()].some((n) => n.deviceIndex === req.deviceIndex)) {
      throw new VpcnetError('CLOUD_CONFLICT', `device index ${req.deviceIndex} is in use`);
    }
    if (req.subnetId !== undefined && req.subnetId !== 'subnet-fake') throw new VpcnetError('CLOUD_NOT_FOUND', `subnet ${req.subnetId} not found`);
    if ((req.blockCount ?? 0) > this.limits.addressesPerNic - 1) {
      throw new VpcnetError('CLOUD_LIMIT_EXCEEDED', `a NIC holds at most ${this.limits.addressesPerNic - 1} blocks`);
    }
  }

  /** All or nothing, like the real APIs: SUBNET_FULL when the subnet cannot give every block. */
  private takeBlocks(kind: BlockKind, count: number, prefixLength?: number): CloudBlock[] {
    const blocks: CloudBlock[] = [];
    for (let i = 0; i < count; i++) {
      const b = this.takeBlock(kind, prefixLength ?? (kind === 'range' ? 24 : (this.limits.prefixLength ?? 28)));
      if (!b) {
        blocks.forEach((x) => this.spaceOf(x.cidr).giveBack(x.cidr));
        throw new VpcnetError('SUBNET_FULL', `no free ${kind === 'ip' ? 'address' : `/${prefixLength ?? this.limits.prefixLength} block`} in the subnet`);
      }
      blocks.push(b);
    }
    return blocks;
  }

  private takeBlock(kind: BlockKind, prefixLength: number): CloudBlock | undefined {
    let cidr: string | undefined;
    if (kind === 'ip') {
      const ip = this.subnet.takeAddress();
      cidr = ip ? `${ip}/32` : undefined;
    } else {
      cidr = (kind === 'range' ? this.rangeSpace : this.subnet).takeBlock(prefixLength);
    }
    if (!cidr) return undefined;
    return this.blockRefs ? { kind, cidr, ref: `${this.blockRefs.prefix}${++this.refSeq}`, state: 'ready' } : { kind, cidr };
  }

  private spaceOf(cidr: string): FakeSubnet {
    return this.subnet.contains(cidr) ? this.subnet : this.rangeSpace;
  }

  private createNic(deviceIndex: number, blocks: CloudBlock[], securityGroups = ['sg-fake']): CloudNic | undefined {
    const primaryIp = this.subnet.takeAddress();
    if (!primaryIp) return undefined;
    const n = ++this.seq;
    return {
      id: `eni-fake${String(n).padStart(4, '0')}`,
      deviceIndex,
      mac: `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
      subnetId: 'subnet-fake',
      subnetCidr: this.subnet.cidr,
      primaryIp,
      securityGroups: [...securityGroups],
      blocks,
    };
  }

  private freeNic(nic: CloudNic): void {
    for (const b of nic.blocks) this.spaceOf(b.cidr).giveBack(b.cidr);
    this.subnet.giveBack(`${nic.primaryIp}/32`);
  }
}

function copyNic(nic: CloudNic): CloudNic {
  return { ...nic, securityGroups: [...nic.securityGroups], blocks: nic.blocks.map((b) => ({ ...b })) };
}
