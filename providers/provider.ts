// The CloudProvider seam. Every cloud maps onto one model of address *blocks* held by NICs:
//   ip     - one secondary address (AWS secondary IP, Azure ipConfiguration)
//   prefix - a delegated prefix, e.g. an AWS /28 (16 pod addresses, one cloud object)
//   range  - one range per node (GCE alias IP range, or a route to the node)
// The pool core plans in blocks; a provider turns blocks into its own API calls and reports
// exactly what it did. Providers never decide *how many*: that is the pool's job.
//
// A provider is a small core (discover, listNics, assign, release) plus optional capabilities
// that exist only where the cloud has them (NIC lifecycle, leaked-NIC clean-up). Callers detect
// them with the type guards below; a cloud without one simply does not have the property, so
// nothing answers "not implemented" (Cilium's NodeOperations flaw).

export type ProviderName = 'aws' | 'azure' | 'gcp';
export type BlockKind = 'ip' | 'prefix' | 'range';

/**
 * Whether the cloud says a block can carry traffic. Absent = ready. Providers map their own
 * states onto it (Azure provisioningState Succeeded -> ready, Updating -> pending, Failed -> failed);
 * the pool hands out addresses of ready blocks only.
 */
export type BlockState = 'ready' | 'pending' | 'failed';

export interface CloudBlock {
  kind: BlockKind;
  /** CIDR notation; a single address is a /32. */
  cidr: string;
  /** Provider data the core never interprets (Azure ipConfiguration name, GCE secondary range name). */
  ref?: string;
  state?: BlockState;
}

/** True when the pool may hand out the block's addresses. */
export function blockUsable(b: Pick<CloudBlock, 'state'>): boolean {
  return b.state === undefined || b.state === 'ready';
}

export interface NodeInfo {
  provider: ProviderName;
  instanceId: string;
  instanceType: string;
  region: string;
  zone: string;
  /** VPC / VNet / network id. */
  networkId: string;
  /** CIDRs routed inside the VPC (not masqueraded). */
  vpcCidrs: string[];
  primaryNicId: string;
  primaryIp: string;
  primarySubnetId: string;
  /** MTU of the node's primary NIC as the cloud sets it (AWS 9001, Azure 1500, GCE 1460). */
  mtu: number;
}

export interface NodeLimits {
  /** NICs the instance type can have, the primary included. */
  maxNics: number;
  /** IPv4 addresses per NIC, the NIC's own primary address included. */
  addressesPerNic: number;
  /** Block kinds this node supports, in the order the provider prefers. */
  blockKinds: BlockKind[];
  /** Prefix length of a `prefix` block (28 on AWS), or the default size of a `range` block. */
  prefixLength?: number;
  /** Pods this node can run, as the cloud's own CNI computes it (kubelet --max-pods). */
  maxPods: number;
}

export interface CloudNic {
  id: string;
  /** 0 for the primary NIC. */
  deviceIndex: number;
  mac: string;
  subnetId: string;
  subnetCidr: string;
  /** The NIC's own (primary) address; never handed to pods. */
  primaryIp: string;
  securityGroups: string[];
  /** Secondary addresses, prefixes or ranges held by this NIC. */
  blocks: CloudBlock[];
  /** Provider data the core never interprets (e.g. an ARM resource id). */
  ref?: string;
  /** The NIC's MTU, when the cloud reports one per NIC. */
  mtu?: number;
}

export interface AttachNicRequest {
  deviceIndex: number;
  /** Omitted: the provider chooses (by tags or by most free addresses). */
  subnetId?: string;
  securityGroups?: string[];
  /** Secondary blocks to create together with the NIC (saves a call). */
  blockKind?: BlockKind;
  blockCount?: number;
  /** Pods are waiting for these blocks (or the node cannot serve before): see providers/kit/urgency.ts. */
  urgent?: boolean;
}

export interface AssignRequest {
  nicId: string;
  kind: BlockKind;
  count: number;
  /** For `range` blocks: the prefix length wanted (e.g. 24). */
  prefixLength?: number;
  /** Pods are waiting for these blocks (or the node cannot serve before): see providers/kit/urgency.ts. */
  urgent?: boolean;
}

export interface ListNicsOptions {
  /** The listing gates serving pods (start-up, a reconcile with ADDs waiting). */
  urgent?: boolean;
}

export interface ReleaseRequest {
  nicId: string;
  blocks: CloudBlock[];
}

export interface LeakedNic {
  id: string;
  subnetId: string;
  /** Milliseconds since the epoch, as the cloud reports it (creation or detach time). */
  since: number;
}

