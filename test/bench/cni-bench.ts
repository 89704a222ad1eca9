// CNI ADD/DEL latency and CPU per call, warm pool, routed mode: vpcnet for real and Debian's
// reference ptp + host-local plugins, measured in the same run.
//   npm run bench:cni -- [--n=100] [--preload=100] [--warmup=10] [--json]
// Two variants in the same run: an empty node, and a node with `preload` pods already on it
// (costs that grow with the pods there show up as a worse ratio in the second).
// vpcnet: the EC2 emulator, a lab node netns, an in-process Agent with the real LinuxDatapath
// in that netns (warm pool sized for n pods) and the built forwarder it installs; n pods are
// ADDed one after the other, then DELed. Each plugin process is started by a small C runner
// (test/support/cni-runner.ts) that fork/execs it and reads its rusage with wait4(), so CPU
// per call is the plugin's own (µs resolution) and no shell sits in between. vpcnet's CPU per
// call adds the agent's share: this process's CPU over the batch / n (the emulator in this
// process is idle then: the pool is warm), DEL's until the veth deletions it left running are done.
// Namespaces: vpb<random>v-*/w-* (the lab, empty/loaded) and vpb<random>p-*/q-* (ptp's node and pods; the ptp host
// side lands there, never in the host's root namespace); all removed at the end.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.ts';
import { buildRunner, runBatch, type Call } from '../support/cni-runner.ts';
import { startLabAgent } from '../support/lab-agent.ts';
import type { Registry } from 'prom-client';

const args = process.argv.slice(2);
const n = Number(args.find((a) => a.startsWith('--n='))?.slice(4) ?? 100);
const jsonOut = args.includes('--json');
const preloadPods = Number(args.find((a) => a.startsWith('--preload='))?.slice(10) ?? 100);
/** Untimed ADD+DEL pairs before each measured batch, for both plugins: the agent is a long-running process whose code paths are compiled after its first pods, so the first calls of a fresh one measure the JIT, not the steady state. */
const warmup = Math.min(n, Number(args.find((a) => a.startsWith('--warmup='))?.slice(9) ?? 10));
const REF_DIR = '/usr/lib/cni';
const runId = `vpb${randomBytes(2).toString('hex')}`;

