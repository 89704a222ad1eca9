// The Datapath seam: everything that touches the kernel's network state. The Linux
// implementation uses netlink sockets (opened inside pod namespaces via a setns addon) and
// nftables; a fake records operations for tests of the layers above.

export type DatapathMode = 'routed' | 'ipvlan';

export interface MasqueradeConfig {
  /** false = external SNAT: traffic leaves with the pod's own address (a NAT gateway does it). */
  enabled: boolean;
  /** Destinations left alone (VPC CIDRs plus configured ones), ip-masq-agent semantics. */
  nonMasqueradeCidrs: string[];
  /** Also masquerade traffic to 169.254.0.0/16 (ip-masq-agent masqLinkLocal). */
  masqueradeLinkLocal: boolean;
  randomFully: boolean;
  /** ip-masq-agent file in effect: nonMasqueradeCidrs is the whole set (VPC CIDRs not added), as ip-masq-agent does. */
  exactNonMasquerade?: boolean;
}

export interface NodeNetConfig {
  /** The node's primary address; SNAT source for traffic leaving the VPC. */
  primaryIp: string;
  /** Interface that holds primaryIp (found by MAC when empty). */
  primaryIfname?: string;
  primaryMac: string;
  vpcCidrs: string[];
  masquerade: MasqueradeConfig;
  mtu: number;
  /** Service CIDR routed via the host side in ipvlan mode. */
  serviceCidr?: string;
}

/** A cloud NIC as the host sees it. The primary NIC has deviceIndex 0 and uses table main. */
export interface HostNic {
  deviceIndex: number;
  mac: string;
  /** The NIC's own address, e.g. 10.0.1.23. */
  primaryIp: string;
  subnetCidr: string;
  /** Subnet gateway (AWS: first address + 1). */
  gateway: string;
  mtu: number;
}

export interface PodNetworkRequest {
  containerId: string;
  /** Interface name inside the pod (CNI_IFNAME). */
  ifname: string;
  /** Path of the pod's network namespace (CNI_NETNS); only a label when netnsFd is given. */
  netns: string;
  /** Open fd on the pod netns (passed by the CNI forwarder); used instead of opening `netns`. */
  netnsFd?: number;
  ip: string;
  mode: DatapathMode;
  nic: HostNic;
  mtu: number;
}

export interface PodNetworkResult {
  hostIfname: string;
  podIfname: string;
  podMac: string;
  ip: string;
  gateway: string;
  netns: string;
}

export interface PodTeardownRequest {
  containerId: string;
  ifname: string;
  /** May be missing or gone: teardown still removes host-side state. */
  netns?: string;
  /** Open fd on the pod netns, preferred over `netns` (an undo inside setupPod has one). */
  netnsFd?: number;
  ip?: string;
  nic?: HostNic;
  mode?: DatapathMode;
  /** Host veth to remove when the pod's identity is unknown (reconciler leak clean-up); a vpcnet name only. */
  hostIfname?: string;
  /**
   * Called once nothing on the node routes `ip` to the pod any more (route and rules gone), while
   * the kernel still deletes the veth (~20 ms): the caller releases the address meanwhile. A
   * wiring that does not call it is followed by the caller's own release after teardown.
   */
  unrouted?: () => Promise<unknown>;
}

export interface Drift {
  kind: 'missing' | 'unexpected' | 'mismatch';
  /** What is off, in `ip` terms, e.g. "rule from 10.0.2.7 lookup 2 pref 1536". */
  object: string;
  expected?: string;
  actual?: string;
}

/** Pod wiring found in the kernel, for the reconciler's leak search. */
export interface WiredPod {
  /** Host-side interface; absent when only routing rules are left for the addresses. */
  hostIfname?: string;
  /** Pod addresses routed to the interface or named by vpcnet's rules. */
  ips: string[];
}

export interface Datapath {
  /** Node-wide state: sysctls, masquerade table. Idempotent. */
  setupNode(cfg: NodeNetConfig): Promise<void>;
  /** Removes everything setupNode created. */
  teardownNode(): Promise<void>;
  /** Secondary NIC: up, MTU, per-NIC route table, rp_filter. Idempotent. */
  setupNic(nic: HostNic): Promise<void>;
  teardownNic(nic: HostNic): Promise<void>;
  /** Wires a pod. Idempotent: a second call with the same request yields the same state. */
  setupPod(req: PodNetworkRequest): Promise<PodNetworkResult>;
  /** Removes every trace of a pod. Idempotent; succeeds when the netns is already gone. */
  teardownPod(req: PodTeardownRequest): Promise<void>;
  /** Compares kernel state with what setupPod would have made; empty when all is well. */
  checkPod(req: PodNetworkRequest): Promise<Drift[]>;
  /** Every pod wiring present on the node (host interfaces and leftover rules). */
  listPods(): Promise<WiredPod[]>;
  /** Resolves once background work teardownPod left running (a host veth's deletion) is done. */
  settled?(): Promise<void>;
}
