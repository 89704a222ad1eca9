// Routed datapath in the simulated VPC: two nodes, pods on primary and secondary NICs,
// real traffic through the fabric (source/destination check) and the internet namespace. Each
// test builds its own lab (fresh namespaces, pods and echo servers) and removes it, so each runs
// alone and checks itself that nothing of its lab is left.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import type { PodNetworkRequest } from '../../src/datapath/datapath.ts';
import { FROM_POD_PRIORITY } from '../../src/datapath/routed-pod.ts';
import { LinuxDatapath } from '../../src/datapath/linux-datapath.ts';
import { hostVethName } from '../../src/datapath/naming.ts';
import { MemoryMetrics } from '../../src/metrics/metrics.ts';
import { Rtnl } from '../../src/datapath/netlink/index.ts';
import { isVpcnetError } from '../../src/errors.ts';
import { INTERNET_IP, Lab } from '../../src/lab/lab.ts';
import { createScenario, MTU, podAddresses, type Scenario, type ScenarioNode } from '../../src/lab/scenario.ts';
import { dumpNs, echoFrom, requireRoot, runPrefix, type Server, startEcho } from './helpers/lab-helpers.ts';

interface Pod {
  name: string;
  node: ScenarioNode;
  ns: string;
  req: PodNetworkRequest;
}

const PORT = 7000;
// The current test's lab (set by fresh()).
let scenario: Scenario;
let prefix: string;
const servers: Server[] = [];
const pods: Pod[] = [];
let hostTablesBefore: string;
let live = false;

function pod(name: string): Pod {
  const p = pods.find((x) => x.name === name);
  if (!p) throw new Error(`no pod ${name}`);
  return p;
}

async function addPod(node: ScenarioNode, deviceIndex: number, k: number): Promise<Pod> {
  const name = `${node.name}-e${deviceIndex}-${k}`;
  const netns = scenario.lab.addPod(name);
  const ip = podAddresses(node, deviceIndex)[k];
  if (!ip) throw new Error('scenario has too few addresses');
  const nic = node.nics[deviceIndex];
  if (!nic) throw new Error('no nic');
  const req: PodNetworkRequest = { containerId: `ctr-${name}`, ifname: 'eth0', netns, ip, mode: 'routed', nic, mtu: MTU };
  await node.datapath.setupPod(req);
  const p: Pod = { name, node, ns: scenario.lab.podNs(name), req };
  pods.push(p);
  return p;
}

async function expectError(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVpcnetError(err) ? err.code : err).toBe(code);
}

/**
 * A lab of its own for the test: two nodes with their NICs; with `pods`, two pods on each NIC of
 * each node; with `echo`, an echo server in every pod, node and the internet namespace.
 */
async function fresh(opts: { pods?: boolean; echo?: boolean } = {}): Promise<void> {
  requireRoot();
  hostTablesBefore = execFileSync('nft', ['list', 'tables']).toString();
  prefix = runPrefix();
  pods.length = 0;
  servers.length = 0;
  scenario = await createScenario({ prefix, podsPerNic: 4 });
  live = true;
  if (!opts.pods) return;
  for (const node of scenario.nodes) {
    for (const dev of [0, 1]) for (const k of [0, 1]) await addPod(node, dev, k);
  }
  if (!opts.echo) return;
  for (const p of pods) servers.push(await startEcho(p.ns, PORT));
  for (const n of scenario.nodes) servers.push(await startEcho(n.ns, PORT));
  servers.push(await startEcho(scenario.lab.internetNs, PORT));
}

function destroy(): string[] {
  live = false;
  for (const s of servers.splice(0)) s.stop();
  scenario.destroy();
  return execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(prefix));
}

/** Removes the test's lab: none of its namespaces may be left. */
function finish(): void {
  expect(destroy()).toEqual([]);
}

// A failed test's lab (a passing test removed its own in finish()).
afterEach(() => {
  if (live) destroy();
});

