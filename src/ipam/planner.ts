// Plan = targets applied to a snapshot of the pool. Pure: no state, no I/O, time passed in.
// Semantics follow the AWS VPC CNI's ipamd: grow when short of the warm target, shrink only
// whole free blocks / empty NICs and never below target (+ maxAboveTarget), so no flapping.
import type { BlockKind, NodeLimits } from '../../providers/provider.ts';
import type { Plan, PlanAction, PoolCondition, PoolMode, PoolSettings } from './types.ts';
import { blockSizeOf, nicCap, prefixLengthOf, slotsPerNic } from './targets.ts';

export interface BlockView {
  kind: BlockKind;
  cidr: string;
  size: number;
  assigned: number;
  available: number;
  cooldown: number;
  releasing: boolean;
  /** False while the cloud reports the block not ready (pending, failed): nothing is handed out from it. */
  usable: boolean;
}

export interface NicView {
  id: string;
  deviceIndex: number;
  detaching: boolean;
  blocks: BlockView[];
}

export interface PlanInput {
  /** Sorted by deviceIndex. */
  nics: NicView[];
  settings: PoolSettings;
  limits: NodeLimits;
  /** The provider can attach and detach NICs (its nicLifecycle capability). */
  nicLifecycle: boolean;
  mode: PoolMode;
  growthKind: BlockKind;
  /** A raised condition that pauses growth now, if any. */
  pausedBy?: PoolCondition;
  /** ADDs waiting for an address right now: asked for in the same batch as the warm target. */
  demand?: number;
  /** The pool grew recently: detach no NIC (addresses may still be released). */
  detachHold?: boolean;
  /** Blocks to ask for beyond the need in a prefix assign (growth was throttled: the account is starved). */
  extraBlocks?: number;
  /** Extra prefixes kept beyond the warm target (growth was throttled within the scale-down window). */
  keepExtraBlocks?: number;
  /** Most addresses in use at any moment of the scale-down window: shrinking keeps room for them plus the warm target. */
  recentPeak?: number;
}

interface Totals {
  total: number;
  available: number;
}

export function planFor(input: PlanInput): Plan {
  const totals = totalsOf(input.nics);
  const grow = growthAddresses(input, totals);
  if (grow.need > 0) {
    if (input.pausedBy) return { actions: [], reason: `short ${grow.need}, growth paused: ${input.pausedBy.type}` };
    const actions = growthActions(input, grow.need, grow.fillNics);
    const reason = actions.length ? `short ${grow.need} (${grow.why})` : `short ${grow.need} but no room (NIC/address limits)`;
    return { actions, reason };
  }
  const over = shrinkBudget(input, totals);
  const budget = Math.min(over, peakBudget(input, totals));
  if (over > 0 && budget <= 0) return { actions: [], reason: `over target by ${over}, held for the recent peak of ${input.recentPeak ?? 0} in use` };
  if (budget <= 0) return { actions: [], reason: `at target (${grow.why})` };
  const actions = shrinkActions(input, budget);
  return { actions, reason: actions.length ? `over target by ${budget} (${grow.why})` : `over target by ${budget}, nothing releasable` };
}

export function totalsOf(nics: NicView[]): Totals {
  let total = 0;
  let available = 0;
  for (const nic of nics) {
    if (nic.detaching) continue;
    for (const b of nic.blocks) {
      if (b.releasing) continue;
      total += b.size;
      available += b.available;
    }
  }
  return { total, available };
}

interface Growth {
  need: number;
  fillNics: boolean;
  why: string;
}

function growthAddresses(input: PlanInput, t: Totals): Growth {
  const s = input.settings;
  const maxPods = s.maxPods ?? Number.POSITIVE_INFINITY;
  const g = rawGrowth(input, t);
  const demand = input.mode === 'range' ? 0 : (input.demand ?? 0);
  const need = Math.min(g.need + demand, maxPods - t.total);
  if (g.need + demand > 0 && need <= 0) return { need: 0, fillNics: false, why: `${g.why}; maxPods ${maxPods} reached` };
  return { ...g, need: Math.max(need, 0), why: demand ? `${g.why}, ${demand} ADD waiting` : g.why };
}

function rawGrowth(input: PlanInput, t: Totals): Growth {
  const s = input.settings;
  switch (input.mode) {
    case 'range': {
      const held = input.nics.some((n) => n.blocks.some((b) => b.kind === 'range'));
      return { need: held ? 0 : 1, fillNics: false, why: 'one range per node' };
    }
    case 'warm-ip': {
      const warm = s.warmIps ?? 0;
      const min = s.minimumIps ?? 0;
      const need = Math.max(warm - t.available, min - t.total, 0);
      return { need, fillNics: false, why: `warm ips ${warm}, minimum ips ${min}` };
    }
    case 'warm-prefix': {
      const warm = s.warmPrefixes ?? 1;
      return { ...warmNeed(warm * blockSizeOf('prefix', s, input.limits), t.available), why: `warm prefixes ${warm}` };
    }
    case 'warm-nic': {
      const perNic = slotsPerNic(input.limits) * blockSizeOf(input.growthKind, s, input.limits);
      return { ...warmNeed(s.warmNics * perNic, t.available), fillNics: true, why: `warm nics ${s.warmNics}` };
    }
  }
}

/** ipamd: short when available < target, or when the target is 0 and nothing is available. */
function warmNeed(target: number, available: number): { need: number; fillNics: boolean } {
  if (target === 0) return { need: available === 0 ? 1 : 0, fillNics: false };
  return { need: Math.max(target - available, 0), fillNics: false };
}

