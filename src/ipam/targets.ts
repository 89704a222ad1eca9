// Target defaults (AWS VPC CNI's) and the arithmetic the planner shares with status output.
import type { BlockKind, NodeLimits } from '../../providers/provider.ts';
import type { PoolMode, PoolSettings, PoolTargets, PoolTuning } from './types.ts';

/** AWS VPC CNI defaults: WARM_ENI_TARGET=1, IP_COOLDOWN_PERIOD=30s, WARM_PREFIX_TARGET=1 in prefix mode. */
export const DEFAULT_TARGETS: PoolTargets & Required<Omit<PoolTuning, 'rangePrefixLength'>> = {
  warmNics: 1,
  maxAboveTarget: 0,
  cooldownMs: 30_000,
  prefixDelegation: false,
  growthPauseMs: 60_000,
  retryPauseMs: 5_000,
  retryPauseMaxMs: 300_000,
  urgentRetryPauseMs: 1_000,
  // A NIC detached soon after growth is often created again on the next wave of pods, at two
  // network-interface tokens each time: keep NICs at least 10 minutes after the last growth.
  detachHoldMs: 600_000,
  // Shrinking only below the busiest moment of the last 30 minutes: a release-and-refill cycle
  // (a rolling update, a batch wave) shorter than that detaches no NIC and unassigns no block
  // that the refill would request again (three NIC calls, or an assign, each on a 5/s account
  // bucket). Cost: the addresses of that peak stay on the node for up to 30 minutes.
  shrinkWindowMs: 1_800_000,
  prefixFallbackMs: 300_000,
  extraPrefixesWhenThrottled: 1,
};

/**
 * Free addresses kept on a node that cannot attach NICs, when no warm target is configured:
 * Cilium's ENI/Azure IPAM default `pre-allocate` of 8 (docs/ipam.md cites it). Filling a whole
 * NIC there would mean 255 addresses on an Azure NIC.
 */
export const DEFAULT_WARM_IPS_NO_ATTACH = 8;

/** What the defaults depend on: the node's limits and whether its provider attaches NICs. */
export interface NodeShape {
  limits: Pick<NodeLimits, 'blockKinds'>;
  nicLifecycle: boolean;
}

/**
 * Settings = defaults that follow the node < explicit targets. A node that attaches NICs keeps
 * the AWS VPC CNI default (WARM_ENI_TARGET=1); one that cannot gets warm-IP targets, since
 * warm-NIC mode would fill its only NIC; a range-only node is in range mode whatever is set.
 */
export function withDefaults(targets: Partial<PoolSettings> = {}, node?: NodeShape): PoolSettings {
  const merged: PoolSettings = { ...DEFAULT_TARGETS };
  for (const [k, v] of Object.entries(targets)) {
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  if (node && !node.nicLifecycle && node.limits.blockKinds.some((k) => k !== 'range') && !warmIpTargetsSet(merged) && !prefixGrowth(merged, node.limits)) {
    merged.warmIps = DEFAULT_WARM_IPS_NO_ATTACH;
  }
  return merged;
}

function prefixGrowth(t: PoolSettings, limits: Pick<NodeLimits, 'blockKinds'>): boolean {
  return t.prefixDelegation && limits.blockKinds.includes('prefix');
}

/** WARM_IP_TARGET / MINIMUM_IP_TARGET count as set when either is above zero (ipamd's rule). */
export function warmIpTargetsSet(t: PoolSettings): boolean {
  return (t.warmIps ?? 0) > 0 || (t.minimumIps ?? 0) > 0;
}

export function poolMode(t: PoolSettings, limits: NodeLimits): PoolMode {
  if (!limits.blockKinds.some((k) => k !== 'range')) return 'range';
  if (warmIpTargetsSet(t)) return 'warm-ip';
  if (t.prefixDelegation && limits.blockKinds.includes('prefix')) return 'warm-prefix';
  return 'warm-nic';
}

/** Kind of block growth uses: prefixes when enabled and not falling back, else addresses. */
export function growthKind(t: PoolSettings, limits: NodeLimits, prefixFallback: boolean): BlockKind {
  const kinds = limits.blockKinds;
  if (t.prefixDelegation && kinds.includes('prefix') && !prefixFallback) return 'prefix';
  if (kinds.includes('ip')) return 'ip';
  return kinds[0] ?? 'ip';
}

export function prefixLengthOf(kind: BlockKind, t: PoolSettings, limits: NodeLimits): number {
  if (kind === 'ip') return 32;
  if (kind === 'range') return t.rangePrefixLength ?? limits.prefixLength ?? 24;
  return limits.prefixLength ?? 28;
}

export function blockSizeOf(kind: BlockKind, t: PoolSettings, limits: NodeLimits): number {
  return 2 ** (32 - prefixLengthOf(kind, t, limits));
}

/** Secondary slots on one NIC: the NIC's own primary address takes one of addressesPerNic. */
export function slotsPerNic(limits: NodeLimits): number {
  return Math.max(0, limits.addressesPerNic - 1);
}

/** NICs the pool may use: the instance limit, lowered by MAX_ENI. */
export function nicCap(t: PoolSettings, limits: NodeLimits): number {
  return Math.min(limits.maxNics, t.maxNics ?? Number.POSITIVE_INFINITY);
}
