// The warm pool: pure state + policy. No I/O, no timers; every call takes `now`.
// The manager drives it: plan() -> begin(action) -> cloud call -> applyOutcome().
import type { CloudBlock, CloudNic, NodeLimits } from '../../providers/provider.ts';
import { VpcnetError } from '../errors.ts';
import { ConditionSet, conditionTypeOf, isAmbiguous } from './conditions.ts';
import { planFor } from './planner.ts';
import { restorePool } from './pool-restore.ts';
import { type BlockEntry, type NicEntry, PoolState, isCooling, podKeyOf, providerData } from './pool-state.ts';
import { growthKind, poolMode, withDefaults } from './targets.ts';
import type {
  NicPlace,
  ActionOutcome,
  AddressCounts,
  Allocation,
  CheckpointData,
  Plan,
  PlanAction,
  PodKey,
  PodRef,
  PoolSettings,
  PoolStatus,
  ReconcileReport,
} from './types.ts';

export interface PoolOptions {
  limits: NodeLimits;
  /** The provider attaches and detaches NICs (hasNicLifecycle); otherwise growth stays on the NICs the node has. */
  nicLifecycle: boolean;
  targets?: Partial<PoolSettings>;
  /** 0..1: jitters growth pauses after transient failures (nodes throttled together come back apart); default none. */
  random?: () => number;
}

export interface ReconcileOptions {
  /** Adopt unknown blocks as free at once (only when no checkpoint ever existed). */
  trustUnknown?: boolean;
}

export class Pool {
  readonly limits: NodeLimits;
  readonly nicLifecycle: boolean;
  readonly settings: PoolSettings;
  private readonly state = new PoolState();
  private readonly lost = new Map<string, Allocation>();
  private readonly conditions = new ConditionSet();
  private prefixFallbackUntil: number | undefined;
  /** Last time the pool grew (or first planned): secondary NICs are not detached within detachHoldMs of it. */
  private lastGrowthAt: number | undefined;
  /** Transient growth failures in a row (throttling, 5xx): each doubles the next growth pause. */
  private growthFailures = 0;
  /** Last transient growth failure (throttled, 5xx): extra prefixes bought since are kept for the scale-down window. */
  private lastGrowthFailureAt: number | undefined;
  /** Addresses in use, as a step function (a point per change): the recent peak bounds shrinking. */
  private readonly usage: Array<{ at: number; inUse: number }> = [];

  private readonly random: (() => number) | undefined;

  constructor(opts: PoolOptions) {
    this.random = opts.random;
    this.limits = opts.limits;
    this.nicLifecycle = opts.nicLifecycle;
    this.settings = withDefaults(opts.targets, { limits: opts.limits, nicLifecycle: opts.nicLifecycle });
  }

  static fromCheckpoint(data: CheckpointData, opts: PoolOptions): Pool {
    const pool = new Pool(opts);
    restorePool(pool.state, data);
    for (const a of data.lost) pool.lost.set(podKeyOf(a), { ...a });
    pool.conditions.restore(data.conditions);
    pool.prefixFallbackUntil = data.prefixFallbackUntil;
    return pool;
  }

  // ---- pods -------------------------------------------------------------------------------

  /** An address for the pod, the same one on a repeat; null when nothing is available now. */
  allocate(pod: PodRef, now: number): Allocation | null {
    const key = podKeyOf(pod);
    const existing = this.state.allocations.get(key);
    if (existing) return { ...existing };
    const maxPods = this.settings.maxPods;
    if (maxPods !== undefined && this.state.allocations.size >= maxPods) {
      throw new VpcnetError('POOL_AT_CAPACITY', `node is at its pod cap of ${maxPods} addresses`, { details: { maxPods } });
    }
    const pick = this.state.pickAvailable(now);
    if (!pick) return null;
    this.lost.delete(key);
    const alloc = allocationOf(pod, pick.ip, pick.block, pick.nic, now);
    const entry = this.state.addresses.get(pick.ip);
    if (entry) {
      entry.owner = key;
      delete entry.coolUntil;
    }
    this.state.allocations.set(key, alloc);
    this.noteUsage(now);
    return { ...alloc };
  }

