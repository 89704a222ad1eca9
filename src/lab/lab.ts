// The simulated VPC on one host. Namespaces (all named <prefix>-...):
//   <prefix>-fabric    the VPC router: one port per NIC (fXeY), subnet gateways as /32s,
//                      routes each owned address to its NIC, source/destination check (nft)
//   <prefix>-inet      "the internet": 198.51.100.1, reachable only from public addresses
//   <prefix>-<node>    a node's root netns: NICs eth0, eth1, ... (veths into the fabric)
//   <prefix>-p-<name>  pod namespaces (wired by the datapath under test)
// Nothing here touches the host's own namespace: commands run via `ip netns exec` on lab
// namespaces, netlink sockets are opened inside lab namespaces.
import { randomBytes } from 'node:crypto';
import { Rtnl } from '../datapath/netlink/rtnl.ts';
import type { RouteSpec } from '../datapath/netlink/types.ts';
import { VpcnetError } from '../errors.ts';
import { listNetns, netnsAdd, netnsDel, nsExec, nsExecSync } from './exec.ts';
import { type FabricNic, type FabricState, publicIpsOf, subnetGateway } from './fabric-state.ts';

export const INTERNET_IP = '198.51.100.1';
const INTERNET_FABRIC_IP = '198.51.100.254';
const INTERNET_PORT = 'inet';
const FABRIC_TABLE = 'fabric';

export interface LabNicSpec {
  deviceIndex: number;
  mac: string;
  /** The NIC's own address. */
  primaryIp: string;
  subnetCidr: string;
  mtu?: number;
}

export interface LabNode {
  name: string;
  /** Namespace name and path (the node's root netns). */
  ns: string;
  netnsPath: string;
  index: number;
  nics: LabNicSpec[];
}

export interface LabOptions {
  /** Per-run prefix, e.g. "vpd3k9a"; a random one from `basePrefix` when omitted. */
  prefix?: string;
  basePrefix?: string;
}

interface Port {
  name: string;
  nic: LabNicSpec;
  node: string;
}

export function netnsPath(ns: string): string {
  return `/var/run/netns/${ns}`;
}