interface Stats {
  p50Ms: number;
  p90Ms: number;
  cpuP50Ms: number;
  cpuMeanMs: number;
  failures: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function stats(calls: Call[], extraCpuUsPerCall = 0): Stats {
  const wall = calls.map((c) => c.wallUs).sort((a, b) => a - b);
  const cpu = calls.map((c) => c.cpuUs + extraCpuUsPerCall).sort((a, b) => a - b);
  const mean = cpu.reduce((s, x) => s + x, 0) / Math.max(1, cpu.length);
  const r3 = (us: number): number => Math.round(us) / 1000;
  return { p50Ms: r3(quantile(wall, 0.5)), p90Ms: r3(quantile(wall, 0.9)), cpuP50Ms: r3(quantile(cpu, 0.5)), cpuMeanMs: r3(mean), failures: calls.filter((c) => c.status !== 0).length };
}

interface VpcnetFigures {
  add: Stats;
  del: Stats;
  /** The forwarder process alone (CPU p50). */
  forwarderCpu: { add: number; del: number };
  /** Agent CPU per call (this process's CPU over the batch / n). */
  agentCpuMs: { add: number; del: number };
  /** Mean time the agent's handler spent per request (its own histogram). */
  handlerMeanMs: { add: number; del: number };
  /** p50 of the agent's steps: pool allocate (in memory; its checkpoint fsync overlaps setupPod), release (+ fsync, inside teardownPod, which answers before the kernel deleted the veth) and the datapath. */
  stepsP50Ms: { allocate: number; setupPod: number; teardownPod: number; release: number; commit: number };
  instanceType: string;
}

async function benchVpcnet(dir: string, runner: string, preload: number): Promise<VpcnetFigures> {
  // m5.4xlarge: room for n + preload pods of warm secondary IPs (8 NICs x 29)
  const instanceType = 'm5.4xlarge';
  const node = await startLabAgent({ prefix: `${runId}${preload ? 'w' : 'v'}`, instanceType, pool: { minimumIps: n + preload, warmIps: 2 } });
  const conf = join(dir, 'vpcnet.json');
  writeFileSync(conf, JSON.stringify({ ...node.netconf, cniVersion: '1.0.0' }));
  try {
    const netnsPrefix = node.addPods(n);
    if (preload > 0) {
      for (let i = 0; i < preload; i++) node.lab.addPod(`pre${i}`);
      const pre = await runBatch({ runner, mode: 'seq', count: preload, plugin: node.cniBin, command: 'ADD', conf, netnsPrefix: `/var/run/netns/${node.lab.podNs('pre')}`, idPrefix: 'pre', env: node.cniEnv });
      if (pre.calls.some((c) => c.status !== 0)) throw new Error('preloading pods failed');
    }
    for (const command of ['ADD', 'DEL']) {
      const w = await runBatch({ runner, mode: 'seq', count: warmup, plugin: node.cniBin, command, conf, netnsPrefix, idPrefix: 'warm', env: node.cniEnv });
      if (w.calls.some((c) => c.status !== 0)) throw new Error(`warm-up ${command} failed`);
    }
    const steps = {
      allocate: timeCalls(node.agent.poolManager, 'allocateStaged'),
      setupPod: timeCalls(node.agent.datapath, 'setupPod'),
      teardownPod: timeCalls(node.agent.datapath, 'teardownPod'),
      release: timeCalls(node.agent.poolManager, 'release'),
      // the checkpoint write itself (journal append + fdatasync beside the file's replacement); the agent keeps its store private
      commit: timeCalls((node.agent as unknown as { store: { commit(): Promise<void> } }).store, 'commit'),
    };
    const measure = async (command: string): Promise<{ calls: Call[]; agentUs: number; handlerMs: number }> => {
      const h0 = await handlerTotals(node.agent.metrics.registry, command);
      const before = process.cpuUsage();
      const batch = await runBatch({ runner, mode: 'seq', count: n, plugin: node.cniBin, command, conf, netnsPrefix, idPrefix: 'bench', env: node.cniEnv });
      // the veth deletions DEL left running are part of its cost
      await node.agent.datapath.settled?.();
      const d = process.cpuUsage(before);
      const h1 = await handlerTotals(node.agent.metrics.registry, command);
      const count = Math.max(1, h1.count - h0.count);
      return { calls: batch.calls, agentUs: (d.user + d.system) / Math.max(1, batch.calls.length), handlerMs: ((h1.sum - h0.sum) * 1000) / count };
    };
    const add = await measure('ADD');
    const del = await measure('DEL');
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      add: stats(add.calls, add.agentUs),
      del: stats(del.calls, del.agentUs),
      forwarderCpu: { add: stats(add.calls).cpuP50Ms, del: stats(del.calls).cpuP50Ms },
      agentCpuMs: { add: r3(add.agentUs / 1000), del: r3(del.agentUs / 1000) },
      handlerMeanMs: { add: r3(add.handlerMs), del: r3(del.handlerMs) },
      stepsP50Ms: {
        allocate: r3(median(steps.allocate)),
        setupPod: r3(median(steps.setupPod)),
        teardownPod: r3(median(steps.teardownPod)),
        release: r3(median(steps.release)),
        commit: r3(median(steps.commit)),
      },
      instanceType,
    };
  } finally {
    await node.destroy();
  }
}

/** Wraps an instance method to record how long each call takes (bench only). */
function timeCalls<T extends object>(obj: T, method: keyof T & string): number[] {
  const times: number[] = [];
  const target = obj as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const orig = target[method]!.bind(obj);
  target[method] = async (...a: unknown[]) => {
    const t0 = performance.now();
    try {
      return await orig(...a);
    } finally {
      times.push(performance.now() - t0);
    }
  };
  return times;
}