  /** Frees the pod's address into cooldown; unknown pods are a no-op (null). */
  release(key: PodKey, now: number): Allocation | null {
    const k = podKeyOf(key);
    const alloc = this.state.allocations.get(k);
    if (!alloc) {
      const lost = this.lost.get(k);
      this.lost.delete(k);
      return lost ? { ...lost } : null;
    }
    this.state.allocations.delete(k);
    const entry = this.state.addresses.get(alloc.ip);
    if (entry) {
      delete entry.owner;
      entry.coolUntil = now + this.settings.cooldownMs;
    }
    this.noteUsage(now);
    return { ...alloc };
  }

  get(key: PodKey): Allocation | undefined {
    const a = this.state.allocations.get(podKeyOf(key)) ?? this.lost.get(podKeyOf(key));
    return a ? { ...a } : undefined;
  }

  allocations(): Allocation[] {
    return [...this.state.allocations.values()].map((a) => ({ ...a }));
  }

  /** Releases allocations of pods not in `live` (older than minAgeMs, so an ADD in flight is safe). */
  reconcilePods(live: PodKey[], now: number, opts: { minAgeMs?: number } = {}): Allocation[] {
    const keep = new Set(live.map(podKeyOf));
    const cutoff = now - (opts.minAgeMs ?? 0);
    const released: Allocation[] = [];
    for (const [k, a] of [...this.state.allocations, ...this.lost]) {
      if (keep.has(k) || a.allocatedAt > cutoff) continue;
      const r = this.release(a, now);
      if (r) released.push(r);
    }
    return released;
  }

  // ---- plan / act -------------------------------------------------------------------------

  /** What to do now to meet the targets; `demand` = ADDs waiting for an address. */
  plan(now: number, opts: { demand?: number } = {}): Plan {
    const pausedBy = this.growthPause(now, opts.demand ?? 0);
    this.lastGrowthAt ??= now;
    const detachHold = now - this.lastGrowthAt < (this.settings.detachHoldMs ?? 0);
    const recentPeak = this.recentPeak(now);
    return planFor({
      nics: this.state.nicViews(now),
      settings: this.settings,
      limits: this.limits,
      nicLifecycle: this.nicLifecycle,
      mode: poolMode(this.settings, this.limits),
      growthKind: this.growthKind(now),
      ...(pausedBy ? { pausedBy } : {}),
      ...(opts.demand ? { demand: opts.demand } : {}),
      ...(detachHold ? { detachHold } : {}),
      ...(recentPeak !== undefined ? { recentPeak } : {}),
      ...this.starvedExtras(now),
    });
  }

  /**
   * The condition pausing growth now. Pods waiting shorten a pause after a transient failure
   * (throttled, 5xx) to urgentRetryPauseMs since the failure: the provider's limiter paces the
   * urgent call to what the cloud's bucket refills, so waiting longer here only fails ADDs.
   */
  private growthPause(now: number, demand: number): ReturnType<ConditionSet['pausing']> {
    const p = this.conditions.pausing(now);
    const resume = demand > 0 ? this.urgentResumeAt(p) : undefined;
    return resume !== undefined && now >= resume ? undefined : p;
  }

  private urgentResumeAt(p: ReturnType<ConditionSet['pausing']>): number | undefined {
    if (p?.type !== 'CloudUnavailable' || this.lastGrowthFailureAt === undefined) return undefined;
    return this.lastGrowthFailureAt + Math.max(100, this.settings.urgentRetryPauseMs ?? 1000);
  }

  /** When growth paused by a transient failure may go on for waiting pods (undefined: not paused that way). */
  urgentGrowthAt(now: number): number | undefined {
    const resume = this.urgentResumeAt(this.conditions.pausing(now));
    return resume !== undefined && resume > now ? resume : undefined;
  }