/** A subnet's free aligned /28s as the node last read it (fragmentation-aware placement). */
export interface SubnetSpaceReport {
  subnetId: string;
  cidr: string;
  /** Aligned /28s with no address in use. */
  freePrefixes: number;
  /** Aligned /28s the subnet has in all. */
  prefixes: number;
  freeAddresses: number;
  /** When the subnet was read (ms since the epoch); the node's own changes since are counted. */
  readAt: number;
}

export interface ProviderCondition {
  type: string;
  message: string;
  /**
   * Pods on this node cannot be networked as they should while it is raised (GCE: the cloud
   * drops what a route delivers to an instance that cannot forward). With Kubernetes the node's
   * VpcnetReady condition turns False with this reason; every condition is also a node event.
   */
  notReady?: boolean;
}

/** One holder at a time across the cluster (a Kubernetes Lease), for sweeps of cloud objects the nodes share. */
export interface ClusterLock {
  /** Takes or renews the lock; false while another agent holds it. */
  tryAcquire(): Promise<boolean>;
}

/**
 * What the cluster offers a provider when the agent runs with Kubernetes (absent without).
 * Cloud-neutral: any provider may use it, none has to.
 */
export interface ClusterServices {
  /** A named cluster-wide lock that stays with its holder for `holdMs` after each tryAcquire. */
  lock(name: string, holdMs: number): ClusterLock;
  /**
   * This node's pod ranges as the cluster assigned them (Node.spec.podCIDRs, else podCIDR);
   * undefined while unknown (API server unreachable, not assigned yet). `fresh` re-reads the
   * Node when none is known yet; without it only what was read already is returned.
   */
  nodePodCidrs(opts?: { fresh?: boolean }): Promise<string[] | undefined>;
}

/** Core of every provider. */
export interface CloudProvider {
  readonly name: ProviderName;
  /** Who and what this node is: instance identity from metadata, limits from the API. Start-up: urgent. */
  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }>;
  /** The node's NICs and their blocks as the cloud API sees them now. */
  listNics(opts?: ListNicsOptions): Promise<CloudNic[]>;
  /**
   * Assigns up to `count` new blocks to a NIC in as few calls as the API allows and returns
   * the blocks actually assigned (may be fewer than asked on partial success).
   */
  assign(req: AssignRequest): Promise<CloudBlock[]>;
  /** Releases blocks from a NIC. Idempotent: blocks the NIC no longer has are ignored. */
  release(req: ReleaseRequest): Promise<void>;
  /** Conditions users should see that are no error of a call (GCE: a route next hop that cannot forward). Optional. */
  conditions?(): ProviderCondition[];
  /** Free aligned /28s of the subnets the node has read (AWS, where it placed single addresses). Optional. */
  subnetSpace?(): SubnetSpaceReport[];
  /** Capability: NICs attached and detached at run time (AWS). Absent on Azure and GCE. */
  readonly nicLifecycle?: NicLifecycle;
  /** Capability: finding and deleting NICs this cluster leaked (created, never attached). */
  readonly leakedNics?: LeakedNicCleanup;
}

export interface NicLifecycle {
  /** Creates and attaches a NIC; resolves once it is attached. */
  attachNic(req: AttachNicRequest): Promise<CloudNic>;
  /** Detaches and deletes a NIC of this node. Idempotent: a missing NIC is not an error. */
  detachNic(nicId: string): Promise<void>;
}

export interface LeakedNicCleanup {
  /** NICs created by this cluster that are unattached and older than the grace period. */
  findLeakedNics(graceMs: number): Promise<LeakedNic[]>;
  /** Deletes an unattached NIC (leak clean-up). Idempotent. */
  deleteNic(nicId: string): Promise<void>;
}

export function hasNicLifecycle<P extends CloudProvider>(p: P): p is P & { readonly nicLifecycle: NicLifecycle } {
  return p.nicLifecycle !== undefined;
}

export function hasLeakedNicCleanup<P extends CloudProvider>(p: P): p is P & { readonly leakedNics: LeakedNicCleanup } {
  return p.leakedNics !== undefined;
}

/** What a node can do, from the provider's capabilities and the node's limits (block kinds vary by instance type). */
export interface NodeCapabilities {
  nicLifecycle: boolean;
  leakedNics: boolean;
  ipBlocks: boolean;
  prefixBlocks: boolean;
  rangeBlocks: boolean;
}

export function capabilitiesOf(p: CloudProvider, limits: Pick<NodeLimits, 'blockKinds'>): NodeCapabilities {
  return {
    nicLifecycle: hasNicLifecycle(p),
    leakedNics: hasLeakedNicCleanup(p),
    ipBlocks: limits.blockKinds.includes('ip'),
    prefixBlocks: limits.blockKinds.includes('prefix'),
    rangeBlocks: limits.blockKinds.includes('range'),
  };
}
