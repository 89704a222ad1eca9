// Creates an ipvlan child link through netlink: `ip link add link PARENT name NAME netns FD
// mtu M type ipvlan mode l2`. IFLA_LINK names the parent in the namespace of the socket,
// IFLA_NET_NS_FD puts the new link straight into the pod's namespace (no move afterwards),
// which the kernel allows for ipvlan just as for a veth peer. The shared Rtnl wrapper has no
// ipvlan support, so this one request is assembled here.
import netlinkPkg from 'netlink';
import type { RtNetlinkSocket } from 'netlink';
import { VpcnetError } from '../errors.ts';
import { attr, cstr, errnoOf, inNetns, u32 } from './netlink/index.ts';

const F_CREATE = 0x400;
const F_EXCL = 0x200;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;

export const IPVLAN_MODES = { l2: 0, l3: 1, l3s: 2 } as const;
export type IpvlanMode = keyof typeof IPVLAN_MODES;

export interface IpvlanSpec {
  name: string;
  parentIndex: number;
  mode: IpvlanMode;
  /** Create the link directly inside the namespace behind this fd. */
  netnsFd?: number;
  mtu?: number;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
}

/** Raw request bytes of IFLA_LINKINFO for an ipvlan link (exported for unit tests). */
export function ipvlanLinkinfo(mode: IpvlanMode): Buffer {
  const data = Buffer.concat([attr(IFLA_IPVLAN_MODE, u16(IPVLAN_MODES[mode])), attr(IFLA_IPVLAN_FLAGS, u16(0))]);
  return Buffer.concat([attr(IFLA_INFO_KIND, cstr('ipvlan')), attr(IFLA_INFO_DATA, data)]);
}

/** A link-creating socket bound to the node namespace (where the parent NIC lives). */
export class IpvlanLinks {
  private readonly sock: RtNetlinkSocket;

  constructor(nodeNetns?: string) {
    try {
      this.sock = inNetns(nodeNetns, () => netlinkPkg.createRtNetlink());
    } catch (err) {
      throw new VpcnetError('NETLINK', 'netlink open failed', { cause: err, details: { op: 'open', netns: nodeNetns } });
    }
  }

  async create(spec: IpvlanSpec): Promise<void> {
    try {
      await this.sock.newLink(
        {},
        {
          ifname: spec.name,
          link: u32(spec.parentIndex),
          linkinfo: ipvlanLinkinfo(spec.mode),
          ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}),
          ...(spec.netnsFd !== undefined ? { netNsFd: spec.netnsFd } : {}),
        },
        { flags: F_CREATE | F_EXCL },
      );
    } catch (err) {
      const errno = errnoOf(err);
      throw new VpcnetError('NETLINK', `netlink link.add ipvlan failed${errno ? `: ${errno}` : ''}`, {
        cause: err,
        details: { op: 'link.add', kind: 'ipvlan', name: spec.name, parentIndex: spec.parentIndex, errno },
      });
    }
  }

  close(): void {
    this.sock.socket.close();
  }
}