  /**
   * On a starved account: ask for extra prefixes in the next assign, and keep them while growth
   * was throttled within the scale-down window (releasing them would cost a call, and the next
   * pods would buy them again at the price of another token).
   */
  private starvedExtras(now: number): { extraBlocks?: number; keepExtraBlocks?: number } {
    const extra = this.settings.extraPrefixesWhenThrottled ?? 0;
    if (extra <= 0 || this.lastGrowthFailureAt === undefined) return {};
    const keep = now - this.lastGrowthFailureAt < (this.settings.shrinkWindowMs ?? 0);
    return { ...(this.growthFailures > 0 ? { extraBlocks: extra } : {}), ...(keep ? { keepExtraBlocks: extra } : {}) };
  }

  private noteUsage(now: number): void {
    const inUse = this.state.allocations.size;
    const last = this.usage.at(-1);
    if (last?.inUse !== inUse) this.usage.push({ at: now, inUse });
  }

  /** Most addresses in use at any moment of the last shrinkWindowMs (the pool's own record; it starts empty after a restart). */
  private recentPeak(now: number): number | undefined {
    const window = this.settings.shrinkWindowMs ?? 0;
    if (window <= 0) return undefined;
    const from = now - window;
    // Keep the point in effect at the window's start; drop the ones before it.
    while (this.usage.length > 1 && (this.usage[1] as { at: number }).at <= from) this.usage.shift();
    let peak = this.state.allocations.size;
    for (const u of this.usage) peak = Math.max(peak, u.inUse);
    return peak;
  }

  /**
   * True when no ADD can get an address however long it waits: nothing free or cooling down,
   * and the planner (ignoring any growth pause) finds no NIC with room and no NIC to add.
   */
  atHardLimit(now: number): boolean {
    const c = this.counts(now);
    if (c.available > 0 || c.cooldown > 0) return false;
    const grow = planFor({
      nics: this.state.nicViews(now),
      settings: this.settings,
      limits: this.limits,
      nicLifecycle: this.nicLifecycle,
      mode: poolMode(this.settings, this.limits),
      growthKind: this.growthKind(now),
      demand: 1,
    });
    return !grow.actions.some((a) => a.kind === 'assign' || a.kind === 'attach-nic');
  }

  /** Raises or clears the NodeAddressLimit condition. */
  markHardLimit(at: boolean, now: number): void {
    if (at) this.conditions.raise('NodeAddressLimit', 'every NIC holds all the addresses it can and no NIC can be added', now);
    else this.conditions.clear('NodeAddressLimit');
  }

  /**
   * Call right before executing an action. Re-checks release/detach against the state now
   * (pods may have been added since the plan) and fences the blocks so nothing is handed out
   * from them. Returns the action to execute, or null when nothing of it is still valid.
   */
  begin(action: PlanAction, now: number): PlanAction | null {
    if (action.kind === 'release') return this.beginRelease(action, now);
    if (action.kind === 'detach-nic') return this.beginDetach(action.nicId, now);
    return action;
  }

  private beginRelease(action: Extract<PlanAction, { kind: 'release' }>, now: number): PlanAction | null {
    const nic = this.state.nics.get(action.nicId);
    if (!nic) return null;
    const blocks: CloudBlock[] = [];
    for (const b of action.blocks) {
      const entry = nic.blocks.get(b.cidr);
      if (!entry || entry.releasing || !this.blockIdle(entry, now)) continue;
      entry.releasing = true;
      blocks.push({ kind: entry.kind, cidr: entry.cidr, ...providerData(entry) });
    }
    return blocks.length ? { kind: 'release', nicId: action.nicId, blocks } : null;
  }

