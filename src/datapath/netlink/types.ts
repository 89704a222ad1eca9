// Plain data shapes of the netlink wrapper: IPv4 only, addresses as dotted strings.

export interface LinkInfo {
  index: number;
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** rtnl_link kind ("veth", ...); undefined for physical-like links and loopback. */
  kind?: string;
  /** IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace). */
  peerIndex?: number;
  /** Set when the peer lives in another namespace (its id as seen from this one). */
  linkNetnsid?: number;
}

export interface LinkChange {
  up?: boolean;
  mtu?: number;
  mac?: string;
  name?: string;
}

export interface VethSpec {
  name: string;
  peerName: string;
  /** Create the peer directly inside the namespace behind this fd (IFLA_NET_NS_FD). */
  peerNetnsFd?: number;
  mtu?: number;
  mac?: string;
  peerMac?: string;
  /** This end is created up (IFF_UP in its ifinfomsg): no `ip link set up` round trip after. The peer cannot be (ENOTCONN). */
  up?: boolean;
}

export interface LinkSpec {
  name: string;
  /** rtnl_link kind, e.g. "ipvlan", "veth". */
  kind: string;
  /** IFLA_LINK: the parent link's ifindex (ipvlan/macvlan/vlan). */
  parentIndex?: number;
  /** Create the link directly inside the namespace behind this fd. */
  netnsFd?: number;
  mtu?: number;
  mac?: string;
  /** Raw IFLA_INFO_DATA attributes for the kind (see ipvlanInfoData). */
  infoData?: Buffer;
}

export interface AddrSpec {
  ifindex: number;
  ip: string;
  prefixLen: number;
  /** IFA_F_NOPREFIXROUTE: do not add the subnet route to table main. */
  noPrefixRoute?: boolean;
}

export interface AddrInfo extends AddrSpec {
  scope: number;
}

export type RouteScopeName = 'universe' | 'link' | 'host';

export interface RouteSpec {
  /** CIDR, bare address (/32) or "default". */
  dst: string;
  gateway?: string;
  oif?: number;
  /** Routing table; 254 (main) when omitted. Tables > 255 are supported. */
  table?: number;
  scope?: RouteScopeName;
  /** RTNH_F_ONLINK: trust the gateway to be on the link. */
  onlink?: boolean;
  /** Preferred source address. */
  src?: string;
}

export interface RouteInfo extends RouteSpec {
  table: number;
  scope: RouteScopeName;
  /** RTN_* type: 1 unicast, 2 local, 3 broadcast, ... */
  type: number;
  protocol: number;
}

export interface RuleSpec {
  priority: number;
  /** 0 in a delete: any table (the kernel matches only the selectors given). */
  table: number;
  from?: string;
  to?: string;
  fwmark?: number;
  fwmask?: number;
}

export interface NeighSpec {
  ifindex: number;
  ip: string;
  mac: string;
}

export interface NeighInfo extends NeighSpec {
  permanent: boolean;
  /** Raw NUD_* state bits. */
  state: number;
}
