// ipvlan datapath mode (lyft cni-ipvlan-vpc-k8s style). In the pod: an ipvlan L2 child of the
// NIC that owns the address carries the VPC address, and an unnumbered veth carries node and
// service traffic; on the node: a /32 route to the pod via the host veth. All through netlink
// sockets opened inside the namespaces; nothing is spawned on the per-pod path.
import { closeSync } from 'node:fs';
import type { Logger } from 'pino';
import { VpcnetError, toVpcnetError } from '../errors.ts';
import type { Drift, HostNic, NodeNetConfig, PodNetworkRequest, PodNetworkResult, PodTeardownRequest } from './datapath.ts';
import { POD_VETH, describeRoute, planPod, tempIfname, toRouteSpec, type IpvlanPlan } from './ipvlan-plan.ts';
import type { PodWiring } from './linux-datapath.ts';
import { hostVethName } from './naming.ts';
import { Rtnl, errnoOf, ipvlanInfoData, openNetnsFd, type LinkInfo, type RouteInfo } from './netlink/index.ts';

const RT_TABLE_MAIN = 254;

export interface IpvlanWiringOptions {
  /** Namespace that plays the node's root namespace (the lab); undefined: the caller's own. */
  nodeNetns?: string;
  /** The node config LinuxDatapath.setupNode received (primary address, masquerade, service CIDR). */
  node: NodeNetConfig;
  log?: Logger;
}

/**
 * Per-pod wiring of ipvlan mode, plugged into LinuxDatapath (`modes: { ipvlan }`), which owns
 * the node-wide parts (forwarding, masquerade table, NIC link state) and the node socket.
 * Pods on secondary NICs need no per-NIC table: their VPC traffic leaves through the ipvlan
 * child of the NIC that owns the address.
 */
export class IpvlanWiring implements PodWiring {
  private readonly nodeNetns: string | undefined;
  private readonly log: Logger | undefined;
  private readonly node: NodeNetConfig;
  /** NIC ifindex by MAC; rechecked on every use, so a re-attached NIC is found again. */
  private readonly nicIndex = new Map<string, number>();

  constructor(opts: IpvlanWiringOptions) {
    this.nodeNetns = opts.nodeNetns;
    this.node = opts.node;
    this.log = opts.log;
  }

  async setupPod(nodeRt: Rtnl, req: PodNetworkRequest): Promise<PodNetworkResult> {
    const node = this.node;
    if (req.ifname === POD_VETH) {
      throw new VpcnetError('IFNAME_INVALID', 'invalid pod interface name', { details: { ifname: req.ifname } });
    }
    const plan = planPod(req, node);
    const fd = req.netnsFd ?? openNetnsFd(req.netns);
    const podRt = Rtnl.openFd(fd, req.netns);
    try {
      // The host veth exists only once a setup got past its first step: then check before acting.
      if (await nodeRt.getLink(plan.hostVeth)) {
        if ((await this.checkPod(nodeRt, req)).length === 0) return await this.result(podRt, req, plan);
        await this.teardownPod(nodeRt, req);
      }
      try {
        await this.create(nodeRt, req, node, plan, fd, podRt);
      } catch (first) {
        // Leftovers of an attempt that died early (e.g. the ipvlan child alone): clear, retry once.
        await this.teardownPod(nodeRt, req);
        try {
          await this.create(nodeRt, req, node, plan, fd, podRt);
        } catch (err) {
          await this.teardownPod(nodeRt, req).catch(() => undefined);
          this.log?.warn({ containerId: req.containerId, first: toVpcnetError(first).code }, 'ipvlan setup retry failed');
          throw toVpcnetError(err, 'NETLINK');
        }
      }
      this.log?.debug({ containerId: req.containerId, ip: req.ip, hostVeth: plan.hostVeth }, 'ipvlan pod wired');
      return await this.result(podRt, req, plan);
    } finally {
      podRt.close();
      if (req.netnsFd === undefined) closeSync(fd);
    }
  }

  async teardownPod(nodeRt: Rtnl, req: PodTeardownRequest): Promise<void> {
    const host = await nodeRt.getLink(req.hostIfname ?? hostVethName(req.containerId, req.ifname));
    // Deleting the host veth removes its peer and the /32 route with it.
    if (host) await ignoreGone(nodeRt.deleteLink(host.index));
    if (!req.netns && req.netnsFd === undefined) return;
    let fd: number;
    try {
      fd = req.netnsFd ?? openNetnsFd(req.netns as string);
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
      if (req.netnsFd === undefined) closeSync(fd);
    }
  }

