// What the simulated VPC knows: which NIC (by MAC) owns which addresses. The lab's fabric
// routes each address to its NIC and drops packets a NIC sends from addresses it does not
// own (the cloud's source/destination check). Plain data, so a cloud emulator can feed it.
import { subnetGateway } from '../util/ip.ts';

export { subnetGateway };

export interface FabricNic {
  /** Lab node name the NIC is attached to. */
  node: string;
  deviceIndex: number;
  mac: string;
  /** The NIC's own address. */
  primaryIp: string;
  subnetCidr: string;
  /** Subnet gateway (lives in the fabric). */
  gateway: string;
  /** Secondary addresses (/32) and delegated prefixes (e.g. /28) the NIC holds. */
  blocks: string[];
}

export interface FabricState {
  nics: FabricNic[];
  /** Addresses allowed to reach the internet; default: primary addresses of device-index-0 NICs. */
  publicIps?: string[];
}

/** Subset of providers/provider.ts CloudNic that the fabric needs. */
export interface CloudNicLike {
  deviceIndex: number;
  mac: string;
  primaryIp: string;
  subnetCidr: string;
  blocks: { kind: string; cidr: string }[];
}

/** Builds the fabric's view of one node from its cloud NICs (e.g. the AWS emulator's listing). */
export function fabricNicsFromCloud(node: string, nics: CloudNicLike[]): FabricNic[] {
  return nics.map((n) => ({
    node,
    deviceIndex: n.deviceIndex,
    mac: n.mac.toLowerCase(),
    primaryIp: n.primaryIp,
    subnetCidr: n.subnetCidr,
    gateway: subnetGateway(n.subnetCidr),
    blocks: n.blocks.map((b) => (b.cidr.includes('/') ? b.cidr : `${b.cidr}/32`)),
  }));
}

export function publicIpsOf(state: FabricState): string[] {
  return state.publicIps ?? state.nics.filter((n) => n.deviceIndex === 0).map((n) => n.primaryIp);
}
