// ipvlan datapath mode (lyft cni-ipvlan-vpc-k8s style). In the pod: an ipvlan L2 child of the
// NIC that owns the address carries the VPC address, and an unnumbered veth carries node and
// service traffic; on the node: a /32 route to the pod via the host veth. All through netlink
// sockets opened inside the namespaces; nothing is spawned on the per-pod path.
import { closeSync } from 'node:fs';
import type { Logger } from 'pino';
import { VpcnetError, toVpcnetError } from '../errors.ts';
import type { Datapath, Drift, HostNic, NodeNetConfig, PodNetworkRequest, PodNetworkResult, PodTeardownRequest } from './datapath.ts';
import { IpvlanLinks } from './ipvlan-link.ts';
import { POD_VETH, describeRoute, hostVethName, planPod, tempIfname, toRouteSpec, type IpvlanPlan } from './ipvlan-plan.ts';
import { Rtnl, openNetnsFd, writeSysctl, type LinkInfo, type RouteInfo } from './netlink/index.ts';

export interface IpvlanDatapathOptions {
  /** Namespace that plays the node's root namespace (the lab); undefined: the caller's own. */
  nodeNetns?: string;
  log?: Logger;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export class IpvlanDatapath implements Datapath {
  private readonly nodeNetns: string | undefined;
  private readonly log: Logger | undefined;
  private node: NodeNetConfig | undefined;

  constructor(opts: IpvlanDatapathOptions = {}) {
    this.nodeNetns = opts.nodeNetns;
    this.log = opts.log;
  }

  /** Forwarding on (pod -> veth -> node -> NIC for masqueraded traffic). The masquerade table is the masquerade module's. */
  async setupNode(cfg: NodeNetConfig): Promise<void> {
    writeSysctl(this.nodeNetns, 'net/ipv4/ip_forward', '1');
    this.node = cfg;
    await Promise.resolve();
  }

  /** setupNode changed only the forwarding switch, which other node software may rely on: left as is. */
  async teardownNode(): Promise<void> {
    this.node = undefined;
    await Promise.resolve();
  }

  /** Pods egress straight through the ipvlan child of their NIC: no per-NIC table, only link up and MTU. */
  async setupNic(nic: HostNic): Promise<void> {
    const rt = Rtnl.open(this.nodeNetns);
    try {
      const link = await this.nicLink(rt, nic);
      if (!link.up || link.mtu !== nic.mtu) await rt.setLink(link.index, { up: true, mtu: nic.mtu });
    } finally {
      rt.close();
    }
  }

  /** setupNic created nothing (the NIC belongs to the cloud), so there is nothing to remove. */
  async teardownNic(_nic: HostNic): Promise<void> {
    await Promise.resolve();
  }

  async setupPod(req: PodNetworkRequest): Promise<PodNetworkResult> {
    const node = this.requireNode();
    if (!IFNAME_RE.test(req.ifname) || req.ifname === POD_VETH) {
      throw new VpcnetError('IFNAME_INVALID', 'invalid pod interface name', { details: { ifname: req.ifname } });
    }
    const plan = planPod(req, node);
    const result: PodNetworkResult = { hostIfname: plan.hostVeth, podIfname: req.ifname, podMac: '', ip: req.ip, gateway: req.nic.gateway, netns: req.netns };
    const drift = await this.checkPod(req);
    if (drift.length === 0) return { ...result, podMac: await this.podMac(req) };
    // Partial or stale state from an earlier attempt: start over from nothing.
    await this.teardownPod(req);
    try {
      await this.create(req, node, plan);
    } catch (err) {
      await this.teardownPod(req).catch(() => undefined);
      throw toVpcnetError(err, 'NETLINK');
    }
    this.log?.debug({ containerId: req.containerId, ip: req.ip, hostVeth: plan.hostVeth }, 'ipvlan pod wired');
    return { ...result, podMac: await this.podMac(req) };
  }

  async teardownPod(req: PodTeardownRequest): Promise<void> {
    const nodeRt = Rtnl.open(this.nodeNetns);
    try {
      const host = await nodeRt.getLink(hostVethName(req.containerId, req.ifname));
      // Deleting the host veth removes its peer and the /32 route with it.
      if (host) await ignoreGone(nodeRt.deleteLink(host.index));
    } finally {
      nodeRt.close();
    }
    if (!req.netns) return;
    let fd: number;
    try {
      fd = openNetnsFd(req.netns);
    } catch {
      return; // namespace gone: its links went with it
    }
    const podRt = Rtnl.openFd(fd, req.netns);
    try {
      for (const name of [req.ifname, POD_VETH, tempIfname(req.containerId, req.ifname)]) {
        const link = await podRt.getLink(name);
        if (link && (link.kind === 'ipvlan' || link.kind === 'veth')) await ignoreGone(podRt.deleteLink(link.index));
      }
    } finally {
      podRt.close();
      closeSync(fd);
    }
  }

  async checkPod(req: PodNetworkRequest): Promise<Drift[]> {
    const node = this.requireNode();
    const plan = planPod(req, node);
    const drift: Drift[] = [];
    const nodeRt = Rtnl.open(this.nodeNetns);
    let nic: LinkInfo;
    try {
      nic = await this.nicLink(nodeRt, req.nic);
      const host = await nodeRt.getLink(plan.hostVeth);
      if (!host) drift.push({ kind: 'missing', object: `link ${plan.hostVeth} type veth` });
      else {
        if (!host.up) drift.push({ kind: 'mismatch', object: `link ${plan.hostVeth}`, expected: 'up', actual: 'down' });
        const routes = await nodeRt.listRoutes(254);
        if (!routes.some((r) => r.dst === `${req.ip}/32` && r.oif === host.index && !r.gateway)) {
          drift.push({ kind: 'missing', object: `route ${req.ip}/32 dev ${plan.hostVeth} scope link` });
        }
      }
    } finally {
      nodeRt.close();
    }
    let fd: number;
    try {
      fd = openNetnsFd(req.netns);
    } catch {
      drift.push({ kind: 'missing', object: `netns ${req.netns}` });
      return drift;
    }
    const podRt = Rtnl.openFd(fd, req.netns);
    try {
      await this.checkPodSide(podRt, req, plan, nic, drift);
    } finally {
      podRt.close();
      closeSync(fd);
    }
    return drift;
  }

  private async checkPodSide(rt: Rtnl, req: PodNetworkRequest, plan: IpvlanPlan, nic: LinkInfo, drift: Drift[]): Promise<void> {
    const child = await rt.getLink(req.ifname);
    const veth = await rt.getLink(POD_VETH);
    if (!child || child.kind !== 'ipvlan') drift.push({ kind: 'missing', object: `link ${req.ifname} type ipvlan mode l2` });
    else {
      if (child.peerIndex !== nic.index) drift.push({ kind: 'mismatch', object: `link ${req.ifname} parent`, expected: nic.name, actual: String(child.peerIndex) });
      if (!child.up) drift.push({ kind: 'mismatch', object: `link ${req.ifname}`, expected: 'up', actual: 'down' });
      const addrs = await rt.listAddrs(child.index);
      if (!addrs.some((a) => a.ip === req.ip && a.prefixLen === plan.prefixLen)) {
        drift.push({ kind: 'missing', object: `addr ${req.ip}/${plan.prefixLen} dev ${req.ifname}` });
      }
    }
    if (!veth || veth.kind !== 'veth') drift.push({ kind: 'missing', object: `link ${POD_VETH} type veth` });
    else if (!veth.up) drift.push({ kind: 'mismatch', object: `link ${POD_VETH}`, expected: 'up', actual: 'down' });
    const index: Record<string, number | undefined> = { [req.ifname]: child?.index, [POD_VETH]: veth?.index };
    const routes = await rt.listRoutes(254);
    for (const want of plan.podRoutes) {
      if (!routes.some((r) => routeMatches(r, want.dst, want.gateway, index[want.dev]))) {
        drift.push({ kind: 'missing', object: `route ${describeRoute(want)}` });
      }
    }
  }

  private async create(req: PodNetworkRequest, node: NodeNetConfig, plan: IpvlanPlan): Promise<void> {
    const fd = openNetnsFd(req.netns);
    const nodeRt = Rtnl.open(this.nodeNetns);
    const links = new IpvlanLinks(this.nodeNetns);
    const podRt = Rtnl.openFd(fd, req.netns);
    try {
      const nic = await this.nicLink(nodeRt, req.nic);
      // The kernel checks the new name against the socket's (node) namespace, where the NIC may
      // itself be called eth0: create under a unique temporary name, rename inside the pod.
      await links.create({ name: plan.tempIfname, parentIndex: nic.index, mode: 'l2', netnsFd: fd, mtu: req.mtu });
      await nodeRt.createVeth({ name: plan.hostVeth, peerName: POD_VETH, peerNetnsFd: fd, mtu: req.mtu });
      const host = await mustLink(nodeRt, plan.hostVeth);
      await nodeRt.setLink(host.index, { up: true });
      await nodeRt.addRoute({ dst: `${req.ip}/32`, oif: host.index, scope: 'link', src: node.primaryIp }, { replace: true });

      const lo = await mustLink(podRt, 'lo');
      if (!lo.up) await podRt.setLink(lo.index, { up: true });
      const temp = await mustLink(podRt, plan.tempIfname);
      await podRt.setLink(temp.index, { name: req.ifname });
      const child = await mustLink(podRt, req.ifname);
      const veth = await mustLink(podRt, POD_VETH);
      await podRt.addAddr({ ifindex: child.index, ip: req.ip, prefixLen: plan.prefixLen }, { replace: true });
      await podRt.setLink(child.index, { up: true });
      await podRt.setLink(veth.index, { up: true });
      const oif: Record<string, number> = { [req.ifname]: child.index, [POD_VETH]: veth.index };
      for (const r of plan.podRoutes) await podRt.addRoute(toRouteSpec(r, oif[r.dev] ?? 0), { replace: true });
    } finally {
      podRt.close();
      links.close();
      nodeRt.close();
      closeSync(fd);
    }
  }

  private async podMac(req: PodNetworkRequest): Promise<string> {
    const rt = Rtnl.open(req.netns);
    try {
      return (await rt.getLink(req.ifname))?.mac ?? '';
    } finally {
      rt.close();
    }
  }

  private async nicLink(rt: Rtnl, nic: HostNic): Promise<LinkInfo> {
    const link = await rt.findLinkByMac(nic.mac);
    if (!link || link.kind === 'ipvlan') {
      throw new VpcnetError('NETLINK', 'no interface with the NIC MAC', { details: { mac: nic.mac, deviceIndex: nic.deviceIndex } });
    }
    return link;
  }

  private requireNode(): NodeNetConfig {
    if (!this.node) throw new VpcnetError('INTERNAL', 'setupNode must run before pods are wired');
    return this.node;
  }
}

function routeMatches(r: RouteInfo, dst: string, gateway: string | undefined, oif: number | undefined): boolean {
  return r.dst === dst && r.gateway === gateway && oif !== undefined && r.oif === oif;
}

async function mustLink(rt: Rtnl, name: string): Promise<LinkInfo> {
  const link = await rt.getLink(name);
  if (!link) throw new VpcnetError('NETLINK', 'link vanished right after creation', { details: { name } });
  return link;
}

async function ignoreGone(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const errno = (err as VpcnetError).details?.errno;
    if (errno !== 'ENODEV' && errno !== 'ENOENT') throw err;
  }
}
