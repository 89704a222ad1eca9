// CNI ADD/DEL latency and CPU per call: vpcnet's forwarder (against an in-process agent) and
// Debian's reference ptp + host-local plugins, measured in the same run.
//   npm run bench:cni -- [--n=100] [--json]
// Each plugin process is started by a small C runner that fork/execs it and reads its rusage
// with wait4(), so CPU per call is the plugin's own (µs resolution) and no shell sits in
// between. vpcnet's CPU also counts the agent's share (this process's CPU over the run / n).
// ptp needs real namespaces: a "node" netns (the ptp host side lands there, never in the host's
// root namespace) and one netns per pod, all named vpcb<random>-*, removed at the end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CniSocketServer } from '../../src/agent/socket-server.ts';
import { CniHandler } from '../../src/cni/handler.ts';
import { MemoryIpam } from '../../src/cni/memory-ipam.ts';
import { NIC, RecordingDatapath, SETTINGS } from '../unit/cni/doubles.ts';
import { installBuiltForwarder } from '../integration/cni/forwarder-harness.ts';

const args = process.argv.slice(2);
const n = Number(args.find((a) => a.startsWith('--n='))?.slice(4) ?? 100);
const jsonOut = args.includes('--json');
const REF_DIR = '/usr/lib/cni';

const RUNNER_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* runner <count> <plugin> <command> <conf> <netns-prefix|-> <id-prefix>: one line per call:
   wall_us user_us sys_us exit_status */
int main(int argc, char **argv) {
  if (argc != 7) return 2;
  int count = atoi(argv[1]);
  for (int i = 0; i < count; i++) {
    char id[256], ns[512];
    snprintf(id, sizeof id, "%s%d", argv[6], i);
    snprintf(ns, sizeof ns, "%s%d", argv[5], i);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      int in = open(argv[4], O_RDONLY);
      int out = open("/dev/null", O_WRONLY);
      if (in < 0 || out < 0) _exit(120);
      dup2(in, 0);
      if (!getenv("RUNNER_SHOW")) dup2(out, 1);
      setenv("CNI_COMMAND", argv[3], 1);
      setenv("CNI_CONTAINERID", id, 1);
      setenv("CNI_IFNAME", "eth0", 1);
      if (argv[5][0] != '-') setenv("CNI_NETNS", ns, 1);
      execl(argv[2], argv[2], (char *)0);
      _exit(127);
    }
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long wall = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    long user = ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec;
    long sys = ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec;
    printf("%ld %ld %ld %d\n", wall, user, sys, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    fflush(stdout);
  }
  return 0;
}
`;

interface Call {
  wallUs: number;
  cpuUs: number;
  status: number;
}

interface Stats {
  p50Ms: number;
  p90Ms: number;
  cpuP50Ms: number;
  cpuMeanMs: number;
  failures: number;
}

function buildRunner(dir: string): string {
  const src = join(dir, 'runner.c');
  const bin = join(dir, 'runner');
  writeFileSync(src, RUNNER_C);
  const r = spawnSync('cc', ['-O2', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runner build failed: ${r.stderr}`);
  return bin;
}

/** Runs the runner (optionally inside a netns) without blocking this process's event loop. */
function runBatch(cmd: string[], env: Record<string, string>): Promise<Call[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`runner exited ${code}`));
      resolve(
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [wall, user, sys, status] = line.split(' ').map(Number);
            return { wallUs: wall ?? 0, cpuUs: (user ?? 0) + (sys ?? 0), status: status ?? -1 };
          }),
      );
    });
  });
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

/** The agent under test. Fake datapath for now; the lead swaps in the Linux datapath. */
async function startAgent(dir: string): Promise<{ socket: string; close: () => Promise<void> }> {
  const addresses = Array.from({ length: n + 10 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 2}`);
  const handler = new CniHandler({ ipam: new MemoryIpam({ addresses }), datapath: new RecordingDatapath(), resolveNic: () => NIC, settings: { ...SETTINGS, addDeadlineMs: 1000 } });
  const socket = join(dir, 'run', 'cni.sock');
  const server = new CniSocketServer({ path: socket, handler: (r) => handler.handle(r), requestTimeoutMs: 30000 });
  await server.start();
  return { socket, close: () => server.close() };
}

async function benchVpcnet(dir: string, runner: string): Promise<{ add: Stats; del: Stats; forwarderCpu: { add: number; del: number } }> {
  const bin = join(await installBuiltForwarder(dir), 'vpcnet');
  const agent = await startAgent(dir);
  const conf = join(dir, 'vpcnet.json');
  writeFileSync(conf, JSON.stringify({ cniVersion: '1.0.0', name: 'vpcnet', type: 'vpcnet' }));
  const env = { VPCNET_AGENT_SOCKET: agent.socket, CNI_PATH: join(dir, 'bin') };
  try {
    const measure = async (command: string): Promise<{ calls: Call[]; agentUs: number }> => {
      const before = process.cpuUsage();
      const calls = await runBatch([runner, String(n), bin, command, conf, '/var/run/netns/vpcbench-p', 'vpcnet'], env);
      const d = process.cpuUsage(before);
      return { calls, agentUs: (d.user + d.system) / Math.max(1, calls.length) };
    };
    const add = await measure('ADD');
    const del = await measure('DEL');
    return {
      add: stats(add.calls, add.agentUs),
      del: stats(del.calls, del.agentUs),
      forwarderCpu: { add: stats(add.calls).cpuP50Ms, del: stats(del.calls).cpuP50Ms },
    };
  } finally {
    await agent.close();
  }
}

function ip(argv: string[]): void {
  const r = spawnSync('ip', argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${argv.join(' ')}: ${r.stderr.trim()}`);
}