function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** Sum (seconds) and count of the agent's request histogram for one command. */
async function handlerTotals(registry: Registry, command: string): Promise<{ sum: number; count: number }> {
  const metric = registry.getSingleMetric('vpcnet_cni_request_seconds');
  const out = { sum: 0, count: 0 };
  if (!metric) return out;
  // histogram values carry metricName (…_sum, …_count); prom-client's type omits it
  for (const v of (await metric.get()).values as Array<{ metricName?: string; value: number; labels: Record<string, string | number> }>) {
    if (v.labels.command !== command || v.labels.result !== 'ok') continue;
    if (v.metricName?.endsWith('_sum')) out.sum += v.value;
    if (v.metricName?.endsWith('_count')) out.count += v.value;
  }
  return out;
}

function ip(argv: string[]): void {
  const r = spawnSync('ip', argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${argv.join(' ')}: ${r.stderr.trim()}`);
}

async function benchPtp(dir: string, runner: string, preload: number): Promise<{ add: Stats; del: Stats } | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root for network namespaces' };
  if (!existsSync(join(REF_DIR, 'ptp')) || !existsSync(join(REF_DIR, 'host-local'))) return { skipped: `no ${REF_DIR}/ptp or host-local (apt-get install containernetworking-plugins)` };
  const prefix = `${runId}${preload ? 'q' : 'p'}`;
  const node = `${prefix}-node`;
  const pods = [...Array.from({ length: n }, (_, i) => `${prefix}-p${i}`), ...Array.from({ length: preload }, (_, i) => `${prefix}-q${i}`)];
  const created: string[] = [];
  const cleanup = (): void => {
    for (const ns of created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of [node, ...pods]) {
      ip(['netns', 'add', ns]);
      created.push(ns);
    }
    ip(['-n', node, 'link', 'set', 'lo', 'up']);
    const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
    const conf = join(dir, 'ptp.json');
    mkdirSync(join(dir, 'host-local'), { recursive: true });
    writeFileSync(conf, JSON.stringify({ cniVersion: '1.0.0', name: `${prefix}net`, type: 'ptp', ipMasq: false, mtu: 1500, ipam: { type: 'host-local', subnet, dataDir: join(dir, 'host-local') } }));
    const run = async (command: string, count = n, family = 'p', idPrefix = `ptp${family}`): Promise<Call[]> =>
      (
        await runBatch({
          runner,
          mode: 'seq',
          count,
          plugin: join(REF_DIR, 'ptp'),
          command,
          conf,
          netnsPrefix: `/var/run/netns/${prefix}-${family}`,
          idPrefix,
          env: { CNI_PATH: REF_DIR },
          wrap: ['ip', 'netns', 'exec', node],
        })
      ).calls;
    if (preload > 0 && (await run('ADD', preload, 'q')).some((c) => c.status !== 0)) throw new Error('preloading ptp pods failed');
    for (const command of ['ADD', 'DEL']) if ((await run(command, warmup, 'p', 'warm')).some((c) => c.status !== 0)) throw new Error(`ptp warm-up ${command} failed`);
    const add = await run('ADD');
    const del = await run('DEL');
    return { add: stats(add), del: stats(del) };
  } finally {
    cleanup();
  }
}

async function main(): Promise<void> {
  process.once('SIGINT', () => {
    for (const p of ['v', 'w', 'p', 'q']) Lab.cleanupStale(`${runId}${p}`); // both variants
    process.exit(130);
  });
  const dir = mkdtempSync(join(tmpdir(), 'vpcnet-cni-bench-'));
  try {
    const runner = buildRunner(dir);
    // what any process start costs here, for scale
    const baseline = stats((await runBatch({ runner, mode: 'seq', count: n, plugin: '/bin/true', command: 'VERSION', conf: '/dev/null', idPrefix: 'true' })).calls);
    if (process.getuid?.() !== 0) throw new Error('cni bench needs root: vpcnet runs its real datapath in lab namespaces');
    const variants = [0, ...(preloadPods > 0 ? [preloadPods] : [])];
    const summaries: Array<Record<string, unknown>> = [];
    let failed = false;
    for (const preload of variants) {
      const vpcnet = await benchVpcnet(dir, runner, preload);
      const ptp = await benchPtp(dir, runner, preload);
      const ratio = (a: number, b: number | undefined): number | null => (b ? Math.round((a / b) * 1000) / 1000 : null);
      const ref = 'skipped' in ptp ? undefined : ptp;
      const summary = {
        bench: 'cni',
        n,
        podsAlreadyOnNode: preload,
        warmupPairs: warmup,
        datapath: 'linux (routed, lab node netns)',
        processStart: { p50Ms: baseline.p50Ms, cpuP50Ms: baseline.cpuP50Ms },
        vpcnet,
        ptp,
        add: { ratio: ratio(vpcnet.add.p50Ms, ref?.add.p50Ms), cpuRatio: ratio(vpcnet.add.cpuMeanMs, ref?.add.cpuMeanMs) },
        del: { ratio: ratio(vpcnet.del.p50Ms, ref?.del.p50Ms), cpuRatio: ratio(vpcnet.del.cpuMeanMs, ref?.del.cpuMeanMs) },
      };
      summaries.push(summary);
      const row = (name: string, s: Stats): string =>
        `${name.padEnd(18)} p50 ${s.p50Ms.toFixed(2).padStart(7)} ms  p90 ${s.p90Ms.toFixed(2).padStart(7)} ms  cpu p50 ${s.cpuP50Ms.toFixed(2).padStart(6)} ms  cpu mean ${s.cpuMeanMs.toFixed(2).padStart(6)} ms  failures ${s.failures}`;
      console.log(`CNI bench, ${n} calls each, ${preload} pods already on the node, ${warmup} untimed ADD+DEL first, warm pool, routed mode; vpcnet: in-process agent, real Linux datapath in a lab node netns, EC2 emulator, ${vpcnet.instanceType}`);
      console.log(row('/bin/true', baseline));
      console.log(row('vpcnet ADD', vpcnet.add));
      console.log(row('vpcnet DEL', vpcnet.del));
      console.log(`  (forwarder process alone: cpu p50 ADD ${vpcnet.forwarderCpu.add} ms, DEL ${vpcnet.forwarderCpu.del} ms; agent cpu per call ADD ${vpcnet.agentCpuMs.add} ms, DEL ${vpcnet.agentCpuMs.del} ms)`);
      console.log(`  (agent handler time per request, mean: ADD ${vpcnet.handlerMeanMs.add} ms, DEL ${vpcnet.handlerMeanMs.del} ms; the rest of the latency is process start + socket)`);
      const st = vpcnet.stepsP50Ms;
      console.log(`  (agent steps, p50: allocate ${st.allocate} ms (its checkpoint commit overlaps setupPod), setupPod ${st.setupPod} ms; teardownPod ${st.teardownPod} ms (includes release + checkpoint ${st.release} ms; the veth is deleted in the background, its CPU counted in DEL's); checkpoint commit ${st.commit} ms)`);
      if (ref) {
        console.log(row('ptp+host-local ADD', ref.add));
        console.log(row('ptp+host-local DEL', ref.del));
        console.log(`ratio vpcnet/ptp (${preload} pods already): ADD latency ${summary.add.ratio}, cpu ${summary.add.cpuRatio}; DEL latency ${summary.del.ratio}, cpu ${summary.del.cpuRatio}`);
      } else {
        console.log(`REFERENCE NOT MEASURED: ${(ptp as { skipped: string }).skipped}`);
      }
      if (vpcnet.add.failures || vpcnet.del.failures || ref?.add.failures || ref?.del.failures) failed = true;
    }
    // one JSON line: the empty-node figures at the top level (as before), the loaded node's under `loaded`
    if (jsonOut) console.log(JSON.stringify({ ...summaries[0], ...(summaries[1] ? { loaded: summaries[1] } : {}) }));
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
