// The Linux datapath: netlink sockets in the node namespace (the agent's own, or a lab
// node's) and in each pod namespace, plus one nft table for masquerade. The per-pod path
// spawns nothing; nft runs only at node setup.
import { pino, type Logger } from 'pino';
import { VpcnetError } from '../errors.ts';
import type { Datapath, DatapathMode, Drift, HostNic, NodeNetConfig, PodNetworkRequest, PodNetworkResult, PodTeardownRequest, WiredPod } from './datapath.ts';
import { MASQ_MARK, MASQ_RULE_PRIORITY, deleteTableScript, masqueradeScript, runNft } from './masquerade.ts';
import { hostVethName, nicTable } from './naming.ts';
import { noopMetrics, type Metrics } from '../metrics/metrics.ts';
import { cidrContains, parseCidr } from './netlink/codec.ts';
import { errnoOf, Rtnl } from './netlink/rtnl.ts';
import { writeSysctl } from './netlink/sysctl.ts';
import type { LinkInfo, RuleSpec } from './netlink/types.ts';
import { checkRoutedPod, listRoutedPods, setupRoutedPod, teardownRoutedPod, type DeferUnlink } from './routed-pod.ts';
import { DEFAULT_NETNS_DIRS, isSaneNetnsPath, validateHostIfname, validateIfname, validateNetnsPath } from './validate.ts';

/** Per-pod wiring of one datapath mode; ipvlan mode plugs in through this. */
export interface PodWiring {
  setupPod(node: Rtnl, req: PodNetworkRequest): Promise<PodNetworkResult>;
  /** With deferUnlink, a wiring may hand the (slow) deletion of the detached host link to the datapath. */
  teardownPod(node: Rtnl, req: PodTeardownRequest, deferUnlink?: DeferUnlink): Promise<void>;
  checkPod(node: Rtnl, req: PodNetworkRequest): Promise<Drift[]>;
}

export interface LinuxDatapathOptions {
  /** Namespace that plays the node's root netns (lab); undefined = the process's own. */
  nodeNetns?: string;
  /** Directories pod netns paths may live in (besides /proc/<pid>/ns/net). */
  allowedNetnsDirs?: string[];
  /** Wiring per mode; routed is built in. */
  modes?: Partial<Record<DatapathMode, PodWiring>>;
  nftPath?: string;
  logger?: Logger;
  /**
   * teardownPod answers once the pod is detached (route and rules gone) and deletes its host
   * veth in the background: a pending deletion that a later setup of the same veth name or
   * address waits for (docs/datapath.md, "DEL"). Off: the deletion is part of teardownPod.
   */
  deferVethDeletion?: boolean;
  /** vpcnet_datapath_pending_deletions. */
  metrics?: Metrics;
}

/** Idle node sockets kept for the next pod operation (concurrent bursts open more, then close them). */
const MAX_IDLE_NODE_SOCKETS = 8;
const routedWiring: PodWiring = { setupPod: setupRoutedPod, teardownPod: teardownRoutedPod, checkPod: checkRoutedPod };
const fwmarkRule: RuleSpec = { priority: MASQ_RULE_PRIORITY, table: 254, fwmark: MASQ_MARK, fwmask: MASQ_MARK };

export class LinuxDatapath implements Datapath {
  private readonly opts: LinuxDatapathOptions;
  private readonly allowedDirs: string[];
  private readonly log: Logger;
  private readonly modes: Partial<Record<DatapathMode, PodWiring>>;
  private rtnl: Rtnl | undefined;
  private readonly idleNodeSockets: Rtnl[] = [];
  private readonly metrics: Metrics;
  /** Host veths being deleted in the background, by name and by the addresses routed through them. */
  private readonly pendingByName = new Map<string, Promise<void>>();
  private readonly pendingByIp = new Map<string, Promise<void>>();
  private readonly deferUnlink: DeferUnlink | undefined;