async function benchPtp(dir: string, runner: string): Promise<{ add: Stats; del: Stats } | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root for network namespaces' };
  if (!existsSync(join(REF_DIR, 'ptp')) || !existsSync(join(REF_DIR, 'host-local'))) return { skipped: `no ${REF_DIR}/ptp or host-local (apt-get install containernetworking-plugins)` };
  const prefix = `vpcb${randomBytes(3).toString('hex')}`;
  const node = `${prefix}-node`;
  const pods = Array.from({ length: n }, (_, i) => `${prefix}-p${i}`);
  const created: string[] = [];
  const cleanup = (): void => {
    for (const ns of created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
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
    const run = (command: string): Promise<Call[]> =>
      runBatch(['ip', 'netns', 'exec', node, runner, String(n), join(REF_DIR, 'ptp'), command, conf, `/var/run/netns/${prefix}-p`, 'ptp'], { CNI_PATH: REF_DIR });
    const add = await run('ADD');
    const del = await run('DEL');
    return { add: stats(add), del: stats(del) };
  } finally {
    cleanup();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vpcnet-cni-bench-'));
  try {
    const runner = buildRunner(dir);
    // what any process start costs here, for scale
    const baseline = stats(await runBatch([runner, String(n), '/bin/true', 'VERSION', '/dev/null', '-', 'true'], {}));
    const vpcnet = await benchVpcnet(dir, runner);
    const ptp = await benchPtp(dir, runner);
    const ratio = (a: number, b: number | undefined): number | null => (b ? Math.round((a / b) * 1000) / 1000 : null);
    const ref = 'skipped' in ptp ? undefined : ptp;
    const summary = {
      bench: 'cni',
      n,
      datapath: 'fake',
      processStart: { p50Ms: baseline.p50Ms, cpuP50Ms: baseline.cpuP50Ms },
      vpcnet,
      ptp,
      add: { ratio: ratio(vpcnet.add.p50Ms, ref?.add.p50Ms), cpuRatio: ratio(vpcnet.add.cpuMeanMs, ref?.add.cpuMeanMs) },
      del: { ratio: ratio(vpcnet.del.p50Ms, ref?.del.p50Ms), cpuRatio: ratio(vpcnet.del.cpuMeanMs, ref?.del.cpuMeanMs) },
    };
    const row = (name: string, s: Stats): string =>
      `${name.padEnd(16)} p50 ${s.p50Ms.toFixed(2).padStart(7)} ms  p90 ${s.p90Ms.toFixed(2).padStart(7)} ms  cpu p50 ${s.cpuP50Ms.toFixed(2).padStart(6)} ms  cpu mean ${s.cpuMeanMs.toFixed(2).padStart(6)} ms  failures ${s.failures}`;
    console.log(`CNI bench, ${n} calls each, warm pool, vpcnet datapath: fake (in-process agent)`);
    console.log(row('/bin/true', baseline));
    console.log(row('vpcnet ADD', vpcnet.add));
    console.log(row('vpcnet DEL', vpcnet.del));
    console.log(`  (forwarder process alone: cpu p50 ADD ${vpcnet.forwarderCpu.add} ms, DEL ${vpcnet.forwarderCpu.del} ms; the rest is the agent's share)`);
    if (ref) {
      console.log(row('ptp+host-local ADD', ref.add));
      console.log(row('ptp+host-local DEL', ref.del));
      console.log(`ratio vpcnet/ptp: ADD latency ${summary.add.ratio}, cpu ${summary.add.cpuRatio}; DEL latency ${summary.del.ratio}, cpu ${summary.del.cpuRatio}`);
    } else {
      console.log(`REFERENCE NOT MEASURED: ${(ptp as { skipped: string }).skipped}`);
    }
    if (jsonOut) console.log(JSON.stringify(summary));
    if (vpcnet.add.failures || vpcnet.del.failures || ref?.add.failures || ref?.del.failures) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
