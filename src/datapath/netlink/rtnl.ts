// Typed rtnetlink client over the `netlink` package (pinned 0.3.0); the only module that
// imports it. A socket is bound to the namespace it was created in, so Rtnl.open(path)
// creates it inside that namespace (setns in, create, setns back: all synchronous) and every
// later request on it acts there. Every failure surfaces once as VpcnetError('NETLINK').
import netlinkPkg from 'netlink';
import type { RtNetlinkSocket, rt as rtTypes } from 'netlink';
import { VpcnetError } from '../../errors.ts';
import { attr, bufToIp, bufToMac, cstr, ipToBuf, macToBuf, parseAttrs, parseCidr, u32 } from './codec.ts';
import { inNetns, inNetnsFd } from './netns.ts';
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { loadSetnsAddon } from '../native/setns-addon.ts';

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
import type {
  AddrInfo,
  AddrSpec,
  LinkChange,
  LinkInfo,
  NeighInfo,
  NeighSpec,
  RouteInfo,
  RouteScopeName,
  LinkSpec,
  RouteSpec,
  RuleSpec,
  VethSpec,
} from './types.ts';

/** One change of a batch (Rtnl.batch): the same requests as the methods of the same name. */
export type BatchOp =
  | { op: 'link.up'; index: number }
  | { op: 'addr.replace'; spec: AddrSpec }
  | { op: 'route.replace'; spec: RouteSpec }
  | { op: 'route.del'; spec: RouteSpec }
  | { op: 'neigh.replace'; spec: NeighSpec }
  | { op: 'rule.add'; spec: RuleSpec }
  | { op: 'rule.del'; spec: RuleSpec };

/** A reply as the package's NetlinkSocket hands it over on its public 'message' event. */
interface NlReply {
  type: number;
  flags: number;
  seq: number;
  port: number;
  data: Buffer;
}

const AF_INET = 2;
const F_REQUEST = 1;
const F_ACK = 4;
const F_ECHO = 8;
const F_REPLACE = 0x100;
const F_EXCL = 0x200;
const F_CREATE = 0x400;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const RTNH_F_ONLINK = 4;
const RT_TABLE_COMPAT = 252;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTPROT_BOOT = 3;
const FR_ACT_TO_TBL = 1;
const NUD_PERMANENT = 0x80;
// rtnetlink message types and attributes (linux/rtnetlink.h, if_addr.h, neighbour.h, fib_rules.h) for batch()
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RT_SCOPE_NOWHERE = 255;
const RTM_NEWNEIGH = 28;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;
const IFF_UP = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_FLAGS = 8;
const IFA_F_NOPREFIXROUTE = 0x200;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;