  constructor(opts: LinuxDatapathOptions = {}) {
    this.opts = opts;
    this.allowedDirs = opts.allowedNetnsDirs ?? DEFAULT_NETNS_DIRS;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'datapath' });
    this.modes = { routed: routedWiring, ...opts.modes };
    this.metrics = opts.metrics ?? noopMetrics;
    this.deferUnlink = opts.deferVethDeletion ? (name, index, ips) => this.unlinkLater(name, index, ips) : undefined;
  }

  /** Resolves once every pending host veth deletion has finished (successfully or not). */
  async settled(): Promise<void> {
    while (this.pendingByName.size > 0) await Promise.all(this.pendingByName.values());
  }

  /** Host veth names whose deletion is still pending. */
  pendingDeletions(): string[] {
    return [...this.pendingByName.keys()];
  }

  private unlinkLater(name: string, index: number, ips: string[]): void {
    if (this.pendingByName.has(name)) return; // a repeated DEL: the first deletion covers it
    const done: Promise<void> = this.node()
      .deleteLinkOffThread(index)
      .catch((err: unknown) => {
        // Left unrouted: the reconciler removes a vpcnet veth that no allocation owns.
        if (errnoOf(err) !== 'ENODEV') this.log.warn({ hostIfname: name, err }, 'background veth deletion failed');
      })
      .finally(() => {
        this.pendingByName.delete(name);
        for (const ip of ips) if (this.pendingByIp.get(ip) === done) this.pendingByIp.delete(ip);
        this.metrics.set('vpcnet_datapath_pending_deletions', this.pendingByName.size);
      });
    this.pendingByName.set(name, done);
    for (const ip of ips) this.pendingByIp.set(ip, done);
    this.metrics.set('vpcnet_datapath_pending_deletions', this.pendingByName.size);
  }

  /** A setup never races the deletion of a veth with its name, or one its address was routed through. */
  private async awaitPending(req: PodNetworkRequest): Promise<void> {
    if (this.pendingByName.size === 0) return;
    const name = this.pendingByName.get(hostVethName(req.containerId, req.ifname));
    const ip = this.pendingByIp.get(req.ip);
    if (name || ip) await Promise.all([name, ip]);
  }

  /** The long-lived socket in the node namespace. */
  node(): Rtnl {
    this.rtnl ??= Rtnl.open(this.opts.nodeNetns);
    return this.rtnl;
  }

  close(): void {
    this.rtnl?.close();
    this.rtnl = undefined;
    for (const s of this.idleNodeSockets.splice(0)) s.close();
  }

  private wiring(mode: DatapathMode | undefined): PodWiring {
    const w = this.modes[mode ?? 'routed'];
    if (!w) throw new VpcnetError('CONFIG_INVALID', 'datapath mode not available', { details: { mode } });
    return w;
  }

  async setupNode(cfg: NodeNetConfig): Promise<void> {
    const ns = this.opts.nodeNetns;
    const primary = await this.primaryLink(cfg);
    writeSysctl(ns, 'net/ipv4/ip_forward', '1');
    // Loose reverse-path filtering: replies for pods on secondary NICs may arrive elsewhere.
    writeSysctl(ns, `net/ipv4/conf/${primary.name}/rp_filter`, '2');
    runNft(ns, masqueradeScript(cfg), this.opts.nftPath);
    if (cfg.masquerade.enabled) await this.ensureRule(fwmarkRule);
    else await this.removeRule(fwmarkRule);
    this.log.info({ primary: primary.name, masquerade: cfg.masquerade.enabled }, 'node datapath set up');
  }

  async teardownNode(): Promise<void> {
    runNft(this.opts.nodeNetns, deleteTableScript(), this.opts.nftPath);
    await this.removeRule(fwmarkRule);
    this.log.info({}, 'node datapath torn down');
  }

  async setupNic(nic: HostNic): Promise<void> {
    const node = this.node();
    const link = await this.nicLink(nic);
    if (link.mtu !== nic.mtu) await node.setLink(link.index, { mtu: nic.mtu });
    if (!link.up) await node.setLink(link.index, { up: true });
    writeSysctl(this.opts.nodeNetns, `net/ipv4/conf/${link.name}/rp_filter`, '2');
    if (nic.deviceIndex === 0) return;
    const subnet = parseCidr(nic.subnetCidr);
    const table = nicTable(nic.deviceIndex);
    // The NIC's own address without a main-table subnet route: its subnet lives in its table.
    await node.addAddr({ ifindex: link.index, ip: nic.primaryIp, prefixLen: subnet.prefixLen, noPrefixRoute: true }, { replace: true });
    await node.addRoute({ dst: nic.subnetCidr, oif: link.index, table, scope: 'link', src: nic.primaryIp }, { replace: true });
    await node.addRoute({ dst: 'default', gateway: nic.gateway, oif: link.index, table, onlink: true }, { replace: true });
    this.log.info({ nic: link.name, table }, 'nic set up');
  }

  async teardownNic(nic: HostNic): Promise<void> {
    const node = this.node();
    const link = await this.findNicLink(nic);
    if (!link || nic.deviceIndex === 0) return;
    const table = nicTable(nic.deviceIndex);
    for (const r of await node.listRoutes(table)) await this.tolerate(['ESRCH', 'ENOENT'], () => node.delRoute({ ...r, table }));
    const prefixLen = parseCidr(nic.subnetCidr).prefixLen;
    await this.tolerate(['EADDRNOTAVAIL', 'ENOENT'], () => node.delAddr({ ifindex: link.index, ip: nic.primaryIp, prefixLen }));
    await node.setLink(link.index, { up: false });
  }

  /**
   * A socket of its own for each pod operation: requests on one socket run one at a time, so
   * a shared socket would queue concurrent pods behind each other. Opening one (setns in and
   * out, socket, bind) cost ~0.15 ms of every ADD and DEL, so sockets are kept for reuse; one
   * whose operation threw may still have a reply in flight and is closed instead.
   */
  private async withNodeSocket<T>(fn: (node: Rtnl) => Promise<T>): Promise<T> {
    const node = this.idleNodeSockets.pop() ?? Rtnl.open(this.opts.nodeNetns);
    let ok = false;
    try {
      const out = await fn(node);
      ok = true;
      return out;
    } finally {
      if (ok && this.idleNodeSockets.length < MAX_IDLE_NODE_SOCKETS) this.idleNodeSockets.push(node);
      else node.close();
    }
  }

  async setupPod(req: PodNetworkRequest): Promise<PodNetworkResult> {
    this.validatePod(req);
    const wiring = this.wiring(req.mode);
    await this.awaitPending(req);
    const res = await this.withNodeSocket((node) => wiring.setupPod(node, req));
    this.log.debug({ containerId: req.containerId, ip: req.ip, hostIfname: res.hostIfname }, 'pod set up');
    return res;
  }

  async teardownPod(req: PodTeardownRequest): Promise<void> {
    validateIfname(req.ifname);
    // Teardown works from the node side; a pod netns path that does not look sane is just not used.
    if (req.netns && req.netnsFd === undefined && !isSaneNetnsPath(req.netns, this.allowedDirs)) {
      const { netns: _dropped, ...rest } = req;
      req = rest;
    }
    if (req.hostIfname !== undefined) validateHostIfname(req.hostIfname);
    const wiring = this.wiring(req.mode);
    await this.withNodeSocket((node) => wiring.teardownPod(node, req, this.deferUnlink));
    this.log.debug({ containerId: req.containerId, ip: req.ip }, 'pod torn down');
  }

  async checkPod(req: PodNetworkRequest): Promise<Drift[]> {
    this.validatePod(req);
    const wiring = this.wiring(req.mode);
    return this.withNodeSocket((node) => wiring.checkPod(node, req));
  }

  /** Routed-mode wiring on the node (host veths and leftover rules); veths being deleted are not wiring. */
  async listPods(): Promise<WiredPod[]> {
    const wired = await this.withNodeSocket((node) => listRoutedPods(node));
    return this.pendingByName.size === 0 ? wired : wired.filter((w) => !w.hostIfname || !this.pendingByName.has(w.hostIfname));
  }

  private validatePod(req: PodNetworkRequest): void {
    validateIfname(req.ifname);
    // With a descriptor the path is only a label: the CNI layer checked the namespace's identity.
    if (req.netnsFd === undefined) validateNetnsPath(req.netns, this.allowedDirs);
    if (!cidrContains(req.nic.subnetCidr, req.nic.primaryIp)) {
      throw new VpcnetError('INTERNAL', 'nic primary address outside its subnet', { details: { nic: req.nic } });
    }
    parseCidr(req.ip);
  }

  private async primaryLink(cfg: NodeNetConfig): Promise<LinkInfo> {
    const node = this.node();
    const link = cfg.primaryIfname ? await node.getLink(cfg.primaryIfname) : await node.findLinkByMac(cfg.primaryMac);
    if (!link) throw new VpcnetError('NETLINK', 'primary interface not found', { details: { ifname: cfg.primaryIfname, mac: cfg.primaryMac, errno: 'ENODEV' } });
    return link;
  }

  private async findNicLink(nic: HostNic): Promise<LinkInfo | undefined> {
    return this.node().findLinkByMac(nic.mac);
  }

  private async nicLink(nic: HostNic): Promise<LinkInfo> {
    const link = await this.findNicLink(nic);
    if (!link) throw new VpcnetError('NETLINK', 'no interface with the NIC MAC', { details: { mac: nic.mac, errno: 'ENODEV' } });
    return link;
  }

  private async ensureRule(r: RuleSpec): Promise<void> {
    await this.tolerate(['EEXIST'], () => this.node().addRule(r));
  }

  private async removeRule(r: RuleSpec): Promise<void> {
    await this.tolerate(['ENOENT'], () => this.node().delRule(r));
  }

  private async tolerate(errnos: string[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!errnos.includes(errnoOf(err) ?? '')) throw err;
    }
  }
}