function growthActions(input: PlanInput, need: number, fillNics: boolean): PlanAction[] {
  const { settings: s, limits, growthKind: kind } = input;
  const size = blockSizeOf(kind, s, limits);
  const slots = input.mode === 'range' ? 1 : slotsPerNic(limits);
  const prefixLength = kind === 'range' ? prefixLengthOf(kind, s, limits) : undefined;
  const actions: PlanAction[] = [];
  let left = need;
  // Extra prefixes ride on the first assign only (they are worth one call, not more), within maxPods.
  let extra = kind === 'prefix' && input.mode === 'warm-prefix' ? Math.max(0, input.extraBlocks ?? 0) : 0;
  const maxPods = s.maxPods ?? Number.POSITIVE_INFINITY;
  const held = totalsOf(input.nics).total;
  extra = Math.min(extra, Math.max(0, Math.floor((maxPods - held) / size) - Math.ceil(need / size)));
  for (const nic of input.nics) {
    if (left <= 0) break;
    const room = nic.detaching ? 0 : slots - nic.blocks.filter((b) => input.mode !== 'range' || b.kind === 'range').length;
    if (room <= 0) continue;
    const count = fillNics ? room : Math.min(room, Math.ceil(left / size) + extra);
    extra = 0;
    actions.push({ kind: 'assign', nicId: nic.id, blockKind: kind, count, ...(prefixLength ? { prefixLength } : {}) });
    left -= count * size;
  }
  if (!input.nicLifecycle || input.mode === 'range') return actions;
  const used = new Set(input.nics.map((n) => n.deviceIndex));
  const cap = nicCap(s, limits);
  while (left > 0 && used.size < cap && slots > 0) {
    const deviceIndex = lowestFree(used);
    used.add(deviceIndex);
    const count = fillNics ? slots : Math.min(slots, Math.ceil(left / size));
    actions.push({ kind: 'attach-nic', deviceIndex, blockKind: kind, blockCount: count });
    left -= count * size;
  }
  return actions;
}

function lowestFree(used: Set<number>): number {
  let i = 1;
  while (used.has(i)) i++;
  return i;
}

function shrinkBudget(input: PlanInput, t: Totals): number {
  const s = input.settings;
  switch (input.mode) {
    case 'range':
      return 0;
    case 'warm-ip': {
      const over = Math.min(t.available - (s.warmIps ?? 0), t.total - (s.minimumIps ?? 0));
      return over - s.maxAboveTarget;
    }
    case 'warm-prefix':
      return t.available - ((s.warmPrefixes ?? 1) + (input.keepExtraBlocks ?? 0)) * blockSizeOf('prefix', s, input.limits) - s.maxAboveTarget;
    case 'warm-nic': {
      const perNic = slotsPerNic(input.limits) * blockSizeOf(input.growthKind, s, input.limits);
      return t.available - s.warmNics * perNic - s.maxAboveTarget;
    }
  }
}

/**
 * Hysteresis (warm-NIC and warm-prefix modes): what may go while keeping room for the recent
 * peak in use plus the warm target as free addresses on top of it.
 */
function peakBudget(input: PlanInput, t: Totals): number {
  const peak = input.recentPeak;
  // WARM_IP_TARGET / MINIMUM_IP_TARGET ask for a tight address count: released above it, as ipamd does.
  if (peak === undefined || input.mode === 'range' || input.mode === 'warm-ip') return Number.POSITIVE_INFINITY;
  const s = input.settings;
  let warm: number;
  switch (input.mode) {
    case 'warm-prefix':
      warm = (s.warmPrefixes ?? 1) * blockSizeOf('prefix', s, input.limits);
      break;
    case 'warm-nic':
      warm = s.warmNics * slotsPerNic(input.limits) * blockSizeOf(input.growthKind, s, input.limits);
      break;
  }
  return t.total - peak - warm - s.maxAboveTarget;
}

function shrinkActions(input: PlanInput, budget: number): PlanAction[] {
  const actions: PlanAction[] = [];
  let left = budget;
  const detached = new Set<string>();
  const highestFirst = [...input.nics].reverse();
  if (input.nicLifecycle && !input.detachHold) {
    for (const nic of highestFirst) {
      const free = idleNicAvailable(nic);
      if (free === undefined || free > left) continue;
      actions.push({ kind: 'detach-nic', nicId: nic.id });
      detached.add(nic.id);
      left -= free;
    }
  }
  // WARM_ENI_TARGET mode frees whole NICs only (ipamd never unassigns single IPs there).
  if (input.mode === 'warm-nic') return actions;
  for (const nic of highestFirst) {
    if (nic.detaching || detached.has(nic.id)) continue;
    const blocks = releasableBlocks(nic, input.growthKind).filter((b) => {
      if (b.size > left) return false;
      left -= b.size;
      return true;
    });
    if (blocks.length) actions.push({ kind: 'release', nicId: nic.id, blocks: blocks.map((b) => ({ kind: b.kind, cidr: b.cidr })) });
  }
  return actions;
}

/** Available addresses of a secondary NIC nobody uses (none assigned, none cooling); else undefined. */
function idleNicAvailable(nic: NicView): number | undefined {
  if (nic.deviceIndex === 0 || nic.detaching) return undefined;
  let free = 0;
  for (const b of nic.blocks) {
    if (b.assigned > 0 || b.cooldown > 0 || b.releasing) return undefined;
    free += b.available;
  }
  return free;
}

/** Entirely free, out-of-cooldown blocks; blocks of the non-growth kind (fallback leftovers) first. */
function releasableBlocks(nic: NicView, growthKind: BlockKind): BlockView[] {
  return nic.blocks
    .filter((b) => b.kind !== 'range' && !b.releasing && b.assigned === 0 && b.cooldown === 0)
    .sort((a, b) => Number(a.kind === growthKind) - Number(b.kind === growthKind) || b.cidr.localeCompare(a.cidr));
}
