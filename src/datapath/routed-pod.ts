// Routed mode, one pod (AWS VPC CNI layout):
//   pod:  IP/32 on ifname; 169.254.1.1 dev ifname scope link; default via 169.254.1.1;
//         neighbour 169.254.1.1 -> host veth MAC (permanent)
//   host: veth up; podIP dev eniX scope link (main); rule to podIP lookup main pref 512;
//         secondary NIC: rule from podIP lookup <deviceIndex+1> pref 1536
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { VpcnetError } from '../errors.ts';
import type { Drift, PodNetworkRequest, PodNetworkResult, PodTeardownRequest, WiredPod } from './datapath.ts';
import { errnoOf, Rtnl, type BatchOp } from './netlink/rtnl.ts';
import { openNetnsFd } from './netlink/netns.ts';
import type { LinkInfo, RouteInfo, RuleSpec } from './netlink/types.ts';
import { hostVethName, isHostVethName, nicTable } from './naming.ts';

export const POD_GATEWAY = '169.254.1.1';
export const TO_POD_PRIORITY = 512;
export const FROM_POD_PRIORITY = 1536;
const MAIN = 254;

/** Runs fn and ignores "already there"/"already gone" answers. */
async function tolerate(errnos: string[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!errnos.includes(errnoOf(err) ?? '')) throw err;
  }
}

export function expectedRules(ip: string, deviceIndex: number): RuleSpec[] {
  const rules: RuleSpec[] = [{ priority: TO_POD_PRIORITY, table: MAIN, to: `${ip}/32` }];
  if (deviceIndex !== 0) rules.push({ priority: FROM_POD_PRIORITY, table: nicTable(deviceIndex), from: `${ip}/32` });
  return rules;
}

/** Rules that vpcnet owns for `ip` (its `to` rule at 512, its `from` rule at 1536). */
function ownedRules(rules: RuleSpec[], ip: string): RuleSpec[] {
  const host = `${ip}/32`;
  return rules.filter(
    (r) => (r.priority === TO_POD_PRIORITY && r.to === host && !r.from) || (r.priority === FROM_POD_PRIORITY && r.from === host && !r.to),
  );
}

function sameRule(a: RuleSpec, b: RuleSpec): boolean {
  return a.priority === b.priority && a.table === b.table && a.from === b.from && a.to === b.to;
}

export function ruleText(r: RuleSpec): string {
  return `rule ${r.from ? `from ${r.from.replace(/\/32$/, '')}` : 'from all'}${r.to ? ` to ${r.to.replace(/\/32$/, '')}` : ''} lookup ${r.table === MAIN ? 'main' : r.table} pref ${r.priority}`;
}

/** Finds ifname in the pod and checks it is the peer of `host`. */
async function podPeer(pod: Rtnl, ifname: string, host: LinkInfo): Promise<LinkInfo | undefined> {
  const l = await pod.getLink(ifname);
  return l && l.peerIndex === host.index && host.peerIndex === l.index ? l : undefined;
}