describe('routed datapath in the lab', () => {
  it('connects pods across nodes without NAT, on primary and secondary NICs', async () => {
    await fresh({ pods: true, echo: true });
    const src = pods.filter((p) => p.node.name === 'node1' && p.name.endsWith('-0'));
    const dst = pods.filter((p) => p.node.name === 'node2' && p.name.endsWith('-0'));
    for (const a of src) {
      for (const b of dst) {
        expect(await echoFrom(a.ns, b.req.ip, PORT)).toBe(a.req.ip);
        expect(await echoFrom(b.ns, a.req.ip, PORT)).toBe(b.req.ip);
      }
    }
    finish();
  }, 120_000);

  it('connects pods on the same node and pods with their own node', async () => {
    await fresh({ pods: true, echo: true });
    const a = pod('node1-e0-0');
    const b = pod('node1-e1-1');
    expect(await echoFrom(a.ns, b.req.ip, PORT)).toBe(a.req.ip);
    const node1 = scenario.nodes[0]!;
    // pod -> own node's primary address, and node -> pod on the secondary NIC
    expect(await echoFrom(b.ns, node1.cfg.primaryIp, PORT)).toBe(b.req.ip);
    expect(await echoFrom(node1.ns, b.req.ip, PORT)).toBe(node1.cfg.primaryIp);
    finish();
  }, 60_000);

  it('does not masquerade traffic to VPC CIDRs (other node sees the pod address)', async () => {
    await fresh({ pods: true, echo: true });
    const node2 = scenario.nodes[1]!;
    for (const p of [pod('node1-e0-0'), pod('node1-e1-0')]) {
      expect(await echoFrom(p.ns, node2.cfg.primaryIp, PORT)).toBe(p.req.ip);
    }
    finish();
  }, 60_000);

  it('SNATs pod traffic to the internet to the node primary address, from both NICs', async () => {
    await fresh({ pods: true, echo: true });
    for (const p of pods) expect(await echoFrom(p.ns, INTERNET_IP, PORT)).toBe(p.node.cfg.primaryIp);
    finish();
  }, 120_000);

  it('a mis-routed pod (from rule removed) is dropped by the fabric, checkPod reports it, setup repairs it', async () => {
    await fresh({ pods: true, echo: true });
    const p = pod('node1-e1-1');
    const target = pod('node2-e0-0');
    const rule = { priority: FROM_POD_PRIORITY, table: 2, from: `${p.req.ip}/32` };
    const rtnl = Rtnl.open(p.node.netnsPath);
    try {
      await rtnl.delRule(rule);
    } finally {
      rtnl.close();
    }
    expect(await p.node.datapath.checkPod(p.req)).toEqual([{ kind: 'missing', object: `rule from ${p.req.ip} lookup 2 pref 1536` }]);
    const before = scenario.lab.fabricDrops().srcdst;
    expect(await echoFrom(p.ns, target.req.ip, PORT, 1500)).toBe('unreachable');
    expect(scenario.lab.fabricDrops().srcdst).toBeGreaterThan(before);
    await p.node.datapath.setupPod(p.req);
    expect(await p.node.datapath.checkPod(p.req)).toEqual([]);
    expect(await echoFrom(p.ns, target.req.ip, PORT)).toBe(p.req.ip);
    finish();
  }, 60_000);

  it('setupPod twice yields the same node and pod state', async () => {
    await fresh({ pods: true });
    const p = pod('node2-e1-0');
    const nodeBefore = dumpNs(scenario.lab, p.node.ns);
    const podBefore = dumpNs(scenario.lab, p.ns);
    const res = await p.node.datapath.setupPod(p.req);
    expect(res.ip).toBe(p.req.ip);
    expect(dumpNs(scenario.lab, p.node.ns)).toBe(nodeBefore);
    expect(dumpNs(scenario.lab, p.ns)).toBe(podBefore);
    finish();
  }, 60_000);

  it('teardown leaves the node namespace exactly as before the pod, and is idempotent', async () => {
    await fresh();
    const node = scenario.nodes[0]!;
    const before = dumpNs(scenario.lab, node.ns);
    const p = await addPod(node, 1, 3);
    expect(dumpNs(scenario.lab, node.ns)).not.toBe(before);
    await node.datapath.teardownPod({ containerId: p.req.containerId, ifname: 'eth0', netns: p.req.netns, ip: p.req.ip, nic: p.req.nic });
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    // again, and with the netns already gone and no IP known
    scenario.lab.removePod(p.name);
    await node.datapath.teardownPod({ containerId: p.req.containerId, ifname: 'eth0', netns: p.req.netns });
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    pods.splice(pods.indexOf(p), 1);
    finish();
  }, 60_000);

  it('teardown without the IP still removes the pod rules (found through the host route)', async () => {
    await fresh();
    const node = scenario.nodes[1]!;
    const before = dumpNs(scenario.lab, node.ns);
    const p = await addPod(node, 1, 3);
    await node.datapath.teardownPod({ containerId: p.req.containerId, ifname: 'eth0' });
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    scenario.lab.removePod(p.name);
    pods.splice(pods.indexOf(p), 1);
    finish();
  }, 60_000);

  it('teardown after the pod netns was deleted first still removes the rules', async () => {
    await fresh();
    const node = scenario.nodes[0]!;
    const before = dumpNs(scenario.lab, node.ns);
    const p = await addPod(node, 1, 3);
    scenario.lab.removePod(p.name);
    await node.datapath.teardownPod({ containerId: p.req.containerId, ifname: 'eth0', netns: p.req.netns, ip: p.req.ip });
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    pods.splice(pods.indexOf(p), 1);
    finish();
  }, 60_000);

  it('sets up and tears down pods concurrently on one node (shared netlink socket)', async () => {
    await fresh();
    const node = scenario.nodes[1]!;
    const before = dumpNs(scenario.lab, node.ns);
    const reqs: PodNetworkRequest[] = [];
    for (let k = 2; k < 4; k++) {
      for (const dev of [0, 1]) {
        const name = `conc-${dev}-${k}`;
        const ip = podAddresses(node, dev)[k];
        if (!ip) throw new Error('no address');
        reqs.push({ containerId: name, ifname: 'eth0', netns: scenario.lab.addPod(name), ip, mode: 'routed', nic: node.nics[dev]!, mtu: MTU });
      }
    }
    await Promise.all(reqs.map((r) => node.datapath.setupPod(r)));
    for (const r of reqs) expect(await node.datapath.checkPod(r)).toEqual([]);
    await Promise.all(reqs.map((r) => node.datapath.teardownPod({ containerId: r.containerId, ifname: r.ifname, ip: r.ip })));
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    for (const r of reqs) scenario.lab.removePod(r.containerId);
    finish();
  }, 60_000);

  describe('DEL answered once the pod is detached (deferVethDeletion, as the agent runs it)', () => {
    const withDeferred = async <T>(node: ScenarioNode, fn: (dp: LinuxDatapath, metrics: MemoryMetrics) => Promise<T>): Promise<T> => {
      const metrics = new MemoryMetrics();
      const dp = new LinuxDatapath({ nodeNetns: node.netnsPath, deferVethDeletion: true, metrics });
      try {
        return await fn(dp, metrics);
      } finally {
        await dp.settled();
        dp.close();
      }
    };
    const wiring = (node: ScenarioNode, ip: string): string =>
      [scenario.lab.ip(node.ns, ['route', 'show', 'table', 'all']), scenario.lab.ip(node.ns, ['rule', 'show'])].join('\n').split('\n').filter((l) => l.includes(`${ip} `) || l.endsWith(ip)).join('\n');
    const linkExists = (node: ScenarioNode, name: string): boolean => scenario.lab.ip(node.ns, ['-o', 'link', 'show']).includes(` ${name}@`);

    it('no route or rule to the pod is left when teardown returns; the veth is gone once settled; listPods never reports it', async () => {
      await fresh();
      const node = scenario.nodes[0]!;
      const before = dumpNs(scenario.lab, node.ns);
      await withDeferred(node, async (dp, metrics) => {
        const name = 'defer-a';
        const ip = podAddresses(node, 1)[3]!;
        const req: PodNetworkRequest = { containerId: name, ifname: 'eth0', netns: scenario.lab.addPod(name), ip, mode: 'routed', nic: node.nics[1]!, mtu: MTU };
        const res = await dp.setupPod(req);
        expect(wiring(node, ip)).not.toBe('');
        await dp.teardownPod({ containerId: name, ifname: 'eth0', netns: req.netns, ip, nic: req.nic });
        // still being deleted by the kernel, but detached: nothing routes the address to it
        expect(dp.pendingDeletions()).toEqual([res.hostIfname]);
        expect(metrics.get('vpcnet_datapath_pending_deletions')).toBe(1);
        expect(wiring(node, ip)).toBe('');
        expect((await dp.listPods()).map((w) => w.hostIfname)).not.toContain(res.hostIfname);
        await dp.settled();
        expect(dp.pendingDeletions()).toEqual([]);
        expect(metrics.get('vpcnet_datapath_pending_deletions')).toBe(0);
        expect(linkExists(node, res.hostIfname)).toBe(false);
        scenario.lab.removePod(name);
      });
      expect(dumpNs(scenario.lab, node.ns)).toBe(before);
      finish();
    }, 60_000);

    it('an ADD of the same attachment right after its DEL waits for the old veth and wires a working pod', async () => {
      await fresh();
      const node = scenario.nodes[0]!;
      await withDeferred(node, async (dp) => {
        const name = 'defer-b';
        const ip = podAddresses(node, 0)[3]!;
        const req: PodNetworkRequest = { containerId: name, ifname: 'eth0', netns: scenario.lab.addPod(name), ip, mode: 'routed', nic: node.nics[0]!, mtu: MTU };
        const first = await dp.setupPod(req);
        const oldIndex = (await dp.node().getLink(first.hostIfname))!.index;
        await dp.teardownPod({ containerId: name, ifname: 'eth0', netns: req.netns, ip, nic: req.nic });
        expect(dp.pendingDeletions()).toEqual([first.hostIfname]);
        const again = await dp.setupPod(req);
        expect(again.hostIfname).toBe(first.hostIfname);
        expect((await dp.node().getLink(again.hostIfname))!.index).not.toBe(oldIndex);
        expect(await dp.checkPod(req)).toEqual([]);
        await dp.teardownPod({ containerId: name, ifname: 'eth0', netns: req.netns, ip, nic: req.nic });
        scenario.lab.removePod(name);
      });
      finish();
    }, 60_000);

    it("the address of a pending deletion is wired to another pod only once the old veth is gone", async () => {
      await fresh();
      const node = scenario.nodes[0]!;
      await withDeferred(node, async (dp) => {
        const ip = podAddresses(node, 1)[3]!;
        const reqOf = (name: string): PodNetworkRequest => ({ containerId: name, ifname: 'eth0', netns: scenario.lab.addPod(name), ip, mode: 'routed', nic: node.nics[1]!, mtu: MTU });
        const a = reqOf('defer-c');
        await dp.setupPod(a);
        await dp.teardownPod({ containerId: a.containerId, ifname: 'eth0', ip, nic: a.nic });
        const oldVeth = hostVethName(a.containerId, 'eth0');
        expect(dp.pendingDeletions()).toEqual([oldVeth]);
        const b = reqOf('defer-d');
        await dp.setupPod(b);
        expect(linkExists(node, oldVeth)).toBe(false);
        expect(await dp.checkPod(b)).toEqual([]);
        await dp.teardownPod({ containerId: b.containerId, ifname: 'eth0', ip, nic: b.nic });
        for (const n of ['defer-c', 'defer-d']) scenario.lab.removePod(n);
      });
      finish();
    }, 60_000);
  });

  it('listPods reports every wired pod and rules left without a pod', async () => {
    await fresh({ pods: true });
    const node = scenario.nodes[1]!;
    const mine = pods.filter((p) => p.node === node);
    const listed = await node.datapath.listPods();
    for (const p of mine) {
      const entry = listed.find((w) => w.ips.includes(p.req.ip));
      expect(entry?.hostIfname).toMatch(/^eni[0-9a-f]{11}$/);
    }
    expect(listed.filter((w) => !w.hostIfname)).toEqual([]);
    scenario.lab.ip(node.ns, ['rule', 'add', 'to', '10.0.1.250', 'lookup', 'main', 'pref', '512']);
    expect((await node.datapath.listPods()).filter((w) => !w.hostIfname)).toEqual([{ ips: ['10.0.1.250'] }]);
    await node.datapath.teardownPod({ containerId: 'leaked', ifname: 'eth0', ip: '10.0.1.250' });
    expect((await node.datapath.listPods()).filter((w) => !w.hostIfname)).toEqual([]);
    finish();
  }, 30_000);

  it('checkPod reports drift precisely', async () => {
    await fresh({ pods: true });
    const p = pod('node2-e0-1');
    expect(await p.node.datapath.checkPod(p.req)).toEqual([]);
    const hostIfname = (await p.node.datapath.setupPod(p.req)).hostIfname;
    scenario.lab.ip(p.node.ns, ['route', 'del', p.req.ip]);
    scenario.lab.ip(p.ns, ['neigh', 'replace', '169.254.1.1', 'lladdr', '02:11:22:33:44:55', 'dev', 'eth0', 'nud', 'permanent']);
    scenario.lab.ip(p.node.ns, ['link', 'set', hostIfname, 'down']);
    const drift = await p.node.datapath.checkPod(p.req);
    expect(drift).toEqual(
      expect.arrayContaining([
        { kind: 'mismatch', object: `link ${hostIfname}`, expected: 'up', actual: 'down' },
        { kind: 'missing', object: `route ${p.req.ip} dev ${hostIfname} scope link` },
        expect.objectContaining({ kind: 'mismatch', object: 'pod neigh 169.254.1.1', actual: '02:11:22:33:44:55' }),
      ]),
    );
    expect(drift).toHaveLength(3);
    await p.node.datapath.setupPod(p.req);
    expect(await p.node.datapath.checkPod(p.req)).toEqual([]);
    // An unexpected rule: the pod's address is claimed by the secondary NIC's table.
    scenario.lab.ip(p.node.ns, ['rule', 'add', 'from', p.req.ip, 'lookup', '2', 'pref', '1536']);
    expect(await p.node.datapath.checkPod(p.req)).toEqual([{ kind: 'unexpected', object: `rule from ${p.req.ip} lookup 2 pref 1536` }]);
    await p.node.datapath.setupPod(p.req);
    expect(await p.node.datapath.checkPod(p.req)).toEqual([]);
    finish();
  }, 60_000);

  it('a failed setup (ifname taken in the pod) leaves the node unchanged and reports EEXIST', async () => {
    await fresh();
    const node = scenario.nodes[0]!;
    const before = dumpNs(scenario.lab, node.ns);
    const netns = scenario.lab.addPod('taken');
    scenario.lab.ip(scenario.lab.podNs('taken'), ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other']);
    const ip = podAddresses(node, 0)[3]!;
    const err = await node.datapath
      .setupPod({ containerId: 'taken', ifname: 'eth0', netns, ip, mode: 'routed', nic: node.nics[0]!, mtu: MTU })
      .catch((e: unknown) => e);
    expect(isVpcnetError(err, 'NETLINK') && err.details.errno).toBe('EEXIST');
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    scenario.lab.removePod('taken');
    finish();
  }, 30_000);

  it('rejects hostile netns paths and interface names, changing nothing', async () => {
    await fresh({ pods: true });
    const node = scenario.nodes[0]!;
    const base = pod('node1-e0-0').req;
    const before = dumpNs(scenario.lab, node.ns);
    const notNs = `/var/run/netns/${prefix}-notns`;
    writeFileSync(notNs, '');
    try {
      for (const netns of ['/var/run/netns/../../etc/hostname', '/etc/hostname', 'relative/ns', '/proc/self/ns/net', '/var/run/netns/', notNs, `/var/run/netns/${prefix}-absent`]) {
        await expectError(node.datapath.setupPod({ ...base, containerId: 'bad', netns }), 'NETNS_INVALID');
      }
      for (const ifname of ['', 'eth0/x', 'a'.repeat(16), 'eth 0', 'eth0:1', '..', 'e\nx']) {
        await expectError(node.datapath.setupPod({ ...base, containerId: 'bad', ifname }), 'IFNAME_INVALID');
        await expectError(node.datapath.teardownPod({ containerId: 'bad', ifname }), 'IFNAME_INVALID');
      }
    } finally {
      rmSync(notNs, { force: true });
    }
    expect(dumpNs(scenario.lab, node.ns)).toBe(before);
    finish();
  }, 60_000);

  it('external SNAT (masquerade off) sends pod traffic with its own address; the internet drops it', async () => {
    await fresh({ pods: true, echo: true });
    const node = scenario.nodes[0]!;
    const p = pod('node1-e0-0');
    // Traffic first, so that the gateway's neighbour entry is part of the state compared below.
    expect(await echoFrom(p.ns, INTERNET_IP, PORT)).toBe(node.cfg.primaryIp);
    const on = dumpNs(scenario.lab, node.ns);
    await node.datapath.setupNode({ ...node.cfg, masquerade: { ...node.cfg.masquerade, enabled: false } });
    expect(scenario.lab.execSync(node.ns, 'nft', ['list', 'ruleset'])).not.toContain('vpcnet');
    const igw = scenario.lab.fabricDrops().igw;
    expect(await echoFrom(p.ns, INTERNET_IP, PORT, 1500)).toBe('unreachable');
    expect(scenario.lab.fabricDrops().igw).toBeGreaterThan(igw);
    await node.datapath.setupNode(node.cfg);
    await node.datapath.setupNode(node.cfg);
    expect(dumpNs(scenario.lab, node.ns)).toBe(on);
    expect(await echoFrom(p.ns, INTERNET_IP, PORT)).toBe(node.cfg.primaryIp);
    finish();
  }, 60_000);

  it('masquerades link-local only when asked', async () => {
    await fresh();
    const node = scenario.nodes[1]!;
    await node.datapath.setupNode({ ...node.cfg, masquerade: { ...node.cfg.masquerade, masqueradeLinkLocal: true } });
    expect(scenario.lab.execSync(node.ns, 'nft', ['list', 'set', 'ip', 'vpcnet', 'nonmasq'])).not.toContain('169.254.0.0/16');
    await node.datapath.setupNode(node.cfg);
    expect(scenario.lab.execSync(node.ns, 'nft', ['list', 'set', 'ip', 'vpcnet', 'nonmasq'])).toContain('169.254.0.0/16');
    finish();
  }, 30_000);

  it('teardownNode removes the masquerade table and fwmark rule; nothing reached the host namespace', async () => {
    await fresh();
    const node = scenario.nodes[1]!;
    await node.datapath.teardownNode();
    expect(scenario.lab.execSync(node.ns, 'nft', ['list', 'ruleset'])).toBe('');
    expect(scenario.lab.execSync(node.ns, 'ip', ['rule', 'show'])).not.toContain('fwmark');
    expect(execFileSync('nft', ['list', 'tables']).toString()).toBe(hostTablesBefore);
    expect(execFileSync('ip', ['link', 'show']).toString()).not.toMatch(/\beni[0-9a-f]{11}\b|\bf\de\d\b/);
    await node.datapath.setupNode(node.cfg);
    finish();
  }, 30_000);

  it('the fabric routes an address only while the cloud state says a NIC owns it', async () => {
    await fresh({ pods: true });
    const node = scenario.nodes[1]!;
    const from = pod('node1-e0-0');
    const extra = '10.0.2.99';
    const name = 'late';
    const req: PodNetworkRequest = { containerId: name, ifname: 'eth0', netns: scenario.lab.addPod(name), ip: extra, mode: 'routed', nic: node.nics[1]!, mtu: MTU };
    await node.datapath.setupPod(req);
    servers.push(await startEcho(scenario.lab.podNs(name), PORT));
    // Wired on the node but not assigned in the cloud: replies leave from an unowned address.
    expect(await echoFrom(from.ns, extra, PORT, 1500)).toBe('unreachable');
    node.blocks.get(1)!.push(`${extra}/32`);
    await scenario.syncFabric();
    expect(await echoFrom(from.ns, extra, PORT)).toBe(from.req.ip);
    node.blocks.set(1, node.blocks.get(1)!.filter((b) => b !== `${extra}/32`));
    await scenario.syncFabric();
    expect(await echoFrom(from.ns, extra, PORT, 1500)).toBe('unreachable');
    finish();
  }, 60_000);

  it('setupNic configures a newly attached NIC idempotently and teardownNic undoes it', async () => {
    await fresh();
    const node = scenario.nodes[0]!;
    const nic = { deviceIndex: 2, mac: '02:00:00:00:01:02', primaryIp: '10.0.2.50', subnetCidr: '10.0.2.0/24', gateway: '10.0.2.1', mtu: MTU };
    scenario.lab.attachNic(node.name, { ...nic });
    const before = dumpNs(scenario.lab, node.ns);
    await node.datapath.setupNic(nic);
    const once = dumpNs(scenario.lab, node.ns);
    expect(once).toContain('default via 10.0.2.1 dev eth2 table 3 onlink');
    expect(once).toMatch(/inet 10\.0\.2\.50\/24 scope global noprefixroute eth2/);
    await node.datapath.setupNic(nic);
    expect(dumpNs(scenario.lab, node.ns)).toBe(once);
    await node.datapath.teardownNic(nic);
    // The kernel attaches the default qdisc on first up and keeps it: the one lasting trace.
    expect(dumpNs(scenario.lab, node.ns)).toBe(before.replace(/(eth2@if\d+: <[^>]*> mtu \d+ qdisc) noop/g, '$1 noqueue'));
    scenario.lab.detachNic(node.name, nic.mac);
    finish();
  }, 60_000);

  it('cleanupStale removes leftover namespaces of exactly one run prefix', () => {
    requireRoot();
    const own = runPrefix();
    const stale = Lab.create({ prefix: `${own}xy` });
    stale.addPod('left');
    // a shorter prefix names another run: nothing of this one is touched
    expect(Lab.cleanupStale(`${own}x`)).toEqual([]);
    const gone = Lab.cleanupStale(`${own}xy-`);
    expect(gone.sort()).toEqual([`${own}xy-fabric`, `${own}xy-inet`, `${own}xy-p-left`].sort());
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(own);
  });
});