/** A netlink message body: a header struct, then 4-byte aligned attributes (little-endian host). */
class MsgWriter {
  private readonly buf = Buffer.alloc(128);
  private off = 0;
  u8(v: number): this {
    this.buf.writeUInt8(v, this.off);
    this.off += 1;
    return this;
  }
  u16(v: number): this {
    this.buf.writeUInt16LE(v, this.off);
    this.off += 2;
    return this;
  }
  u32(v: number): this {
    this.buf.writeUInt32LE(v >>> 0, this.off);
    this.off += 4;
    return this;
  }
  attr(type: number, payload: Buffer): this {
    this.u16(4 + payload.length).u16(type);
    payload.copy(this.buf, this.off);
    this.off += (payload.length + 3) & ~3; // the buffer is zeroed: padding included
    return this;
  }
  attrU32(type: number, v: number): this {
    return this.u16(8).u16(type).u32(v);
  }
  done(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

const SCOPES: Record<RouteScopeName, number> = { universe: 0, link: 253, host: 254 };
const SCOPE_NAMES: Record<string, RouteScopeName> = { UNIVERSE: 'universe', LINK: 'link', HOST: 'host' };

/** The errno name ("EEXIST") of a netlink rejection, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (err instanceof VpcnetError) return err.details.errno as string | undefined;
  // The package reports kernel errors only as text ("Request rejected: EEXIST"); parsed here once.
  const m = err instanceof Error ? /Request rejected: (E[A-Z0-9]+)/.exec(err.message) : null;
  return m?.[1];
}

function wrap(err: unknown, op: string, details: Record<string, unknown>): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const errno = errnoOf(err) ?? (err as { code?: string }).code;
  return new VpcnetError('NETLINK', `netlink ${op} failed${errno ? `: ${errno}` : ''}`, {
    cause: err,
    details: { ...details, op, errno },
  });
}

function scopeOf(v: unknown): RouteScopeName {
  if (typeof v === 'string') return SCOPE_NAMES[v] ?? 'universe';
  if (v === 253) return 'link';
  if (v === 254) return 'host';
  return 'universe';
}

function num(v: unknown, names: Record<string, number>): number {
  return typeof v === 'number' ? v : (names[String(v)] ?? -1);
}

const PROTOCOLS: Record<string, number> = { REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4 };
const ROUTE_TYPES: Record<string, number> = { UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5, BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8, THROW: 9 };

export class Rtnl {
  private readonly sock: RtNetlinkSocket;
  private tail: Promise<void> = Promise.resolve();
  /** The setns addon's own socket for deletions on the thread pool, once one was made. */
  private rawSock: number | undefined;
  /** The namespace path the socket lives in (undefined: the caller's own). */
  readonly netns: string | undefined;

  private constructor(sock: RtNetlinkSocket, netns: string | undefined) {
    this.sock = sock;
    this.netns = netns;
  }

  /** A socket acting inside the namespace at `netns` (undefined: the current one). */
  static open(netns?: string): Rtnl {
    try {
      return new Rtnl(inNetns(netns, () => netlinkPkg.createRtNetlink()), netns);
    } catch (err) {
      throw wrap(err, 'open', { netns });
    }
  }

  /** A socket acting inside the namespace behind an open fd. */
  static openFd(fd: number, label?: string): Rtnl {
    try {
      return new Rtnl(inNetnsFd(fd, () => netlinkPkg.createRtNetlink()), label);
    } catch (err) {
      throw wrap(err, 'open', { netns: label });
    }
  }

  close(): void {
    this.sock.socket.close();
    if (this.rawSock !== undefined) closeSync(this.rawSock);
    this.rawSock = undefined;
  }

  /**
   * One request at a time per socket: the package groups multipart (dump) replies per socket,
   * not per sequence number, so an ACK arriving in the middle of a dump corrupts it.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async run<T>(op: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.serial(fn);
    } catch (err) {
      throw wrap(err, op, { ...details, netns: this.netns });
    }
  }

  /**
   * Several changes in one sendmsg: the kernel runs the messages in order, answers each one it
   * refuses with its errno and goes on, so a pod's wiring costs one round trip per namespace
   * instead of one per change. Only the last message asks for an ACK: its answer comes after
   * every refusal of the ones before, so a batch that succeeds is one reply to read. Resolves
   * with each change's errno name (undefined: done), in order; a kernel refusal never rejects.
   */
  async batch(ops: BatchOp[]): Promise<Array<string | undefined>> {
    return this.serial(() => this.sendBatch(ops));
  }

  /**
   * Public API of the package only: sequence numbers from generateSeq(), one sendmsg through
   * the raw socket, and the replies from the 'message' event (the package emits a reply there
   * when no request() waits for its sequence number). The socket is kept referenced meanwhile.
   */
  private sendBatch(ops: BatchOp[]): Promise<Array<string | undefined>> {
    if (ops.length === 0) return Promise.resolve([]);
    const nl = this.sock.socket;
    const port = nl.address().port;
    const parts: Uint8Array[] = [];
    const answers: Array<string | undefined> = new Array(ops.length).fill(undefined);
    const slot = new Map<number, number>();
    let lastSeq = 0;
    for (const [i, o] of ops.entries()) {
      const seq = nl.generateSeq();
      slot.set(seq, i);
      lastSeq = seq;
      const [type, body, flags] = this.batchMessage(o);
      const ack = i === ops.length - 1 ? F_ACK : 0;
      parts.push(...netlinkPkg.formatMessage({ type, flags: flags | F_REQUEST | ack, seq, port, data: body }));
    }
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        nl.off('message', onMessage);
        nl.ref(false);
      };
      const onMessage = (msgs: NlReply[]): void => {
        const first = msgs[0];
        const i = first === undefined ? undefined : slot.get(first.seq);
        if (first === undefined || i === undefined) return; // not ours (e.g. a late ACK after an echo)
        answers[i] = replyErrno(first);
        if (first.seq !== lastSeq) return;
        finish();
        resolve(answers);
      };
      nl.on('message', onMessage);
      nl.ref(true);
      nl.socket.send(parts, {}, (err) => {
        if (!err) return;
        finish(); // nothing was sent: no answer will come
        reject(wrap(err, 'batch', { ops: ops.map((o) => o.op), netns: this.netns }));
      });
    });
  }

  /** Encoded directly (header struct + attributes): the package's generic formatters cost more CPU than the kernel's work here. */
  private batchMessage(o: BatchOp): [number, Uint8Array[], number] {
    const w = new MsgWriter();
    switch (o.op) {
      case 'link.up': // ifinfomsg: family, pad, type, index, flags, change
        w.u8(0).u8(0).u16(0).u32(o.index).u32(IFF_UP).u32(IFF_UP);
        return [RTM_NEWLINK, [w.done()], 0];
      case 'addr.replace': {
        // ifaddrmsg: family, prefixlen, flags, scope, index
        w.u8(AF_INET).u8(o.spec.prefixLen).u8(0).u8(0).u32(o.spec.ifindex);
        const ip = ipToBuf(o.spec.ip);
        w.attr(IFA_LOCAL, ip).attr(IFA_ADDRESS, ip);
        if (o.spec.noPrefixRoute) w.attrU32(IFA_FLAGS, IFA_F_NOPREFIXROUTE);
        return [RTM_NEWADDR, [w.done()], F_CREATE | F_REPLACE];
      }
      case 'route.replace':
      case 'route.del': {
        const spec = o.spec;
        const dst = parseCidr(spec.dst);
        const table = spec.table ?? RT_TABLE_MAIN;
        // a deletion matches any scope (RT_SCOPE_NOWHERE), like `ip route del`
        const scope = o.op === 'route.del' ? RT_SCOPE_NOWHERE : SCOPES[spec.scope ?? (spec.gateway ? 'universe' : 'link')];
        // rtmsg: family, dst_len, src_len, tos, table (8 bits: COMPAT + attribute above 255), protocol, scope, type, flags
        w.u8(AF_INET).u8(dst.prefixLen).u8(0).u8(0).u8(table > 255 ? RT_TABLE_COMPAT : table).u8(RTPROT_BOOT).u8(scope).u8(RTN_UNICAST).u32(spec.onlink ? RTNH_F_ONLINK : 0);
        w.attrU32(RTA_TABLE, table);
        if (dst.prefixLen > 0) w.attr(RTA_DST, ipToBuf(dst.ip));
        if (spec.gateway) w.attr(RTA_GATEWAY, ipToBuf(spec.gateway));
        if (spec.oif !== undefined) w.attrU32(RTA_OIF, spec.oif);
        if (spec.src) w.attr(RTA_PREFSRC, ipToBuf(spec.src));
        return o.op === 'route.del' ? [RTM_DELROUTE, [w.done()], 0] : [RTM_NEWROUTE, [w.done()], F_CREATE | F_REPLACE];
      }
      case 'neigh.replace': // ndmsg: family, pad1, pad2, ifindex, state, flags, type
        w.u8(AF_INET).u8(0).u16(0).u32(o.spec.ifindex).u16(NUD_PERMANENT).u8(0).u8(0);
        w.attr(NDA_DST, ipToBuf(o.spec.ip)).attr(NDA_LLADDR, macToBuf(o.spec.mac));
        return [RTM_NEWNEIGH, [w.done()], F_CREATE | F_REPLACE];
      case 'rule.add':
      case 'rule.del': {
        const r = o.spec;
        const from = r.from ? parseCidr(r.from) : undefined;
        const to = r.to ? parseCidr(r.to) : undefined;
        // fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action, flags
        w.u8(AF_INET).u8(to?.prefixLen ?? 0).u8(from?.prefixLen ?? 0).u8(0).u8(r.table > 255 ? 0 : r.table).u8(0).u8(0).u8(FR_ACT_TO_TBL).u32(0);
        w.attrU32(FRA_PRIORITY, r.priority).attrU32(FRA_TABLE, r.table);
        if (from) w.attr(FRA_SRC, ipToBuf(from.ip));
        if (to) w.attr(FRA_DST, ipToBuf(to.ip));
        if (r.fwmark !== undefined) w.attrU32(FRA_FWMARK, r.fwmark);
        if (r.fwmask !== undefined) w.attrU32(FRA_FWMASK, r.fwmask);
        return o.op === 'rule.add' ? [RTM_NEWRULE, [w.done()], F_CREATE | F_EXCL] : [RTM_DELRULE, [w.done()], 0];
      }
    }
  }

  // ---- links ----

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.run('link.list', {}, () => this.sock.getLinks());
    return msgs.map(toLink);
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    try {
      const [msg] = await this.serial(() => this.sock.getLink({}, { ifname: name }));
      return msg ? toLink(msg) : undefined;
    } catch (err) {
      if (errnoOf(err) === 'ENODEV') return undefined;
      throw wrap(err, 'link.get', { name, netns: this.netns });
    }
  }

  async getLinkByIndex(index: number): Promise<LinkInfo | undefined> {
    try {
      const [msg] = await this.serial(() => this.sock.getLink({ index }));
      return msg ? toLink(msg) : undefined;
    } catch (err) {
      if (errnoOf(err) === 'ENODEV') return undefined;
      throw wrap(err, 'link.get', { index, netns: this.netns });
    }
  }

  async findLinkByMac(mac: string): Promise<LinkInfo | undefined> {
    const want = mac.toLowerCase();
    return (await this.listLinks()).find((l) => l.mac === want);
  }

  /**
   * `ip link add NAME type veth peer name PEER netns FD`; fails with EEXIST if NAME exists.
   * Resolves with the new host end as the kernel echoes it (NLM_F_ECHO, Linux 6.3 and later:
   * no read-back needed), or undefined from a kernel that does not echo. The ACK that follows
   * the echo has no caller left and is dropped; it precedes any later reply on the socket.
   */
  async createVeth(spec: VethSpec): Promise<LinkInfo | undefined> {
    const peerAttrs: Buffer[] = [attr(IFLA_IFNAME, cstr(spec.peerName))];
    if (spec.peerNetnsFd !== undefined) peerAttrs.push(attr(IFLA_NET_NS_FD, u32(spec.peerNetnsFd)));
    if (spec.mtu !== undefined) peerAttrs.push(attr(IFLA_MTU, u32(spec.mtu)));
    if (spec.peerMac !== undefined) peerAttrs.push(attr(IFLA_ADDRESS, macToBuf(spec.peerMac)));
    // The peer cannot be created up (veth_open refuses with ENOTCONN before the pair is linked).
    const flags = spec.up ? { flags: { up: true as const }, change: { up: true as const } } : {};
    const peer = Buffer.concat([netlinkPkg.rt.formatLink({}), ...peerAttrs]);
    const linkinfo = Buffer.concat([attr(IFLA_INFO_KIND, cstr('veth')), attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))]);
    const echoed = await this.run('link.add', { name: spec.name, peer: spec.peerName }, () =>
      this.sock.newLink(
        flags,
        {
          ifname: spec.name,
          linkinfo,
          ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}),
          ...(spec.mac !== undefined ? { address: macToBuf(spec.mac) } : {}),
        },
        { flags: F_CREATE | F_EXCL | F_ECHO },
      ),
    );
    const link = echoed[0] ? toLink(echoed[0]) : undefined;
    return link?.name === spec.name ? link : undefined;
  }

  /** `ip link add NAME [link PARENT] [netns FD] type KIND [data]`, e.g. an ipvlan child. */
  async createLink(spec: LinkSpec): Promise<void> {
    const info = [attr(IFLA_INFO_KIND, cstr(spec.kind))];
    if (spec.infoData) info.push(attr(IFLA_INFO_DATA, spec.infoData));
    await this.run('link.add', { name: spec.name, kind: spec.kind }, () =>
      this.sock.newLink(
        {},
        {
          ifname: spec.name,
          linkinfo: Buffer.concat(info),
          ...(spec.parentIndex !== undefined ? { link: u32(spec.parentIndex) } : {}),
          ...(spec.netnsFd !== undefined ? { netNsFd: spec.netnsFd } : {}),
          ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}),
          ...(spec.mac !== undefined ? { address: macToBuf(spec.mac) } : {}),
        },
        { flags: F_CREATE | F_EXCL },
      ),
    );
  }

  /** `ip link set dev X netns FD [name N]` (moving costs the kernel ~15 ms; prefer creating in place). */
  async moveLink(index: number, netnsFd: number, newName?: string): Promise<void> {
    await this.run('link.move', { index, newName }, () =>
      this.sock.setLink({ index }, { netNsFd: netnsFd, ...(newName !== undefined ? { ifname: newName } : {}) }),
    );
  }

  /** `ip link set dev X [up|down] [mtu N] [address M] [name N]`. */
  async setLink(index: number, change: LinkChange): Promise<void> {
    const data = change.up === undefined ? { index } : { index, flags: change.up ? { up: true as const } : {}, change: { up: true as const } };
    const attrs = {
      ...(change.mtu !== undefined ? { mtu: change.mtu } : {}),
      ...(change.mac !== undefined ? { address: macToBuf(change.mac) } : {}),
      ...(change.name !== undefined ? { ifname: change.name } : {}),
    };
    await this.run('link.set', { index, ...change }, () => this.sock.setLink(data, attrs));
  }

  /** `ip link del dev X`; a veth takes its peer with it. */
  async deleteLink(index: number): Promise<void> {
    await this.run('link.del', { index }, () => this.sock.delLink({ index }));
  }

  /**
   * `ip link del` on the libuv thread pool (setns addon): the kernel takes ~20 ms to delete a
   * veth, and this package's synchronous send would stall every other request for that long.
   * A socket of its own, opened in this socket's namespace; falls back to deleteLink().
   */
  async deleteLinkOffThread(index: number): Promise<void> {
    const addon = loadSetnsAddon();
    if (typeof addon.delLink !== 'function' || typeof addon.rtnlSocket !== 'function') return this.deleteLink(index);
    // Kept with this socket (a kept node socket serves many DELs); one request at a time, as here.
    const sock = this.rawSock ?? inNetns(this.netns, () => addon.rtnlSocket!());
    this.rawSock = undefined;
    let err: number;
    try {
      err = await new Promise<number>((resolve) => addon.delLink!(sock, index, resolve));
    } catch (e) {
      closeSync(sock);
      throw e;
    }
    // A kernel answer leaves the socket clean; anything else (a timeout) may leave a reply behind.
    if ((err === 0 || ERRNO_NAMES.get(err) === 'ENODEV') && this.rawSock === undefined) this.rawSock = sock;
    else closeSync(sock);
    if (err !== 0) {
      const errno = ERRNO_NAMES.get(err) ?? `E${err}`;
      throw new VpcnetError('NETLINK', `netlink link.del failed: ${errno}`, { details: { op: 'link.del', index, errno, netns: this.netns } });
    }
  }

  // ---- addresses ----

  async listAddrs(ifindex?: number): Promise<AddrInfo[]> {
    const msgs = await this.run('addr.list', {}, () => this.sock.getAddresses({ family: AF_INET }));
    const out: AddrInfo[] = [];
    for (const m of msgs) {
      const a = m.attrs.local ?? m.attrs.address;
      if (m.data.family !== AF_INET || !a) continue;
      if (ifindex !== undefined && m.data.index !== ifindex) continue;
      out.push({
        ifindex: m.data.index ?? 0,
        ip: bufToIp(a),
        prefixLen: m.data.prefixlen ?? 32,
        scope: m.data.scope ?? 0,
        noPrefixRoute: Boolean(m.attrs.flags?.noprefixroute),
      });
    }
    return out;
  }

  /** `ip addr add IP/LEN dev X [noprefixroute]`; replace=true tolerates an existing one. */
  async addAddr(spec: AddrSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const ip = ipToBuf(spec.ip);
    await this.run('addr.add', { ...spec }, () =>
      this.sock.newAddress(
        { family: AF_INET, prefixlen: spec.prefixLen, index: spec.ifindex },
        { local: ip, address: ip, ...(spec.noPrefixRoute ? { flags: { noprefixroute: true } } : {}) },
        { flags: F_CREATE | (opts.replace ? F_REPLACE : F_EXCL) },
      ),
    );
  }

  async delAddr(spec: AddrSpec): Promise<void> {
    const ip = ipToBuf(spec.ip);
    await this.run('addr.del', { ...spec }, () =>
      this.sock.delAddress({ family: AF_INET, prefixlen: spec.prefixLen, index: spec.ifindex }, { local: ip, address: ip }),
    );
  }

  // ---- routes ----

  /** All IPv4 routes, or those of one table. */
  async listRoutes(table?: number): Promise<RouteInfo[]> {
    const msgs = await this.run('route.list', { table }, () => this.sock.getRoutes({ family: AF_INET }));
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      if (m.data.family !== AF_INET) continue;
      const t = m.attrs.table ?? m.data.table ?? 0;
      if (table !== undefined && t !== table) continue;
      const dst = m.attrs.dst ? `${bufToIp(m.attrs.dst)}/${m.data.dstLen ?? 32}` : 'default';
      const flags = m.data.flags?.__unknown ?? 0;
      out.push({
        dst: dst === '0.0.0.0/0' ? 'default' : dst,
        table: t,
        scope: scopeOf(m.data.scope),
        type: num(m.data.type, ROUTE_TYPES),
        protocol: num(m.data.protocol, PROTOCOLS),
        ...(m.attrs.gateway ? { gateway: bufToIp(m.attrs.gateway) } : {}),
        ...(m.attrs.oif !== undefined ? { oif: m.attrs.oif } : {}),
        ...(m.attrs.prefsrc ? { src: bufToIp(m.attrs.prefsrc) } : {}),
        ...(flags & RTNH_F_ONLINK ? { onlink: true } : {}),
      });
    }
    return out;
  }

  private routeMsg(spec: RouteSpec): [Record<string, unknown>, Record<string, unknown>] {
    const dst = parseCidr(spec.dst);
    const table = spec.table ?? RT_TABLE_MAIN;
    const scope = spec.scope ?? (spec.gateway ? 'universe' : 'link');
    const data = {
      family: AF_INET,
      dstLen: dst.prefixLen,
      // Header table is 8 bits: larger tables go in the attribute with the header at COMPAT.
      table: table > 255 ? RT_TABLE_COMPAT : table,
      protocol: RTPROT_BOOT,
      scope: SCOPES[scope],
      type: RTN_UNICAST,
      ...(spec.onlink ? { flags: { __unknown: RTNH_F_ONLINK } } : {}),
    };
    const attrs = {
      table,
      ...(dst.prefixLen > 0 ? { dst: ipToBuf(dst.ip) } : {}),
      ...(spec.gateway ? { gateway: ipToBuf(spec.gateway) } : {}),
      ...(spec.oif !== undefined ? { oif: spec.oif } : {}),
      ...(spec.src ? { prefsrc: ipToBuf(spec.src) } : {}),
    };
    return [data, attrs];
  }

  /** `ip route add|replace ...`. */
  async addRoute(spec: RouteSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const [data, attrs] = this.routeMsg(spec);
    await this.run('route.add', { ...spec }, () =>
      this.sock.newRoute(data, attrs, { flags: F_CREATE | (opts.replace ? F_REPLACE : F_EXCL) }),
    );
  }

  async delRoute(spec: RouteSpec): Promise<void> {
    const [data, attrs] = this.routeMsg(spec);
    delete (data as { scope?: number }).scope;
    data.scope = 255; // RT_SCOPE_NOWHERE: match any scope, like `ip route del`.
    await this.run('route.del', { ...spec }, () => this.sock.delRoute(data, attrs));
  }

  // ---- rules ----

  async listRules(): Promise<RuleSpec[]> {
    const msgs = await this.run('rule.list', {}, () => this.sock.getRules({ family: AF_INET }));
    const out: RuleSpec[] = [];
    for (const m of msgs) {
      if (m.data.family !== AF_INET) continue;
      const r: RuleSpec = { priority: m.attrs.priority ?? 0, table: m.attrs.table ?? m.data.table ?? 0 };
      if (m.attrs.src) r.from = `${bufToIp(m.attrs.src)}/${m.data.srcLen ?? 32}`;
      if (m.attrs.dst) r.to = `${bufToIp(m.attrs.dst)}/${m.data.dstLen ?? 32}`;
      if (m.attrs.fwmark !== undefined) r.fwmark = m.attrs.fwmark;
      if (m.attrs.fwmask !== undefined) r.fwmask = m.attrs.fwmask;
      out.push(r);
    }
    return out;
  }

  private ruleMsg(spec: RuleSpec): [Record<string, unknown>, Record<string, unknown>] {
    const from = spec.from ? parseCidr(spec.from) : undefined;
    const to = spec.to ? parseCidr(spec.to) : undefined;
    const data = {
      family: AF_INET,
      srcLen: from?.prefixLen ?? 0,
      dstLen: to?.prefixLen ?? 0,
      table: spec.table > 255 ? 0 : spec.table,
      action: FR_ACT_TO_TBL,
    };
    const attrs = {
      priority: spec.priority,
      table: spec.table,
      ...(from ? { src: ipToBuf(from.ip) } : {}),
      ...(to ? { dst: ipToBuf(to.ip) } : {}),
      ...(spec.fwmark !== undefined ? { fwmark: spec.fwmark } : {}),
      ...(spec.fwmask !== undefined ? { fwmask: spec.fwmask } : {}),
    };
    return [data, attrs];
  }

  /** `ip rule add [from X] [to Y] [fwmark M/K] lookup T pref P`; EEXIST when identical. */
  async addRule(spec: RuleSpec): Promise<void> {
    const [data, attrs] = this.ruleMsg(spec);
    await this.run('rule.add', { ...spec }, () => this.sock.newRule(data, attrs, { flags: F_CREATE | F_EXCL }));
  }

  async delRule(spec: RuleSpec): Promise<void> {
    const [data, attrs] = this.ruleMsg(spec);
    await this.run('rule.del', { ...spec }, () => this.sock.delRule(data, attrs));
  }

  // ---- neighbours ----

  async listNeighs(ifindex?: number): Promise<NeighInfo[]> {
    const msgs = await this.run('neigh.list', {}, () => this.sock.getNeighbors({ family: AF_INET }));
    const out: NeighInfo[] = [];
    for (const m of msgs) {
      if (m.data.family !== AF_INET || !m.attrs.dst) continue;
      if (ifindex !== undefined && m.data.ifindex !== ifindex) continue;
      const state = netlinkPkg.rt.formatNeighborState(m.data.state ?? {});
      out.push({
        ifindex: m.data.ifindex ?? 0,
        ip: bufToIp(m.attrs.dst),
        mac: m.attrs.lladdr ? bufToMac(m.attrs.lladdr) : '',
        state,
        permanent: (state & NUD_PERMANENT) !== 0,
      });
    }
    return out;
  }

  /** `ip neigh replace IP lladdr MAC dev X nud permanent`. */
  async setPermanentNeigh(spec: NeighSpec): Promise<void> {
    await this.run('neigh.replace', { ...spec }, () =>
      this.sock.newNeighbor(
        { family: AF_INET, ifindex: spec.ifindex, state: { permanent: true } },
        { dst: ipToBuf(spec.ip), lladdr: macToBuf(spec.mac) },
        { flags: F_CREATE | F_REPLACE },
      ),
    );
  }

  async delNeigh(spec: Omit<NeighSpec, 'mac'>): Promise<void> {
    await this.run('neigh.del', { ...spec }, () =>
      this.sock.delNeighbor({ family: AF_INET, ifindex: spec.ifindex }, { dst: ipToBuf(spec.ip) }),
    );
  }
}

/** The errno name a batch reply carries (undefined: an ACK). */
function replyErrno(msg: NlReply): string | undefined {
  try {
    netlinkPkg.checkError(msg);
    return undefined;
  } catch (e) {
    return errnoOf(e) ?? 'EIO';
  }
}

function toLink(m: rtTypes.LinkMessage): LinkInfo {
  const a = m.attrs;
  const info: LinkInfo = {
    index: m.data.index ?? 0,
    name: a.ifname ?? '',
    mac: a.address ? bufToMac(a.address) : '',
    mtu: a.mtu ?? 0,
    up: Boolean(m.data.flags?.up),
  };
  if (a.linkinfo) {
    const kind = parseAttrs(a.linkinfo).get(IFLA_INFO_KIND);
    if (kind) info.kind = kind.toString('utf8').replace(/\0+$/, '');
  }
  if (a.link && a.link.length >= 4) info.peerIndex = a.link.readUInt32LE(0);
  if (a.linkNetnsid !== undefined) info.linkNetnsid = a.linkNetnsid;
  return info;
}