export async function setupRoutedPod(node: Rtnl, req: PodNetworkRequest): Promise<PodNetworkResult> {
  const hostName = hostVethName(req.containerId, req.ifname);
  const fd = req.netnsFd ?? openNetnsFd(req.netns);
  let pod: Rtnl | undefined;
  let created: LinkInfo | undefined;
  try {
    pod = Rtnl.openFd(fd, req.netns);
    // The pod end's MAC is chosen here (random, locally administered, as the kernel would), so
    // a new pair's pod end need not be read back: its index is the host end's peer index.
    const veth = { name: hostName, peerName: req.ifname, peerNetnsFd: fd, mtu: req.mtu, up: true, peerMac: randomMac() };
    let host: LinkInfo | undefined;
    let podLink: LinkInfo | undefined;
    // A new pod (the common case) is one request: the pair is made up, with its MTU. Only a
    // name that exists already (a repeat, a repair, a leftover) reads what is there.
    let echoed: LinkInfo | undefined;
    let made = await node.createVeth(veth).then(
      (link) => {
        echoed = link;
        return true;
      },
      (err: unknown) => {
        if (errnoOf(err) !== 'EEXIST') throw err;
        return false;
      },
    );
    if (!made) {
      host = await node.getLink(hostName);
      podLink = host ? await podPeer(pod, req.ifname, host) : undefined;
      if (host && !podLink) {
        // A leftover from an earlier sandbox (or a half-made pair): start over.
        await tolerate(['ENODEV'], () => node.deleteLink(host!.index));
        host = undefined;
      }
      if (!host) {
        echoed = await node.createVeth(veth);
        made = true;
      }
    }
    if (made) {
      // the kernel's echo of the new host end (index, MAC, peer index), else read back
      host = echoed?.peerIndex !== undefined ? echoed : await node.getLink(hostName);
      if (!host) throw new VpcnetError('NETLINK', 'host veth vanished after creation', { details: { hostIfname: hostName } });
      created = host;
      podLink = host.peerIndex !== undefined ? { index: host.peerIndex, name: req.ifname, mac: veth.peerMac, mtu: req.mtu, up: false } : await pod.getLink(req.ifname);
    }
    if (!host) throw new VpcnetError('NETLINK', 'host veth not found', { details: { hostIfname: hostName } });
    if (!podLink) throw new VpcnetError('NETLINK', 'pod side of the veth not found', { details: { ifname: req.ifname, netns: req.netns } });

    if (host.mtu !== req.mtu) await node.setLink(host.index, { mtu: req.mtu });
    if (podLink.mtu !== req.mtu) await pod.setLink(podLink.index, { mtu: req.mtu });
    if (!host.up) await node.setLink(host.index, { up: true });

    // The pod side in one round trip: up, address, gateway route, default route (after the
    // gateway route: the kernel runs a batch in order), gateway neighbour.
    const podOps: BatchOp[] = [
      ...(podLink.up ? [] : [{ op: 'link.up' as const, index: podLink.index }]),
      { op: 'addr.replace', spec: { ifindex: podLink.index, ip: req.ip, prefixLen: 32 } },
      { op: 'route.replace', spec: { dst: POD_GATEWAY, oif: podLink.index, scope: 'link' } },
      { op: 'route.replace', spec: { dst: 'default', gateway: POD_GATEWAY, oif: podLink.index } },
      { op: 'neigh.replace', spec: { ifindex: podLink.index, ip: POD_GATEWAY, mac: host.mac } },
    ];
    expectDone(podOps, await pod.batch(podOps), req.netns);

    const want = expectedRules(req.ip, req.nic.deviceIndex);
    const hostRoute: BatchOp = { op: 'route.replace', spec: { dst: req.ip, oif: host.index, scope: 'link' } };
    if (created) {
      // A new pod: one round trip for the host route and the rules, with a targeted delete of a
      // "from" rule (a reused address may still have one of another NIC after a crash) before
      // them; never a dump of every rule of the node (that cost grew with the pods there).
      const ops: BatchOp[] = [hostRoute, { op: 'rule.del', spec: fromRuleOfAnyTable(req.ip) }, ...want.map((r) => ({ op: 'rule.add' as const, spec: r }))];
      const [routed, staleFrom, ...added] = await node.batch(ops);
      expectDone([hostRoute], [routed], undefined);
      if (staleFrom === undefined) {
        // There was one (rare): remove any others too (this also takes the one just added), then add again.
        await delFromRules(node, req.ip);
        for (const r of want) await tolerate(['EEXIST'], () => node.addRule(r));
      } else {
        expectDone([ops[1]!], [staleFrom === 'ENOENT' ? undefined : staleFrom], undefined);
        expectDone(ops.slice(2), added.map((e) => (e === 'EEXIST' ? undefined : e)), undefined);
      }
    } else {
      // A repeat or a repair (rare): compare exactly, keeping the rules that are right.
      await node.addRoute(hostRoute.spec, { replace: true });
      for (const stale of ownedRules(await node.listRules(), req.ip).filter((r) => !want.some((w) => sameRule(w, r)))) {
        await tolerate(['ENOENT'], () => node.delRule(stale));
      }
      for (const r of want) await tolerate(['EEXIST'], () => node.addRule(r));
    }

    return { hostIfname: hostName, podIfname: req.ifname, podMac: podLink.mac, ip: req.ip, gateway: POD_GATEWAY, netns: req.netns };
  } catch (err) {
    // Undo: the veth takes the pod side, its addresses and the host route with it.
    if (created) {
      const idx = created.index;
      await tolerate(['ENODEV'], () => node.deleteLink(idx)).catch(() => undefined);
      for (const r of expectedRules(req.ip, req.nic.deviceIndex)) await tolerate(['ENOENT'], () => node.delRule(r)).catch(() => undefined);
    }
    throw err;
  } finally {
    pod?.close();
    if (req.netnsFd === undefined) closeSync(fd);
  }
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** "from <ip> pref 1536" without a table: a deletion matches the rule of any table. */
function fromRuleOfAnyTable(ip: string): RuleSpec {
  return { priority: FROM_POD_PRIORITY, table: 0, from: `${ip}/32` };
}

/** Throws for the first change of a batch the kernel refused. */
function expectDone(ops: BatchOp[], errnos: Array<string | undefined>, netns: string | undefined): void {
  const i = errnos.findIndex((e) => e !== undefined);
  if (i < 0) return;
  const o = ops[i]!;
  throw new VpcnetError('NETLINK', `netlink ${o.op} failed: ${errnos[i]}`, { details: { op: o.op, errno: errnos[i], ...('spec' in o ? { spec: o.spec } : { index: o.index }), netns } });
}

/** Deletes every vpcnet "from <ip>" rule (pref 1536) whatever its table, one call per rule. */
async function delFromRules(node: Rtnl, ip: string): Promise<void> {
  for (let i = 0; i < 8; i++) {
    try {
      await node.delRule(fromRuleOfAnyTable(ip));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw err;
    }
  }
}

/**
 * Hands the deletion of a detached host veth to the caller, who answers without waiting for
 * it (LinuxDatapath's pending deletions). `ips` were routed through it.
 */
export type DeferUnlink = (hostIfname: string, index: number, ips: string[]) => void;

export async function teardownRoutedPod(node: Rtnl, req: PodTeardownRequest, deferUnlink?: DeferUnlink): Promise<void> {
  const hostName = req.hostIfname ?? hostVethName(req.containerId, req.ifname);
  const ips = new Set<string>(req.ip ? [req.ip] : []);
  const host = await node.getLink(hostName);
  if (host && !req.ip) {
    // Only a leak clean-up (no address known) reads the routes: the others delete by name.
    for (const r of await node.listRoutes(MAIN)) {
      if (r.oif === host.index && r.dst.endsWith('/32')) ips.add(r.dst.slice(0, -3));
    }
  }
  // Unroute first (fast): from here nothing on the node leads to the pod. One round trip per
  // address (host route, "to" rule, a "from" rule of any table); more "from" rules (rare) after.
  for (const ip of ips) {
    const ops: BatchOp[] = [
      ...(host ? [{ op: 'route.del' as const, spec: { dst: ip, oif: host.index, scope: 'link' as const } }] : []),
      { op: 'rule.del', spec: { priority: TO_POD_PRIORITY, table: MAIN, to: `${ip}/32` } },
      { op: 'rule.del', spec: fromRuleOfAnyTable(ip) },
    ];
    const errnos = await node.batch(ops);
    const fromGone = errnos[errnos.length - 1] === undefined;
    expectDone(ops, errnos.map((e) => (e === 'ENOENT' || e === 'ESRCH' ? undefined : e)), undefined);
    if (fromGone) await delFromRules(node, ip);
  }
  const released = req.unrouted?.();
  if (host && deferUnlink) {
    // The kernel's ~20 ms for the veth are not part of the answer (docs/datapath.md, DEL).
    deferUnlink(hostName, host.index, [...ips]);
    await released;
    return;
  }
  // The kernel's ~20 ms for the veth run on the thread pool while the release commits.
  const unlink = host ? tolerate(['ENODEV'], () => node.deleteLinkOffThread(host.index)) : Promise.resolve();
  await Promise.all([unlink, released]);
}

export async function checkRoutedPod(node: Rtnl, req: PodNetworkRequest): Promise<Drift[]> {
  const drift: Drift[] = [];
  const hostName = hostVethName(req.containerId, req.ifname);
  const host = await node.getLink(hostName);
  if (!host) drift.push({ kind: 'missing', object: `link ${hostName}` });
  else if (!host.up) drift.push({ kind: 'mismatch', object: `link ${hostName}`, expected: 'up', actual: 'down' });

  const hostRoute = (await node.listRoutes(MAIN)).find((r) => r.dst === `${req.ip}/32`);
  const routeObj = `route ${req.ip} dev ${hostName} scope link`;
  if (!hostRoute) drift.push({ kind: 'missing', object: routeObj });
  else if (!host || hostRoute.oif !== host.index || hostRoute.gateway) {
    drift.push({ kind: 'mismatch', object: routeObj, expected: `dev ${hostName}`, actual: describeRoute(hostRoute) });
  }

  const want = expectedRules(req.ip, req.nic.deviceIndex);
  const have = ownedRules(await node.listRules(), req.ip);
  for (const w of want) if (!have.some((h) => sameRule(h, w))) drift.push({ kind: 'missing', object: ruleText(w) });
  for (const h of have) if (!want.some((w) => sameRule(h, w))) drift.push({ kind: 'unexpected', object: ruleText(h) });

  drift.push(...(await checkPodSide(req, host)));
  return drift;
}

function describeRoute(r: RouteInfo): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.oif !== undefined ? ` oif ${r.oif}` : ''} scope ${r.scope}`;
}

async function checkPodSide(req: PodNetworkRequest, host: LinkInfo | undefined): Promise<Drift[]> {
  const drift: Drift[] = [];
  let pod: Rtnl;
  try {
    pod = req.netnsFd !== undefined ? Rtnl.openFd(req.netnsFd, req.netns) : Rtnl.open(req.netns);
  } catch {
    return [{ kind: 'missing', object: `netns ${req.netns}` }];
  }
  try {
    const link = await pod.getLink(req.ifname);
    if (!link) return [{ kind: 'missing', object: `pod link ${req.ifname}` }];
    if (host && (link.peerIndex !== host.index || host.peerIndex !== link.index)) {
      drift.push({ kind: 'mismatch', object: `pod link ${req.ifname}`, expected: `peer of ${host.name}`, actual: `peer ifindex ${link.peerIndex}` });
    }
    if (!link.up) drift.push({ kind: 'mismatch', object: `pod link ${req.ifname}`, expected: 'up', actual: 'down' });
    if (link.mtu !== req.mtu) drift.push({ kind: 'mismatch', object: `pod link ${req.ifname} mtu`, expected: String(req.mtu), actual: String(link.mtu) });
    const addrs = await pod.listAddrs(link.index);
    if (!addrs.some((a) => a.ip === req.ip && a.prefixLen === 32)) {
      drift.push({ kind: 'missing', object: `pod addr ${req.ip}/32 dev ${req.ifname}`, actual: addrs.map((a) => `${a.ip}/${a.prefixLen}`).join(' ') || 'none' });
    }
    const routes = await pod.listRoutes(MAIN);
    if (!routes.some((r) => r.dst === `${POD_GATEWAY}/32` && r.oif === link.index && r.scope === 'link')) {
      drift.push({ kind: 'missing', object: `pod route ${POD_GATEWAY} dev ${req.ifname} scope link` });
    }
    const def = routes.find((r) => r.dst === 'default');
    if (!def) drift.push({ kind: 'missing', object: `pod route default via ${POD_GATEWAY}` });
    else if (def.gateway !== POD_GATEWAY || def.oif !== link.index) {
      drift.push({ kind: 'mismatch', object: 'pod route default', expected: `via ${POD_GATEWAY} dev ${req.ifname}`, actual: describeRoute(def) });
    }
    const neigh = (await pod.listNeighs(link.index)).find((n) => n.ip === POD_GATEWAY);
    const want = host?.mac;
    if (!neigh || !neigh.permanent) drift.push({ kind: 'missing', object: `pod neigh ${POD_GATEWAY} lladdr ${want ?? '?'} permanent` });
    else if (want && neigh.mac !== want) drift.push({ kind: 'mismatch', object: `pod neigh ${POD_GATEWAY}`, expected: want, actual: neigh.mac });
  } finally {
    pod.close();
  }
  return drift;
}

/** Host veths named like ours with the /32 routes through them, plus rules whose address has none. */
export async function listRoutedPods(node: Rtnl): Promise<WiredPod[]> {
  const links = (await node.listLinks()).filter((l) => l.kind === 'veth' && isHostVethName(l.name));
  const routes = await node.listRoutes(MAIN);
  const out: WiredPod[] = [];
  const seen = new Set<string>();
  for (const l of links) {
    const ips = routes.filter((r) => r.oif === l.index && r.dst.endsWith('/32')).map((r) => r.dst.slice(0, -3));
    ips.forEach((ip) => seen.add(ip));
    out.push({ hostIfname: l.name, ips });
  }
  const orphans = new Set<string>();
  for (const r of await node.listRules()) {
    const host = r.priority === TO_POD_PRIORITY ? r.to : r.priority === FROM_POD_PRIORITY ? r.from : undefined;
    if (host?.endsWith('/32') && !seen.has(host.slice(0, -3))) orphans.add(host.slice(0, -3));
  }
  for (const ip of orphans) out.push({ ips: [ip] });
  return out;
}
