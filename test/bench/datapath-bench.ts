// Datapath benchmark in the lab (needs root). Not pass/fail: prints a table and one JSON line.
//   node test/bench/datapath-bench.ts [--json] [--pods=100] [--concurrent=50] [--seconds=2] [--rounds=3]
// Measures routed-mode pod setup/teardown latency (serial and concurrent) and pod<->pod TCP
// throughput across nodes relative to node<->node throughput in the same lab (iperf3).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { PodNetworkRequest } from '../../src/datapath/datapath.ts';
import { createScenario, MTU, podAddresses, type Scenario, type ScenarioNode } from '../../src/lab/scenario.ts';

function arg(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
}
const jsonOnly = process.argv.includes('--json');
const N = arg('pods', 100);
const C = arg('concurrent', 50);
const SECONDS = arg('seconds', 2);
const ROUNDS = arg('rounds', 3);

function stats(ms: number[]): { median: number; p90: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { median: r(at(0.5)), p90: r(at(0.9)), max: r(s[s.length - 1] ?? NaN) };
}

function requests(sc: Scenario, node: ScenarioNode, count: number, tag: string, offset: number): PodNetworkRequest[] {
  const ips = [...podAddresses(node, 0), ...podAddresses(node, 1)];
  return Array.from({ length: count }, (_, i) => {
    const ip = ips[offset + i];
    if (!ip) throw new Error('not enough lab addresses');
    const nic = node.nics[ip.startsWith('10.0.1.') ? 0 : 1];
    if (!nic) throw new Error('no nic');
    const name = `${tag}${i}`;
    return { containerId: `bench-${name}`, ifname: 'eth0', netns: sc.lab.addPod(name), ip, mode: 'routed', nic, mtu: MTU };
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function iperf(sc: Scenario, serverNs: string, clientNs: string, host: string): number {
  let server: ChildProcess | undefined;
  try {
    server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', '5201'], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('ip', ['netns', 'exec', serverNs, 'sh', '-c', 'ss -ltn | grep -q :5201']);
        break;
      } catch {
        execFileSync('sleep', ['0.1']);
      }
    }
    const out = sc.lab.execSync(clientNs, 'iperf3', ['-c', host, '-p', '5201', '-t', String(SECONDS), '-J']);
    const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second;
  } finally {
    if (server?.pid && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('datapath bench needs root (lab namespaces)');
    process.exit(2);
  }
  const prefix = `vpd${randomBytes(2).toString('hex')}`;
  const perNic = Math.ceil(Math.max(N, C + 2) / 2) + 1;
  const sc = await createScenario({ prefix, podsPerNic: perNic, prefixes: true });
  try {
    const [n1, n2] = sc.nodes as [ScenarioNode, ScenarioNode];
    // serial
    const serial = requests(sc, n1, N, 's', 0);
    const setupSerial: number[] = [];
    for (const r of serial) setupSerial.push(await timed(() => n1.datapath.setupPod(r)));
    const teardownSerial: number[] = [];
    for (const r of serial) teardownSerial.push(await timed(() => n1.datapath.teardownPod({ containerId: r.containerId, ifname: r.ifname, netns: r.netns, ip: r.ip })));
    // concurrent
    const conc = requests(sc, n2, C, 'c', 0);
    const t0 = performance.now();
    const setupConc = await Promise.all(conc.map((r) => timed(() => n2.datapath.setupPod(r))));
    const setupConcWall = performance.now() - t0;
    const t1 = performance.now();
    const teardownConc = await Promise.all(conc.map((r) => timed(() => n2.datapath.teardownPod({ containerId: r.containerId, ifname: r.ifname, ip: r.ip }))));
    const teardownConcWall = performance.now() - t1;
    // throughput: pod on node1's secondary NIC -> pod on node2's primary NIC, vs node -> node
    const [a] = requests(sc, n1, 1, 'ta', podAddresses(n1, 0).length);
    const [b] = requests(sc, n2, 1, 'tb', 0);
    if (!a || !b) throw new Error('no throughput pods');
    await n1.datapath.setupPod(a);
    await n2.datapath.setupPod(b);
    // Alternate the two measurements and take medians: the machine is shared and noisy.
    const podRuns: number[] = [];
    const nodeRuns: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      nodeRuns.push(iperf(sc, n2.ns, n1.ns, n2.cfg.primaryIp));
      podRuns.push(iperf(sc, sc.lab.podNs('tb0'), sc.lab.podNs('ta0'), b.ip));
    }
    const podBps = stats(podRuns).median;
    const nodeBps = stats(nodeRuns).median;
    const result = {
      bench: 'datapath',
      mode: 'routed',
      pods: N,
      concurrent: C,
      setupSerialMs: stats(setupSerial),
      teardownSerialMs: stats(teardownSerial),
      setupConcurrentMs: { ...stats(setupConc), wall: Math.round(setupConcWall) },
      teardownConcurrentMs: { ...stats(teardownConc), wall: Math.round(teardownConcWall) },
      throughputRounds: ROUNDS,
      podToPodGbps: Math.round(podBps / 1e7) / 100,
      nodeToNodeGbps: Math.round(nodeBps / 1e7) / 100,
      podToPodVsNodeToNodeRatio: Math.round((podBps / nodeBps) * 100) / 100,
    };
    if (!jsonOnly) {
      const row = (k: string, v: { median: number; p90: number; max: number; wall?: number }): string =>
        `${k.padEnd(28)} ${String(v.median).padStart(8)} ${String(v.p90).padStart(8)} ${String(v.max).padStart(8)} ${v.wall !== undefined ? String(v.wall).padStart(8) : ''}`;
      console.log(`${'routed mode (ms)'.padEnd(28)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'max'.padStart(8)} ${'wall'.padStart(8)}`);
      console.log(row(`setup, ${N} serial`, result.setupSerialMs));
      console.log(row(`teardown, ${N} serial`, result.teardownSerialMs));
      console.log(row(`setup, ${C} concurrent`, result.setupConcurrentMs));
      console.log(row(`teardown, ${C} concurrent`, result.teardownConcurrentMs));
      console.log(`TCP pod->pod across nodes ${result.podToPodGbps} Gbit/s, node->node ${result.nodeToNodeGbps} Gbit/s, ratio ${result.podToPodVsNodeToNodeRatio}`);
    }
    console.log(JSON.stringify(result));
  } finally {
    sc.destroy();
  }
}

await main();
