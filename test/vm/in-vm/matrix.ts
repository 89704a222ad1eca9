// The ipvlan connectivity matrix, run as root inside the test VM (test/vm/init.sh starts it).
// Each case prints `VPCNET-RESULT {"name","ok","detail"}`; the figures print as
// `VPCNET-FIGURES {...}`. Pods are wired by the real LinuxDatapath in ipvlan mode, and its
// masquerade table does the SNAT.
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import type { HostNic, NodeNetConfig, PodNetworkRequest } from '../../../src/datapath/datapath.ts';
import { IpvlanWiring } from '../../../src/datapath/ipvlan.ts';
import { LinuxDatapath } from '../../../src/datapath/linux-datapath.ts';
import { hostVethName } from '../../../src/datapath/naming.ts';
import { inNetns } from '../../../src/datapath/netlink/index.ts';
import { INET_IP, Lab, VPC_CIDR, inNs, ipn, sh, type LabNode } from './lab.ts';

const PORT = 7000;
const execFileAsync = promisify(execFile);
let failures = 0;

function report(name: string, ok: boolean, detail?: unknown): void {
  if (!ok) failures++;
  console.log(`VPCNET-RESULT ${JSON.stringify({ name, ok, ...(detail === undefined ? {} : { detail }) })}`);
}

async function check(name: string, fn: () => Promise<unknown> | unknown): Promise<void> {
  try {
    const detail = await fn();
    report(name, detail === undefined || detail === true, detail === true ? undefined : detail);
  } catch (err) {
    report(name, false, err instanceof Error ? `${err.message} ${JSON.stringify((err as { details?: unknown }).details ?? {})}` : String(err));
  }
}

/** A TCP server inside `nsPath` that answers each connection with the peer address it sees. */
function whoamiServer(nsPath: string): Server {
  const srv = createServer((c) => c.end(`${(c.remoteAddress ?? '').replace(/^::ffff:/, '')}\n`));
  // listen(port) without a host binds synchronously, so the socket is born inside the netns.
  inNetns(nsPath, () => srv.listen(PORT));
  return srv;
}

/** Source address the server at `ip` saw for a connection from namespace `ns` (async: the servers live in this process). */
async function seenFrom(ns: string, ip: string): Promise<string> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, 'nc', '-w', '3', ip, String(PORT)], { timeout: 10_000 });
  return stdout.trim();
}

/** Lines present in only one of two snapshots. */
function diff(a: string, b: string): { gone: string[]; added: string[] } {
  const la = new Set(a.split('\n'));
  const lb = new Set(b.split('\n'));
  return { gone: [...la].filter((l) => !lb.has(l)), added: [...lb].filter((l) => !la.has(l)) };
}

async function expectSeen(ns: string, ip: string, want: string): Promise<true | string> {
  const seen = await seenFrom(ns, ip);
  return seen === want ? true : `server saw ${seen}, expected ${want}`;
}

function ping(ns: string, ip: string): boolean {
  try {
    inNs(ns, 'ping', ['-c', '1', '-W', '3', ip]);
    return true;
  } catch {
    return false;
  }
}

function nicOf(n: LabNode): HostNic {
  return { deviceIndex: 0, mac: n.mac, primaryIp: n.primaryIp, subnetCidr: n.subnetCidr, gateway: n.gateway, mtu: 1500 };
}

