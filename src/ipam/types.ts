// Types shared by the pool core, its manager and its callers (CNI handler, CLI, API).
import type { BlockKind, CloudBlock, CloudNic } from '../../providers/provider.ts';
import type { ErrorCode } from '../errors.ts';

/** The pod attachment an address belongs to; CNI identifies it by containerID + ifname. */
export interface PodKey {
  containerId: string;
  ifname: string;
}

export interface PodRef extends PodKey {
  netns?: string;
  /** Identity of the netns at ADD ("dev:ino"): a repeated ADD must name the same namespace. */
  netnsId?: string;
  /** Digest of the network config at ADD: a repeated ADD must carry the same config. */
  confDigest?: string;
  podNamespace?: string;
  podName?: string;
  podUid?: string;
}

/** What a pod gets from the pool: everything the datapath needs to wire it. */
export interface Allocation extends PodRef {
  ip: string;
  /** The block the address came from (a /32 for per-address blocks). */
  blockCidr: string;
  blockKind: BlockKind;
  nicId: string;
  deviceIndex: number;
  nicMac: string;
  subnetCidr: string;
  /** Milliseconds since the epoch. */
  allocatedAt: number;
}

/** Warm-pool targets, with AWS VPC CNI names in comments. */
export interface PoolTargets {
  /** WARM_ENI_TARGET: keep this many whole NICs' worth of free addresses. */
  warmNics: number;
  /** WARM_IP_TARGET: keep this many free addresses (overrides warmNics when set). */
  warmIps?: number;
  /** MINIMUM_IP_TARGET: hold at least this many addresses in total. */
  minimumIps?: number;
  /** WARM_PREFIX_TARGET: keep this many free prefixes (prefix mode). */
  warmPrefixes?: number;
  /** MAX_ENI: never use more NICs than this (the primary included). */
  maxNics?: number;
  /** Cap on pods (addresses handed out) on this node. */
  maxPods?: number;
  /** Free addresses tolerated above the target before releasing, so the pool does not flap. */
  maxAboveTarget: number;
  /** A released address rests this long before it is handed out again. */
  cooldownMs: number;
  /** Prefer /28 prefix blocks where the node supports them. */
  prefixDelegation: boolean;
}

export type PlanAction =
  | { kind: 'attach-nic'; deviceIndex: number; blockKind: BlockKind; blockCount: number }
  | { kind: 'assign'; nicId: string; blockKind: BlockKind; count: number; prefixLength?: number }
  | { kind: 'release'; nicId: string; blocks: CloudBlock[] }
  | { kind: 'detach-nic'; nicId: string };

export interface Plan {
  actions: PlanAction[];
  /** Why the plan is what it is, for logs and `vpcnet status`. */
  reason: string;
}

/** NodeAddressLimit: every NIC holds all the addresses it can and no NIC can be added (retrying cannot help). */
export type PoolConditionType = 'SubnetFull' | 'CloudLimitReached' | 'CloudPermissionDenied' | 'CloudUnavailable' | 'NodeAddressLimit';

export interface PoolCondition {
  type: PoolConditionType;
  message: string;
  since: number;
  /** Allocation of new blocks is paused until then (ms since epoch). */
  until?: number;
}

/** Optional tuning beyond the AWS VPC CNI names; defaults in DEFAULT_TARGETS. */
export interface PoolTuning {
  /** Growth stays paused this long after SUBNET_FULL / limit / permission errors. */
  growthPauseMs?: number;
  /** Growth pause after a transient cloud failure (throttled, 5xx, timeout); doubles per failure in a row. */
  retryPauseMs?: number;
  /** Longest growth pause after repeated transient failures. */
  retryPauseMaxMs?: number;
  /**
   * With ADDs waiting, a pause after a transient failure lasts only this long (the provider's
   * limiter then paces the urgent call to the cloud's refill). Never below 100 ms.
   */
  urgentRetryPauseMs?: number;
  /** No secondary NIC is detached until the pool has not grown for this long (a minimum NIC age). */
  detachHoldMs?: number;
  /**
   * Scale-down window (hysteresis): the pool keeps enough addresses for the most pods it held at
   * any moment of the last window, plus the warm target; only what is above that is released or
   * detached. A scale-down followed by a scale-up within the window costs no cloud call. 0: off.
   */
  shrinkWindowMs?: number;
  /**
   * Prefix growth after throttled (or 5xx) growth: ask for this many more /28s than the target
   * needs in the same call. An assign costs one token of the account's bucket whatever its
   * count, so on a starved account one call buys what the next one would. 0: off.
   */
  extraPrefixesWhenThrottled?: number;
  /** After SUBNET_FULL for a prefix, use per-address blocks this long. */
  prefixFallbackMs?: number;
  /** Prefix length of a `range` block (GCE alias range); default limits.prefixLength or 24. */
  rangePrefixLength?: number;
}

/** Targets as the pool reads them: the AWS VPC CNI names plus our tuning. */
export type PoolSettings = PoolTargets & PoolTuning;

/** What the executor reports for one action; errors are VpcnetError codes, never messages. */
export interface ActionOutcome {
  /** attach-nic: the NIC as the cloud created it, also when a later step failed. */
  nic?: CloudNic;
  /** assign / attach-nic: blocks now held; release: blocks released. */
  blocks?: CloudBlock[];
  /** Set when the action, or part of it, failed. */
  error?: { code: ErrorCode; message: string };
}

export type AddressState = 'assigned' | 'available' | 'cooldown' | 'releasing';

export interface BlockStatus extends CloudBlock {
  addresses: number;
  assigned: number;
  available: number;
  cooldown: number;
  releasing: boolean;
}

export interface NicPlace {
  id: string;
  deviceIndex: number;
  subnetCidr: string;
  primaryIp: string;
}

export interface NicStatus {
  id: string;
  deviceIndex: number;
  subnetCidr: string;
  primaryIp: string;
  detaching: boolean;
  blocks: BlockStatus[];
}

export interface AddressCounts {
  assigned: number;
  available: number;
  cooldown: number;
  total: number;
}

export type PoolMode = 'warm-nic' | 'warm-ip' | 'warm-prefix' | 'range';

export interface PoolStatus {
  mode: PoolMode;
  /** Block kind new growth uses now (prefix, or ip while falling back). */
  blockKind: BlockKind;
  counts: AddressCounts;
  nics: NicStatus[];
  targets: PoolSettings;
  conditions: PoolCondition[];
  /** Pods whose address the cloud took away; they need a restart. */
  lost: Allocation[];
}

export interface ReconcileReport {
  /** Blocks the cloud has that the pool did not know; adopted (in cooldown unless trusted). */
  adopted: Array<{ nicId: string; block: CloudBlock }>;
  /** Blocks the pool held that the cloud no longer has. */
  removed: Array<{ nicId: string; block: CloudBlock }>;
  /** Allocations whose address the cloud took away. */
  lost: Allocation[];
  /** Lost allocations whose block came back: the pod has its address again. */
  restored: Allocation[];
  nicsAdded: string[];
  nicsRemoved: string[];
}

/** JSON-safe pool state; the checkpoint envelope wraps it. */
export interface CheckpointData {
  nics: CloudNic[];
  allocations: Allocation[];
  lost: Allocation[];
  cooldowns: Array<{ ip: string; until: number }>;
  conditions: PoolCondition[];
  prefixFallbackUntil?: number;
}