  private beginDetach(nicId: string, now: number): PlanAction | null {
    const nic = this.state.nics.get(nicId);
    if (!nic || nic.detaching || nic.info.deviceIndex === 0) return null;
    if (![...nic.blocks.values()].every((b) => !b.releasing && this.blockIdle(b, now))) return null;
    nic.detaching = true;
    return { kind: 'detach-nic', nicId };
  }

  private blockIdle(block: BlockEntry, now: number): boolean {
    return block.addresses.every((ip) => {
      const a = this.state.addresses.get(ip);
      return !a || (a.owner === undefined && !isCooling(a, now));
    });
  }

  /** Records exactly what the cloud did for one action. */
  applyOutcome(action: PlanAction, outcome: ActionOutcome, now: number): void {
    switch (action.kind) {
      case 'attach-nic':
        this.applyAttach(outcome);
        break;
      case 'assign':
        for (const b of outcome.blocks ?? []) this.addBlock(action.nicId, b);
        break;
      case 'release':
        this.applyRelease(action, outcome);
        break;
      case 'detach-nic':
        this.applyDetach(action.nicId, outcome);
        break;
    }
    if (outcome.error) this.recordFailure(action, outcome.error, now);
    else this.recordSuccess(action, now);
  }

  private applyAttach(outcome: ActionOutcome): void {
    if (!outcome.nic) return;
    const { blocks, ...info } = outcome.nic;
    this.state.addNic(info);
    for (const b of [...blocks, ...(outcome.blocks ?? [])]) this.addBlock(info.id, b);
  }

  /** A block handed to us may hold an address a lost pod still uses: it goes back to that pod. */
  private addBlock(nicId: string, block: CloudBlock, coolUntil?: number): { entry: BlockEntry; restored: Allocation[] } | undefined {
    const entry = this.state.addBlock(nicId, block, coolUntil);
    const nic = this.state.nics.get(nicId);
    if (!entry || !nic) return undefined;
    return { entry, restored: this.restoreLost(entry, nic) };
  }

  private applyRelease(action: Extract<PlanAction, { kind: 'release' }>, outcome: ActionOutcome): void {
    const released = new Set((outcome.blocks ?? (outcome.error ? [] : action.blocks)).map((b) => b.cidr));
    const keepFenced = outcome.error !== undefined && isAmbiguous(outcome.error.code);
    const nic = this.state.nics.get(action.nicId);
    for (const b of action.blocks) {
      if (released.has(b.cidr)) this.markLost(this.state.removeBlock(action.nicId, b.cidr));
      else if (!keepFenced) {
        const entry = nic?.blocks.get(b.cidr);
        if (entry) entry.releasing = false;
      }
    }
  }

  private applyDetach(nicId: string, outcome: ActionOutcome): void {
    if (!outcome.error) this.markLost(this.state.removeNic(nicId));
    else if (!isAmbiguous(outcome.error.code)) {
      const nic = this.state.nics.get(nicId);
      if (nic) nic.detaching = false;
    }
  }

  private recordFailure(action: PlanAction, error: NonNullable<ActionOutcome['error']>, now: number): void {
    const type = conditionTypeOf(error.code);
    const grows = action.kind === 'assign' || action.kind === 'attach-nic';
    if (!grows) return this.conditions.raise(type, `${action.kind} failed: ${error.message}`, now);
    if (error.code === 'SUBNET_FULL' && action.blockKind === 'prefix' && this.limits.blockKinds.includes('ip')) {
      this.prefixFallbackUntil = now + (this.settings.prefixFallbackMs ?? 0);
      const msg = `no free prefix in the subnet; using secondary IPs until ${new Date(this.prefixFallbackUntil).toISOString()}`;
      return this.conditions.raise('SubnetFull', msg, now);
    }
    let pause = this.settings.growthPauseMs ?? 0;
    if (type === 'CloudUnavailable') {
      // Throttled or unavailable again and again: wait longer each time (the account is starved).
      const base = this.settings.retryPauseMs ?? 0;
      pause = Math.min(Math.max(base, this.settings.retryPauseMaxMs ?? base), base * 2 ** this.growthFailures);
      // Jittered to 50-100 % (when a random source is given), so nodes throttled together do not retry together.
      if (this.random) pause = Math.round(pause * (0.5 + 0.5 * this.random()));
      this.growthFailures++;
      this.lastGrowthFailureAt = now;
    }
    this.conditions.raise(type, `${action.kind} failed: ${error.message}`, now, now + pause);
  }