function nodeConfig(n: LabNode): NodeNetConfig {
  return {
    primaryIp: n.primaryIp,
    primaryMac: n.mac,
    vpcCidrs: [VPC_CIDR],
    masquerade: { enabled: true, nonMasqueradeCidrs: [VPC_CIDR], masqueradeLinkLocal: false, randomFully: false },
    mtu: 1500,
    serviceCidr: '172.20.0.0/16',
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const lab = new Lab();
  const servers: Server[] = [];
  const datapaths: { close(): void }[] = [];
  const figures: Record<string, number> = {};
  try {
    lab.build();
    const [n1, n2] = lab.nodes as [LabNode, LabNode];
    const dp = new Map<LabNode, LinuxDatapath>();
    for (const n of lab.nodes) {
      // The shared LinuxDatapath owns node setup (forwarding, the vpcnet masquerade table);
      // ipvlan mode plugs in as its per-pod wiring.
      const cfg = nodeConfig(n);
      const wiring = new IpvlanWiring({ nodeNetns: lab.nsPath(n.ns), node: cfg });
      const d = new LinuxDatapath({ nodeNetns: lab.nsPath(n.ns), modes: { ipvlan: wiring } });
      await d.setupNode(cfg);
      await d.setupNic(nicOf(n));
      dp.set(n, d);
      datapaths.push(d);
    }
    await dp.get(n1)?.setupNic({ deviceIndex: 1, mac: lab.nic2.mac, primaryIp: lab.nic2.primaryIp, subnetCidr: lab.nic2.subnetCidr, gateway: lab.nic2.gateway, mtu: 1500 });
    const before = new Map(lab.nodes.map((n) => [n, lab.snapshot(n.ns)]));
    const dpOf = (n: LabNode): LinuxDatapath => dp.get(n) as LinuxDatapath;

    const pod = (name: string, n: LabNode, ip: string): PodNetworkRequest => ({
      containerId: `${lab.prefix}-${name}`, ifname: 'eth0', netns: lab.addNs(`${lab.prefix}-${name}`), ip, mode: 'ipvlan', nic: nicOf(n), mtu: 1500,
    });
    const a1 = pod('a1', n1, '10.0.1.10');
    const a2 = pod('a2', n1, '10.0.1.11');
    const b1 = pod('b1', n2, '10.0.2.10');
    const x = lab.nic2;
    const nic2: HostNic = { deviceIndex: 1, mac: x.mac, primaryIp: x.primaryIp, subnetCidr: x.subnetCidr, gateway: x.gateway, mtu: 1500 };
    const c1 = { ...pod('c1', n1, '10.0.3.10'), nic: nic2 };
    const pods: [PodNetworkRequest, LabNode][] = [[a1, n1], [a2, n1], [b1, n2], [c1, n1]];
    const firstPodsMs: number[] = [];
    for (const [p, n] of pods) {
      await check(`setupPod ${p.containerId.slice(-2)} (${p.ip} on ${n.name}, NIC ${p.nic.deviceIndex})`, async () => {
        const s = performance.now();
        const res = await dpOf(n).setupPod(p);
        firstPodsMs.push(performance.now() - s);
        return res.podMac === p.nic.mac && res.hostIfname === hostVethName(p.containerId, 'eth0') ? true : res;
      });
    }
    await check('checkPod reports no drift after setup', async () => {
      const drift = (await Promise.all(pods.map(([p, n]) => dpOf(n).checkPod(p)))).flat();
      return drift.length === 0 ? true : drift;
    });
    await check('pod side: ipvlan L2 child of the node NIC carries the VPC address', () => {
      const link = ipn(lab.nodes.length ? `${lab.prefix}-a1` : '', '-d', 'link', 'show', 'eth0');
      const addr = ipn(`${lab.prefix}-a1`, '-o', 'addr', 'show', 'eth0');
      return /ipvlan\s+mode l2/.test(link) && addr.includes('10.0.1.10/24') ? true : { link, addr };
    });
    await check('setupPod is idempotent (same result, nothing added)', async () => {
      const snap = lab.snapshot(n1.ns) + lab.snapshot(`${lab.prefix}-a1`);
      await dpOf(n1).setupPod(a1);
      const again = lab.snapshot(n1.ns) + lab.snapshot(`${lab.prefix}-a1`);
      return snap === again ? true : diff(snap, again);
    });

    for (const ns of [b1.netns, a2.netns, c1.netns, lab.nsPath(n1.ns), lab.nsPath(n2.ns), lab.nsPath(lab.inet)]) servers.push(whoamiServer(ns));
    const a1ns = `${lab.prefix}-a1`;
    const b1ns = `${lab.prefix}-b1`;
    await check('pod -> pod across nodes (ping)', () => ping(a1ns, b1.ip));
    await check('pod -> pod across nodes keeps the real source (no NAT)', () => expectSeen(a1ns, b1.ip, a1.ip));
    await check('pod -> pod on the same node keeps the real source', () => expectSeen(a1ns, a2.ip, a1.ip));
    await check('pod -> own node via the veth (route and source)', async () => {
      const route = ipn(a1ns, 'route', 'get', n1.primaryIp);
      const seen = await seenFrom(a1ns, n1.primaryIp);
      return route.includes('dev vpcnet0') && seen === a1.ip ? true : { route, seen };
    });
    await check('own node -> pod (ping via the host veth /32 route)', () => ping(n1.ns, a1.ip));
    await check('other node -> pod (VPC traffic through the fabric)', () => ping(n2.ns, a1.ip));
    await check('pod -> other node primary: VPC CIDR not masqueraded', () => expectSeen(a1ns, n2.primaryIp, a1.ip));
    await check('pod -> internet SNATed to the node primary (node 1)', () => expectSeen(a1ns, INET_IP, n1.primaryIp));
    await check('pod -> internet SNATed to the node primary (node 2)', () => expectSeen(b1ns, INET_IP, n2.primaryIp));

    const c1ns = `${lab.prefix}-c1`;
    await check('pod on a secondary NIC: VPC traffic leaves by that NIC (fabric checks the source) and keeps its address', () => expectSeen(c1ns, b1.ip, c1.ip));
    await check('pod on a secondary NIC -> internet SNATed to the node primary', () => expectSeen(c1ns, INET_IP, n1.primaryIp));
    await check('setupPod recovers from a half-done attempt (stray ipvlan eth0 left in the pod)', async () => {
      const s1 = pod('s1', n1, '10.0.1.20');
      const s1ns = `${lab.prefix}-s1`;
      ipn(n1.ns, 'link', 'add', 'link', 'eth0', 'name', 'vpvstray', 'netns', s1ns, 'type', 'ipvlan', 'mode', 'l2');
      ipn(s1ns, 'link', 'set', 'vpvstray', 'name', 'eth0');
      await dpOf(n1).setupPod(s1);
      const drift = await dpOf(n1).checkPod(s1);
      const ok = drift.length === 0 && ping(n1.ns, s1.ip);
      await dpOf(n1).teardownPod(s1);
      return ok ? true : drift;
    });
    await check('checkPod detects a deleted host route and setupPod repairs it', async () => {
      ipn(n1.ns, 'route', 'del', `${a1.ip}/32`);
      const drift = await dpOf(n1).checkPod(a1);
      const seen = drift.map((d) => d.object);
      await dpOf(n1).setupPod(a1);
      const after = await dpOf(n1).checkPod(a1);
      return seen.some((o) => o.startsWith(`route ${a1.ip}/32`)) && after.length === 0 && ping(n1.ns, a1.ip) ? true : { seen, after };
    });
    await check('checkPod detects a missing pod route', async () => {
      ipn(a1ns, 'route', 'del', 'default');
      const drift = await dpOf(n1).checkPod(a1);
      await dpOf(n1).setupPod(a1);
      return drift.some((d) => d.object.startsWith('route default')) ? true : drift;
    });

    // Per-pod setup time, warm (the first pods above also pay for JIT warm-up): fresh netns each.
    const setupMs: number[] = [];
    const extra: PodNetworkRequest[] = [];
    for (let i = 0; i < 10; i++) extra.push(pod(`t${i}`, n1, `10.0.1.${100 + i}`));
    for (const p of extra) {
      const s = performance.now();
      await dpOf(n1).setupPod(p);
      setupMs.push(performance.now() - s);
    }
    const teardownMs: number[] = [];
    for (const p of extra) {
      const s = performance.now();
      await dpOf(n1).teardownPod(p);
      teardownMs.push(performance.now() - s);
    }
    await check('5 pods set up concurrently, all wired and reachable', async () => {
      const burst: PodNetworkRequest[] = [];
      for (let i = 0; i < 5; i++) burst.push(pod(`k${i}`, n1, `10.0.1.${120 + i}`));
      const s = performance.now();
      await Promise.all(burst.map((p) => dpOf(n1).setupPod(p)));
      figures.concurrent5PodsSetupMs = Math.round(performance.now() - s);
      const drift = (await Promise.all(burst.map((p) => dpOf(n1).checkPod(p)))).flat();
      const unreachable = burst.filter((p) => !ping(n2.ns, p.ip)).map((p) => p.ip);
      await Promise.all(burst.map((p) => dpOf(n1).teardownPod(p)));
      return drift.length === 0 && unreachable.length === 0 ? true : { drift, unreachable };
    });
    // Kernel baseline under the same emulation: one veth created with its peer in a pod netns.
    const vethMs: number[] = [];
    const probeNs = lab.addNs(`${lab.prefix}-probe`);
    const probeFd = openSync(probeNs, 'r');
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await dpOf(n1).node().createVeth({ name: `vpvprobe${i}`, peerName: `p${i}`, peerNetnsFd: probeFd });
      vethMs.push(performance.now() - s);
      ipn(n1.ns, 'link', 'del', `vpvprobe${i}`);
    }
    closeSync(probeFd);
    figures.bareVethCreateMedianMs = Number(median(vethMs).toFixed(2));
    figures.podSetupMedianMs = Number(median(setupMs).toFixed(2));
    figures.podTeardownMedianMs = Number(median(teardownMs).toFixed(2));
    figures.podsTimed = setupMs.length;
    figures.firstPodSetupMs = Number((firstPodsMs[0] ?? 0).toFixed(2));

    for (const [p, n] of pods) await dpOf(n).teardownPod(p);
    for (const n of lab.nodes) {
      await check(`teardown leaves node ${n.name} exactly as before (links, addrs, routes, rules)`, () => {
        const now = lab.snapshot(n.ns);
        return now === before.get(n) ? true : diff(before.get(n) ?? '', now);
      });
    }
    await check('teardown leaves nothing in the pod netns but lo', () => {
      const links = ipn(a1ns, '-o', 'link', 'show').trim().split('\n');
      return links.length === 1 && links[0]?.includes('lo:') ? true : links;
    });
    await check('teardownPod is idempotent, also with the netns gone', async () => {
      await dpOf(n1).teardownPod(a1);
      sh('ip', ['netns', 'del', b1ns]);
      await dpOf(n2).teardownPod(b1);
      return true;
    });
  } catch (err) {
    report('matrix ran to the end', false, err instanceof Error ? err.stack : String(err));
  } finally {
    for (const d of datapaths) d.close();
    for (const s of servers) s.close();
    lab.destroy();
  }
  figures.matrixMs = Math.round(performance.now() - t0);
  console.log(`VPCNET-FIGURES ${JSON.stringify(figures)}`);
  process.exitCode = failures ? 1 : 0;
}

await main();
