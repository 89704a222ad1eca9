// Types shared by the pool core, its manager and its callers (CNI handler, CLI, API).
import type { BlockKind, CloudBlock } from '../../providers/provider.ts';

/** The pod attachment an address belongs to; CNI identifies it by containerID + ifname. */
export interface PodKey {
  containerId: string;
  ifname: string;
}

export interface PodRef extends PodKey {
  netns?: string;
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

export type PoolConditionType = 'SubnetFull' | 'CloudLimitReached' | 'CloudPermissionDenied' | 'CloudUnavailable';

export interface PoolCondition {
  type: PoolConditionType;
  message: string;
  since: number;
  /** Allocation of new blocks is paused until then (ms since epoch). */
  until?: number;
}