  private recordSuccess(action: PlanAction, now: number): void {
    if (action.kind === 'release' || action.kind === 'detach-nic') {
      for (const c of this.conditions.list()) if (c.until === undefined && c.type !== 'SubnetFull') this.conditions.clear(c.type);
      return;
    }
    this.lastGrowthAt = now;
    this.growthFailures = 0;
    this.conditions.clear('CloudUnavailable');
    this.conditions.clear('CloudLimitReached');
    this.conditions.clear('CloudPermissionDenied');
    if (action.blockKind === 'prefix') this.prefixFallbackUntil = undefined;
    if (!this.prefixFallbackActive(now)) this.conditions.clear('SubnetFull');
  }

  private prefixFallbackActive(now: number): boolean {
    return this.prefixFallbackUntil !== undefined && this.prefixFallbackUntil > now;
  }

  private growthKind(now: number): CloudBlock['kind'] {
    return growthKind(this.settings, this.limits, this.prefixFallbackActive(now));
  }

  // ---- cloud truth ------------------------------------------------------------------------

  /** Makes the pool match the cloud's NICs and blocks. The cloud wins; nothing is assigned twice. */
  reconcile(cloudNics: CloudNic[], now: number, opts: ReconcileOptions = {}): ReconcileReport {
    const report: ReconcileReport = { adopted: [], removed: [], lost: [], restored: [], nicsAdded: [], nicsRemoved: [] };
    const cloudIds = new Set(cloudNics.map((n) => n.id));
    for (const id of [...this.state.nics.keys()]) {
      if (cloudIds.has(id)) continue;
      const nic = this.state.nics.get(id);
      for (const b of nic?.blocks.values() ?? []) report.removed.push({ nicId: id, block: { kind: b.kind, cidr: b.cidr } });
      report.lost.push(...this.markLost(this.state.removeNic(id)));
      report.nicsRemoved.push(id);
    }
    // Drop first, adopt second: an address may have moved from one NIC to another.
    for (const cloudNic of cloudNics) this.dropMissingBlocks(cloudNic, report);
    for (const cloudNic of cloudNics) this.adoptNewBlocks(cloudNic, now, opts, report);
    return report;
  }

  private dropMissingBlocks(cloudNic: CloudNic, report: ReconcileReport): void {
    const { blocks, ...info } = cloudNic;
    if (!this.state.nics.has(info.id)) report.nicsAdded.push(info.id);
    const nic = this.state.addNic(info);
    nic.detaching = false;
    const inCloud = new Set(blocks.map((b) => b.cidr));
    for (const b of blocks) this.state.refreshBlock(info.id, b);
    for (const entry of [...nic.blocks.values()]) {
      if (inCloud.has(entry.cidr)) {
        entry.releasing = false;
        continue;
      }
      report.removed.push({ nicId: info.id, block: { kind: entry.kind, cidr: entry.cidr } });
      report.lost.push(...this.markLost(this.state.removeBlock(info.id, entry.cidr)));
    }
  }

  private adoptNewBlocks(cloudNic: CloudNic, now: number, opts: ReconcileOptions, report: ReconcileReport): void {
    const nic = this.state.nics.get(cloudNic.id);
    if (!nic) return;
    const coolUntil = opts.trustUnknown ? undefined : now + this.settings.cooldownMs;
    for (const b of cloudNic.blocks) {
      if (nic.blocks.has(b.cidr)) continue;
      const added = this.addBlock(cloudNic.id, b, coolUntil);
      if (!added) continue;
      report.adopted.push({ nicId: cloudNic.id, block: { kind: b.kind, cidr: b.cidr } });
      report.restored.push(...added.restored);
    }
  }