  async checkPod(nodeRt: Rtnl, req: PodNetworkRequest): Promise<Drift[]> {
    const plan = planPod(req, this.node);
    const drift: Drift[] = [];
    const nic = await this.nicLink(nodeRt, req.nic);
    const host = await nodeRt.getLink(plan.hostVeth);
    if (!host) drift.push({ kind: 'missing', object: `link ${plan.hostVeth} type veth` });
    else {
      if (!host.up) drift.push({ kind: 'mismatch', object: `link ${plan.hostVeth}`, expected: 'up', actual: 'down' });
      const routes = await nodeRt.listRoutes(RT_TABLE_MAIN);
      if (!routes.some((r) => r.dst === `${req.ip}/32` && r.oif === host.index && !r.gateway)) {
        drift.push({ kind: 'missing', object: `route ${req.ip}/32 dev ${plan.hostVeth} scope link` });
      }
    }
    let fd: number;
    try {
      fd = req.netnsFd ?? openNetnsFd(req.netns);
    } catch {
      drift.push({ kind: 'missing', object: `netns ${req.netns}` });
      return drift;
    }
    const podRt = Rtnl.openFd(fd, req.netns);
    try {
      await this.checkPodSide(podRt, req, plan, nic, drift);
    } finally {
      podRt.close();
      if (req.netnsFd === undefined) closeSync(fd);
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
    const routes = await rt.listRoutes(RT_TABLE_MAIN);
    for (const want of plan.podRoutes) {
      if (!routes.some((r) => routeMatches(r, want.dst, want.gateway, index[want.dev]))) {
        drift.push({ kind: 'missing', object: `route ${describeRoute(want)}` });
      }
    }
  }

  private async create(nodeRt: Rtnl, req: PodNetworkRequest, node: NodeNetConfig, plan: IpvlanPlan, fd: number, podRt: Rtnl): Promise<void> {
    const nic = await this.nicLink(nodeRt, req.nic);
    // The kernel checks the new name against the socket's (node) namespace, where the NIC may
    // itself be called eth0: create under a unique temporary name, rename inside the pod.
    // A socket per pod, like LinuxDatapath's node sockets: concurrent pods never queue on one.
    // `ip link add link NIC name TEMP netns FD mtu M type ipvlan mode l2`: created in place, no move.
    const links = Rtnl.open(this.nodeNetns);
    try {
      await links.createLink({ name: plan.tempIfname, kind: 'ipvlan', parentIndex: nic.index, netnsFd: fd, mtu: req.mtu, infoData: ipvlanInfoData('l2') });
    } finally {
      links.close();
    }
    await nodeRt.createVeth({ name: plan.hostVeth, peerName: POD_VETH, peerNetnsFd: fd, mtu: req.mtu });
    const host = await mustLink(nodeRt, plan.hostVeth);
    await nodeRt.setLink(host.index, { up: true });
    await nodeRt.addRoute({ dst: `${req.ip}/32`, oif: host.index, scope: 'link', src: node.primaryIp }, { replace: true });

    const lo = await mustLink(podRt, 'lo');
    if (!lo.up) await podRt.setLink(lo.index, { up: true });
    const temp = await mustLink(podRt, plan.tempIfname);
    await podRt.setLink(temp.index, { name: req.ifname });
    const veth = await mustLink(podRt, POD_VETH);
    await podRt.addAddr({ ifindex: temp.index, ip: req.ip, prefixLen: plan.prefixLen }, { replace: true });
    await podRt.setLink(temp.index, { up: true });
    await podRt.setLink(veth.index, { up: true });
    const oif: Record<string, number> = { [req.ifname]: temp.index, [POD_VETH]: veth.index };
    for (const r of plan.podRoutes) await podRt.addRoute(toRouteSpec(r, oif[r.dev] ?? 0), { replace: true });
  }

  private async result(podRt: Rtnl, req: PodNetworkRequest, plan: IpvlanPlan): Promise<PodNetworkResult> {
    const podMac = (await podRt.getLink(req.ifname))?.mac ?? '';
    return { hostIfname: plan.hostVeth, podIfname: req.ifname, podMac, ip: req.ip, gateway: req.nic.gateway, netns: req.netns };
  }

  private async nicLink(rt: Rtnl, nic: HostNic): Promise<LinkInfo> {
    const mac = nic.mac.toLowerCase();
    const cached = this.nicIndex.get(mac);
    const hit = cached === undefined ? undefined : await rt.getLinkByIndex(cached);
    if (hit && hit.mac === mac && hit.kind !== 'ipvlan') return hit;
    const link = (await rt.listLinks()).find((l) => l.mac === mac && l.kind !== 'ipvlan');
    if (!link) {
      throw new VpcnetError('NETLINK', 'no interface with the NIC MAC', { details: { mac: nic.mac, deviceIndex: nic.deviceIndex } });
    }
    this.nicIndex.set(mac, link.index);
    return link;
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
    const errno = errnoOf(err);
    if (errno !== 'ENODEV' && errno !== 'ENOENT') throw err;
  }
}
