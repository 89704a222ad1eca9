// The CloudProvider seam. Every cloud maps onto one model of address *blocks* held by NICs:
//   ip     - one secondary address (AWS secondary IP, Azure ipConfiguration)
//   prefix - a delegated prefix, e.g. an AWS /28 (16 pod addresses, one cloud object)
//   range  - one range per node (GCE alias IP range, or a route to the node)
// The pool core plans in blocks; a provider turns blocks into its own API calls and reports
// exactly what it did. Providers never decide *how many*: that is the pool's job.

export type ProviderName = 'aws' | 'azure' | 'gcp';
export type BlockKind = 'ip' | 'prefix' | 'range';

export interface CloudBlock {
  kind: BlockKind;
  /** CIDR notation; a single address is a /32. */
  cidr: string;
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
}

export interface NodeLimits {
  /** NICs the instance type can have, the primary included. */
  maxNics: number;
  /** IPv4 addresses per NIC, the NIC's own primary address included. */
  addressesPerNic: number;
  /** Block kinds this node supports, in the order the provider prefers. */
  blockKinds: BlockKind[];
  /** Prefix length of a `prefix` block (28 on AWS). */
  prefixLength?: number;
  /** Whether NICs can be attached at run time (false on GCE). */
  canAttachNics: boolean;
}

/** Max pods as the AWS VPC CNI computes it: NICs x (IPv4 per NIC - 1) + 2 host-network pods. */
export function maxPodsFor(limits: Pick<NodeLimits, 'maxNics' | 'addressesPerNic'>): number {
  return limits.maxNics * (limits.addressesPerNic - 1) + 2;
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
}

export interface AttachNicRequest {
  deviceIndex: number;
  /** Omitted: the provider chooses (by tags or by most free addresses). */
  subnetId?: string;
  securityGroups?: string[];
  /** Secondary blocks to create together with the NIC (saves a call). */
  blockKind?: BlockKind;
  blockCount?: number;
}

export interface AssignRequest {
  nicId: string;
  kind: BlockKind;
  count: number;
  /** For `range` blocks: the prefix length wanted (e.g. 24). */
  prefixLength?: number;
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

export interface CloudProvider {
  readonly name: ProviderName;
  /** Who and what this node is: instance identity from metadata, limits from the API. */
  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }>;
  /** The node's NICs and their blocks as the cloud API sees them now. */
  listNics(): Promise<CloudNic[]>;
  /** Creates and attaches a NIC; resolves once it is attached. */
  attachNic(req: AttachNicRequest): Promise<CloudNic>;
  /** Detaches and deletes a NIC of this node. Idempotent: a missing NIC is not an error. */
  detachNic(nicId: string): Promise<void>;
  /**
   * Assigns up to `count` new blocks to a NIC in as few calls as the API allows and returns
   * the blocks actually assigned (may be fewer than asked on partial success).
   */
  assign(req: AssignRequest): Promise<CloudBlock[]>;
  /** Releases blocks from a NIC. Idempotent: blocks the NIC no longer has are ignored. */
  release(req: ReleaseRequest): Promise<void>;
  /** NICs created by this cluster that are unattached and older than the grace period. */
  findLeakedNics(graceMs: number): Promise<LeakedNic[]>;
  /** Deletes an unattached NIC (leak clean-up). Idempotent. */
  deleteNic(nicId: string): Promise<void>;
}