  private markLost(orphans: Allocation[]): Allocation[] {
    for (const a of orphans) this.lost.set(podKeyOf(a), a);
    return orphans.map((a) => ({ ...a }));
  }

  /** A block came back: pods that had an address in it get it back (never handed to anyone else). */
  private restoreLost(block: BlockEntry, nic: NicEntry): Allocation[] {
    const restored: Allocation[] = [];
    for (const [key, a] of this.lost) {
      const entry = this.state.addresses.get(a.ip);
      if (!entry || entry.block !== block) continue;
      const alloc = { ...a, nicId: nic.info.id, deviceIndex: nic.info.deviceIndex, nicMac: nic.info.mac, subnetCidr: nic.info.subnetCidr };
      entry.owner = key;
      delete entry.coolUntil;
      this.state.allocations.set(key, alloc);
      this.lost.delete(key);
      restored.push({ ...alloc });
    }
    return restored;
  }

  // ---- reporting --------------------------------------------------------------------------

  counts(now: number): AddressCounts {
    const c: AddressCounts = { assigned: 0, available: 0, cooldown: 0, total: 0 };
    for (const nic of this.state.nicViews(now)) {
      for (const b of nic.blocks) {
        c.assigned += b.assigned;
        c.available += b.available;
        c.cooldown += b.cooldown;
        c.total += b.size;
      }
    }
    return c;
  }

  /** Where each NIC is (no address counts): what the datapath needs to wire a pod, cheap enough for every ADD. */
  nicPlaces(): NicPlace[] {
    return [...this.state.nics.values()].map((n) => ({ id: n.info.id, deviceIndex: n.info.deviceIndex, subnetCidr: n.info.subnetCidr, primaryIp: n.info.primaryIp }));
  }

  status(now: number): PoolStatus {
    const nics = this.state.nicStatuses(now);
    // the counts from the same pass (status is published on every allocate and release)
    const counts: AddressCounts = { assigned: 0, available: 0, cooldown: 0, total: 0 };
    for (const b of nics.flatMap((n) => n.blocks)) {
      counts.assigned += b.assigned;
      counts.available += b.available;
      counts.cooldown += b.cooldown;
      counts.total += b.addresses;
    }
    return {
      mode: poolMode(this.settings, this.limits),
      blockKind: this.growthKind(now),
      counts,
      nics,
      targets: { ...this.settings },
      conditions: this.conditions.list(),
      lost: [...this.lost.values()].map((a) => ({ ...a })),
    };
  }

  /** Earliest time a cooling address becomes available again (so a waiter can wake then). */
  nextCooldownEnd(now: number): number | undefined {
    let next: number | undefined;
    for (const a of this.state.addresses.values()) {
      if (a.owner === undefined && a.coolUntil !== undefined && a.coolUntil > now) next = Math.min(next ?? a.coolUntil, a.coolUntil);
    }
    return next;
  }

  toCheckpoint(): CheckpointData {
    const data: CheckpointData = {
      nics: this.state.cloudNics(),
      allocations: this.allocations(),
      lost: [...this.lost.values()].map((a) => ({ ...a })),
      cooldowns: this.state.cooldowns(),
      conditions: this.conditions.list(),
    };
    if (this.prefixFallbackUntil !== undefined) data.prefixFallbackUntil = this.prefixFallbackUntil;
    return data;
  }
}

function allocationOf(pod: PodRef, ip: string, block: BlockEntry, nic: NicEntry, now: number): Allocation {
  return {
    ...pod,
    ip,
    blockCidr: block.cidr,
    blockKind: block.kind,
    nicId: nic.info.id,
    deviceIndex: nic.info.deviceIndex,
    nicMac: nic.info.mac,
    subnetCidr: nic.info.subnetCidr,
    allocatedAt: now,
  };
}
