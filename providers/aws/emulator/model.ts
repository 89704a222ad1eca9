// The emulated account's objects. Addresses are kept as numbers; rendering formats them.
import type { InstanceTypeLimits } from '../limits.ts';
import type { SubnetSpace } from './subnet-space.ts';

export type Tags = Map<string, string>;

export interface Vpc {
  id: string;
  cidrs: string[];
  /** The region's default VPC (DescribeVpcs isDefault, filter is-default). */
  isDefault: boolean;
  tags: Tags;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  azId: string;
  /** A default VPC's subnet for its AZ (filter default-for-az). */
  defaultForAz: boolean;
  tags: Tags;
  space: SubnetSpace;
}

/** One tag of one resource (DescribeTags). */
export interface TagRow {
  resourceId: string;
  resourceType: 'network-interface' | 'subnet' | 'instance' | 'vpc';
  key: string;
  value: string;
}

export interface Instance {
  id: string;
  limits: InstanceTypeLimits;
  subnetId: string;
  vpcId: string;
  az: string;
  imageId: string;
  launchTime: number;
  state: 'running' | 'terminated';
  securityGroups: string[];
  tags: Tags;
}

export interface Attachment {
  id: string;
  instanceId: string;
  deviceIndex: number;
  networkCardIndex: number;
  attachTime: number;
  deleteOnTermination: boolean;
  /** Set while the attach is in flight: the time it completes. */
  readyAt?: number;
  /** Set while a detach is in flight: the time it completes. */
  detachAt?: number;
}

export interface Eni {
  id: string;
  subnetId: string;
  vpcId: string;
  az: string;
  description: string;
  mac: string;
  primaryIp: number;
  secondaryIps: number[];
  /** Base addresses of delegated /28 prefixes. */
  prefixes: number[];
  securityGroups: string[];
  tags: Tags;
  createTime: number;
  sourceDestCheck: boolean;
  attachment?: Attachment;
  clientToken?: string;
}

export type EniStatus = 'available' | 'in-use';

export function eniStatus(eni: Eni): EniStatus {
  return eni.attachment ? 'in-use' : 'available';
}

export type AttachmentStatus = 'attaching' | 'attached' | 'detaching';

export function attachmentStatus(a: Attachment): AttachmentStatus {
  if (a.detachAt !== undefined) return 'detaching';
  return a.readyAt === undefined ? 'attached' : 'attaching';
}

/** One ENI as the simulated-VPC lab needs it: who owns which address. */
export interface EniView {
  eniId: string;
  mac: string;
  subnetId: string;
  subnetCidr: string;
  vpcId: string;
  vpcCidrs: string[];
  az: string;
  primaryIp: string;
  secondaryIps: string[];
  prefixes: string[];
  securityGroups: string[];
  /** False when the owner turned the source/destination check off (the VPC then forwards any source). */
  sourceDestCheck: boolean;
  status: EniStatus;
  instanceId?: string;
  deviceIndex?: number;
  /** Traffic flows (and the instance's metadata lists the ENI) once 'attached'. */
  attachmentStatus?: AttachmentStatus;
  tags: Record<string, string>;
  createTime: number;
}

export interface InstanceView {
  instanceId: string;
  instanceType: string;
  imageId: string;
  /** ms since the epoch (the identity document's pendingTime). */
  launchTime: number;
  architecture: string;
  accountId: string;
  az: string;
  region: string;
  state: Instance['state'];
  subnetId: string;
  vpcId: string;
  /** ENIs attached (or detaching), device index order; ENIs still attaching are left out. */
  enis: EniView[];
}

export type ChangeKind =
  | 'vpc-created'
  | 'subnet-created'
  | 'instance-created'
  | 'instance-terminated'
  | 'eni-created'
  | 'eni-deleted'
  | 'eni-attached'
  | 'eni-detached'
  | 'addresses-assigned'
  | 'addresses-unassigned'
  | 'eni-modified'
  | 'tags-changed';

export interface ChangeEvent {
  kind: ChangeKind;
  /** Monotonic state version after this change. */
  version: number;
  at: number;
  eniId?: string;
  instanceId?: string;
  subnetId?: string;
  /** Addresses (a.b.c.d) or prefixes (a.b.c.d/28) that changed owner. */
  addresses?: string[];
}