export class Lab {
  readonly prefix: string;
  readonly fabricNs: string;
  readonly internetNs: string;
  private readonly nodes = new Map<string, LabNode>();
  private readonly ports = new Map<string, Port>(); // by MAC
  private readonly created: string[] = [];
  private fabricRtnl: Rtnl | undefined;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.fabricNs = `${prefix}-fabric`;
    this.internetNs = `${prefix}-inet`;
  }

  /** Creates the fabric and the internet. Cleans up what it made if that fails. */
  static create(opts: LabOptions = {}): Lab {
    const prefix = opts.prefix ?? `${opts.basePrefix ?? 'vpl'}${randomBytes(2).toString('hex')}`;
    const lab = new Lab(prefix);
    try {
      lab.init();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  /**
   * Deletes the namespaces of one run: every `<prefix>-…` (a trailing "-" is optional). Only
   * exact run prefixes match, so "vpd" never removes another run's "vpdemo-…" namespaces.
   */
  static cleanupStale(prefix: string): string[] {
    const base = prefix.endsWith('-') ? prefix.slice(0, -1) : prefix;
    if (!/^[A-Za-z0-9_.]{3,}$/.test(base)) throw new VpcnetError('INTERNAL', 'bad lab prefix for cleanup', { details: { prefix } });
    const gone: string[] = [];
    for (const ns of listNetns()) {
      if (ns.startsWith(`${base}-`) && netnsDel(base, ns)) gone.push(ns);
    }
    return gone;
  }

  private addNs(ns: string): void {
    netnsAdd(this.prefix, ns);
    this.created.push(ns);
    this.ip(ns, ['link', 'set', 'lo', 'up']);
    // IPv4-only lab: no link-local IPv6 addresses whose DAD timing would make dumps flap.
    this.sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', '1');
    this.sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', '1');
  }

  /** `ip ARGS` inside a lab namespace. */
  ip(ns: string, args: string[]): string {
    return nsExecSync(this.prefix, ns, 'ip', args);
  }

  sysctl(ns: string, key: string, value: string): void {
    nsExecSync(this.prefix, ns, 'sysctl', ['-qw', `${key}=${value}`]);
  }

  private init(): void {
    this.addNs(this.fabricNs);
    this.addNs(this.internetNs);
    const f = this.fabricNs;
    this.sysctl(f, 'net.ipv4.ip_forward', '1');
    this.sysctl(f, 'net.ipv4.conf.all.rp_filter', '0');
    this.sysctl(f, 'net.ipv4.conf.default.rp_filter', '0');
    this.sysctl(f, 'net.ipv4.conf.all.send_redirects', '0');
    this.sysctl(f, 'net.ipv4.conf.default.send_redirects', '0');
    this.ip(f, ['link', 'add', INTERNET_PORT, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.internetNs]);
    this.ip(f, ['addr', 'add', `${INTERNET_FABRIC_IP}/24`, 'dev', INTERNET_PORT]);
    this.ip(f, ['link', 'set', INTERNET_PORT, 'up']);
    this.ip(this.internetNs, ['addr', 'add', `${INTERNET_IP}/24`, 'dev', 'eth0']);
    this.ip(this.internetNs, ['link', 'set', 'eth0', 'up']);
    this.ip(this.internetNs, ['route', 'add', 'default', 'via', INTERNET_FABRIC_IP]);
    this.applyNft({ nics: [] });
  }

  /** A node namespace with its primary NIC eth0 configured (as cloud-init/DHCP would). */
  addNode(name: string, primary: LabNicSpec): LabNode {
    if (this.nodes.has(name)) throw new VpcnetError('INTERNAL', 'node exists', { details: { name } });
    const ns = `${this.prefix}-${name}`;
    this.addNs(ns);
    const node: LabNode = { name, ns, netnsPath: netnsPath(ns), index: this.nodes.size + 1, nics: [] };
    this.nodes.set(name, node);
    this.attachNic(name, { ...primary, deviceIndex: 0 });
    const prefixLen = primary.subnetCidr.split('/')[1];
    this.ip(ns, ['addr', 'add', `${primary.primaryIp}/${prefixLen}`, 'dev', 'eth0']);
    this.ip(ns, ['link', 'set', 'eth0', 'up']);
    this.ip(ns, ['route', 'add', 'default', 'via', subnetGateway(primary.subnetCidr), 'dev', 'eth0']);
    return node;
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name);
    if (!n) throw new VpcnetError('INTERNAL', 'no such lab node', { details: { name } });
    return n;
  }

  /**
   * Plugs a NIC into a node: ethN in the node (down, unconfigured, as a freshly attached
   * cloud NIC appears) and its fabric port with the subnet gateway. Addresses become
   * reachable only once applyFabricState says the NIC owns them.
   */
  attachNic(nodeName: string, nic: LabNicSpec): void {
    const node = this.node(nodeName);
    const port = `f${node.index}e${nic.deviceIndex}`;
    const mtu = String(nic.mtu ?? 9001);
    const f = this.fabricNs;
    this.ip(f, ['link', 'add', port, 'mtu', mtu, 'type', 'veth', 'peer', 'name', `eth${nic.deviceIndex}`, 'address', nic.mac, 'mtu', mtu, 'netns', node.ns]);
    this.ip(f, ['addr', 'add', `${subnetGateway(nic.subnetCidr)}/32`, 'dev', port]);
    this.sysctl(f, `net.ipv4.conf.${port}.proxy_arp`, '1');
    this.ip(f, ['neigh', 'replace', nic.primaryIp, 'lladdr', nic.mac, 'dev', port, 'nud', 'permanent']);
    this.ip(f, ['link', 'set', port, 'up']);
    node.nics.push(nic);
    this.ports.set(nic.mac.toLowerCase(), { name: port, nic, node: nodeName });
  }

  /** Removes a NIC (its link pair). Call applyFabricState afterwards. */
  detachNic(nodeName: string, mac: string): void {
    const port = this.ports.get(mac.toLowerCase());
    if (!port || port.node !== nodeName) return;
    this.ip(this.fabricNs, ['link', 'del', port.name]);
    this.ports.delete(mac.toLowerCase());
    const node = this.node(nodeName);
    node.nics = node.nics.filter((n) => n.mac.toLowerCase() !== mac.toLowerCase());
  }

  /** An empty pod namespace (lo up); returns its path for the datapath. */
  addPod(name: string): string {
    const ns = this.podNs(name);
    this.addNs(ns);
    return netnsPath(ns);
  }

  podNs(name: string): string {
    return `${this.prefix}-p-${name}`;
  }

  removePod(name: string): void {
    const ns = this.podNs(name);
    netnsDel(this.prefix, ns);
    const i = this.created.indexOf(ns);
    if (i >= 0) this.created.splice(i, 1);
  }

  /** Syncs fabric routes and the source/destination check to `state`. */
  async applyFabricState(state: FabricState): Promise<void> {
    this.fabricRtnl ??= Rtnl.open(netnsPath(this.fabricNs));
    const rtnl = this.fabricRtnl;
    const portIndex = new Map<string, number>();
    for (const l of await rtnl.listLinks()) portIndex.set(l.name, l.index);
    const want = new Map<string, RouteSpec>();
    for (const nic of state.nics) {
      const port = this.ports.get(nic.mac.toLowerCase());
      const oif = port ? portIndex.get(port.name) : undefined;
      if (oif === undefined) continue;
      want.set(`${nic.primaryIp}/32`, { dst: `${nic.primaryIp}/32`, oif, scope: 'link' });
      for (const b of nic.blocks) want.set(b, { dst: b, gateway: nic.primaryIp, oif, onlink: true });
    }
    const ports = new Set([...this.ports.values()].map((p) => portIndex.get(p.name)));
    for (const r of await rtnl.listRoutes(254)) {
      if (r.oif === undefined || !ports.has(r.oif)) continue;
      const w = want.get(r.dst);
      if (!w || w.oif !== r.oif || w.gateway !== r.gateway) await rtnl.delRoute({ ...r, table: 254 });
    }
    for (const w of want.values()) await rtnl.addRoute(w, { replace: true });
    // async: the lab may share its process with agents (the demo), whose event loop must not stall
    await nsExec(this.prefix, this.fabricNs, 'nft', ['-f', '-'], this.nftScript(state));
  }

  private applyNft(state: FabricState): void {
    nsExecSync(this.prefix, this.fabricNs, 'nft', ['-f', '-'], this.nftScript(state));
  }

  /** Source/destination check and internet access as one atomically replaced nft table. */
  private nftScript(state: FabricState): string {
    const lines: string[] = [`table ip ${FABRIC_TABLE} {}`, `delete table ip ${FABRIC_TABLE}`, `table ip ${FABRIC_TABLE} {`];
    const checks: string[] = [];
    for (const port of this.ports.values()) {
      const nic = state.nics.find((n) => n.mac.toLowerCase() === port.nic.mac.toLowerCase());
      const owned = nic ? [`${nic.primaryIp}/32`, ...nic.blocks] : [];
      const set = `own_${port.name}`;
      lines.push(`  set ${set} { type ipv4_addr; flags interval; auto-merge;${owned.length ? ` elements = { ${owned.join(', ')} }` : ''} }`);
      checks.push(`    iifname "${port.name}" ip saddr != @${set} counter drop comment "srcdst ${port.name}"`);
    }
    const pub = publicIpsOf(state);
    lines.push(`  set public { type ipv4_addr;${pub.length ? ` elements = { ${pub.join(', ')} }` : ''} }`);
    lines.push('  chain srcdst {', '    type filter hook prerouting priority -150; policy accept;', ...checks, '  }');
    lines.push('  chain igw {', '    type filter hook forward priority 0; policy accept;');
    lines.push(`    oifname "${INTERNET_PORT}" ip saddr != @public counter drop comment "igw"`, '  }', '}');
    return lines.join('\n') + '\n';
  }

  /** Packets the fabric dropped: by the source/destination check and at the internet gateway. */
  fabricDrops(): { srcdst: number; igw: number } {
    const out = nsExecSync(this.prefix, this.fabricNs, 'nft', ['-j', 'list', 'table', 'ip', FABRIC_TABLE]);
    const json = JSON.parse(out) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] };
    const drops = { srcdst: 0, igw: 0 };
    for (const item of json.nftables) {
      const rule = item.rule;
      if (!rule?.comment) continue;
      const packets = rule.expr.find((e) => e.counter)?.counter?.packets ?? 0;
      if (rule.comment === 'igw') drops.igw += packets;
      else if (rule.comment.startsWith('srcdst')) drops.srcdst += packets;
    }
    return drops;
  }

  /** Runs a command inside a lab namespace (async). */
  exec(ns: string, cmd: string, args: string[]): Promise<string> {
    return nsExec(this.prefix, ns, cmd, args);
  }

  execSync(ns: string, cmd: string, args: string[], input?: string): string {
    return nsExecSync(this.prefix, ns, cmd, args, input);
  }

  /** Deletes every namespace the lab made. Safe to call twice. */
  destroy(): void {
    this.fabricRtnl?.close();
    this.fabricRtnl = undefined;
    for (const ns of this.created.splice(0).reverse()) netnsDel(this.prefix, ns);
    Lab.cleanupStale(this.prefix);
  }
}

export type { FabricNic, FabricState };
