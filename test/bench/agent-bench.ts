// npm run bench:agent -- [--pods 250] [--idle-s 60] [--form source|bundle|both] [--ref DIR] [--json]
// One real agent process (test/bench/agent-process.ts) with Kubernetes on (the fake API server)
// against the EC2 emulator, warm pool: start-up time, then RSS, heap and idle CPU per minute
// with 0 pods and with N pods (ADDs over the CNI socket wire). Prints a table and one JSON line
// per form; figures only, never pass/fail on time. The bundle runs with the image's Node flags
// (AGENT_NODE_FLAGS) unless --no-flags. `--ref DIR`: also run the same process from
// another checkout (e.g. main, with test/bench/agent-process.ts copied in) side by side.
// See docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AGENT_NODE_FLAGS, buildBundle } from '../../deploy/bundle.ts';
import { AwsEmulator } from '../../providers/aws/emulator/index.ts';
import { decodeResponse, encodeRequest, FrameReader } from '../../src/cni/wire.ts';
import { FakeApiServer } from '../support/fake-apiserver/server.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The reference: the agent idling before the lean-agent work (measured with the Linux datapath). */
const REFERENCE_IDLE_RSS_MB = 288;
const NODE = 'bench-node';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '250' },
    'idle-s': { type: 'string', default: '60' },
    form: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
    ref: { type: 'string' },
    /** Extra node flags for the agent process, e.g. --node-args=--max-semi-space-size=1 */
    'node-args': { type: 'string', default: '' },
    'no-kube': { type: 'boolean', default: false },
    /** The bundle without the image's Node flags (AGENT_NODE_FLAGS), to show what they change. */
    'no-flags': { type: 'boolean', default: false },
  },
});
const nodeArgs = (values['node-args'] ?? '').split(' ').filter((a) => a.length > 0);
const pods = Number(values.pods);
const idleMs = Number(values['idle-s']) * 1000;

interface Stats {
  rss: number;
  heapUsed: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  uptimeMs: number;
}

interface FormResult {
  form: string;
  nodeFlags: string[];
  startupMs: number;
  idle0: { rssMb: number; heapMb: number; cpuMsPerMin: number };
  idleN: { pods: number; rssMb: number; heapMb: number; cpuMsPerMin: number };
  addP50Ms: number;
  /** Agent CPU (user + system) over the ADD phase. */
  addCpuMs: number;
}

const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

async function runForm(form: 'source' | 'bundle' | 'reference'): Promise<FormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vc12-agent-bench-'));
  const emu = new AwsEmulator({ region: 'us-west-2', throttling: false });
  const api = new FakeApiServer();
  let child: ChildProcess | undefined;
  try {
    const endpoint = await emu.start({ port: 0 });
    const { instanceIds } = emu.applyScenario({
      vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/18', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.16xlarge', subnet: '10.0.0.0/18' }],
    });
    const instanceId = instanceIds[0] as string;
    await api.start();
    api.upsert('nodes', { metadata: { name: NODE, labels: {} }, spec: { providerID: `aws:///us-west-2a/${instanceId}` }, status: { conditions: [] } });
    for (let i = 0; i < pods; i++) {
      api.upsert('pods', { metadata: { namespace: 'bench', name: `p${i}` }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'pause' }] }, status: { phase: 'Running' } });
    }
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfig());
    const config = {
      clusterName: 'bench',
      nodeName: NODE,
      logLevel: 'warn',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: { name: 'aws', region: 'us-west-2', apiEndpoint: endpoint, metadataEndpoint: emu.imdsEndpoint(instanceId) },
      // Warm pool: every pod is served without a cloud call.
      pool: { minimumIps: pods + 10 },
      kubernetes: values['no-kube'] ? { enabled: false } : { enabled: true, kubeconfig },
      paths: { socket: join(dir, 'cni.sock'), checkpoint: join(dir, 'checkpoint.json'), cniBinDir: join(dir, 'bin'), cniConfDir: join(dir, 'net.d') },
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    let entry = join(root, 'test/bench/agent-process.ts');
    if (form === 'reference') entry = join(resolve(values.ref ?? ''), 'test/bench/agent-process.ts');
    if (form === 'bundle') {
      const out = join(root, 'build/bench-agent');
      await buildBundle({ entry: 'test/bench/agent-process.ts', outdir: out });
      entry = join(out, 'main.mjs');
    }
    const forwarder = join(root, 'build/native/vpcnet-cni');
    // The bundle is the production form: it runs with the image's Node flags.
    const flags = [...(form === 'bundle' && !values['no-flags'] ? AGENT_NODE_FLAGS : []), ...nodeArgs];
    child = spawn(process.execPath, [...flags, entry, configFile, forwarder], { stdio: ['ignore', 'pipe', 'inherit'], cwd: dir });
    const lines = lineReader(child);
    const ready = JSON.parse((await lines.next('ready')).slice('ready '.length)) as { sinceProcessStartMs: number };
    await sleep(5000);
    const stats = async (): Promise<Stats> => {
      child?.kill('SIGUSR2');
      return JSON.parse((await lines.next('stats')).slice('stats '.length)) as Stats;
    };
    const a0 = await stats();
    await sleep(idleMs);
    const b0 = await stats();
    const addTimes: number[] = [];
    const socket = config.paths.socket;
    for (let i = 0; i < pods; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, pods - i) }, async (_, j) => {
          const t = performance.now();
          const res = await cniAdd(socket, i + j);
          addTimes.push(performance.now() - t);
          if (res.exitCode !== 0) throw new Error(`ADD ${i + j} failed: ${res.stdout}`);
        }),
      );
    }
    // CPU the agent spent serving the N ADDs (the work, where compiler flags would show).
    const addEnd = await stats();
    await sleep(5000);
    const aN = await stats();
    await sleep(idleMs);
    const bN = await stats();
    const cpuPerMin = (a: Stats, b: Stats): number =>
      Math.round(((b.cpuUserUs + b.cpuSystemUs - a.cpuUserUs - a.cpuSystemUs) / 1000) * (60_000 / (b.uptimeMs - a.uptimeMs)));
    addTimes.sort((x, y) => x - y);
    return {
      form,
      nodeFlags: flags,
      startupMs: Math.round(ready.sinceProcessStartMs),
      idle0: { rssMb: mb(b0.rss), heapMb: mb(b0.heapUsed), cpuMsPerMin: cpuPerMin(a0, b0) },
      idleN: { pods, rssMb: mb(bN.rss), heapMb: mb(bN.heapUsed), cpuMsPerMin: cpuPerMin(aN, bN) },
      addP50Ms: Math.round((addTimes[Math.floor(addTimes.length / 2)] ?? 0) * 10) / 10,
      addCpuMs: Math.round((addEnd.cpuUserUs + addEnd.cpuSystemUs - b0.cpuUserUs - b0.cpuSystemUs) / 1000),
    };
  } finally {
    child?.kill('SIGTERM');
    await sleep(300);
    child?.kill('SIGKILL');
    await api.stop().catch(() => undefined);
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cniAdd(socket: string, i: number): Promise<{ exitCode: number; stdout: string }> {
  const req = encodeRequest({
    env: {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: `bench${String(i).padStart(6, '0')}`,
      CNI_NETNS: `/var/run/netns/bench-${i}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=p${i}`,
    },
    stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'vpcnet', type: 'vpcnet' }),
  });
  return new Promise((resolveAdd, reject) => {
    const reader = new FrameReader(1 << 20);
    const s = connect(socket, () => s.write(req));
    s.on('data', (chunk: Buffer) => {
      const payload = reader.push(chunk);
      if (payload) {
        s.end();
        resolveAdd(decodeResponse(payload));
      }
    });
    s.on('error', reject);
  });
}

function lineReader(child: ChildProcess): { next(prefix: string): Promise<string> } {
  const buffered: string[] = [];
  const waiting: Array<{ prefix: string; resolve: (l: string) => void }> = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      const w = waiting.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiting.splice(w, 1)[0]?.resolve(line);
      else buffered.push(line);
    }
  });
  return {
    next: (prefix) =>
      new Promise((res, rej) => {
        const i = buffered.findIndex((l) => l.startsWith(prefix));
        if (i >= 0) return res(buffered.splice(i, 1)[0] as string);
        waiting.push({ prefix, resolve: res });
        child.once('exit', (code) => rej(new Error(`agent exited (${code}) before "${prefix}"`)));
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const forms: Array<'source' | 'bundle' | 'reference'> = values.form === 'both' ? ['source', 'bundle'] : [values.form as 'source' | 'bundle'];
if (values.ref) forms.unshift('reference');
const results: FormResult[] = [];
for (const f of forms) results.push(await runForm(f));
if (!values.json) {
  const rows = [
    ['form', 'start-up ms', 'RSS 0 pods MB', 'heap 0 MB', 'idle CPU ms/min (0)', `RSS ${pods} pods MB`, `heap ${pods} MB`, `idle CPU ms/min (${pods})`, 'ADD p50 ms', `CPU for ${pods} ADDs ms`],
    ...results.map((r) => [r.form + (r.nodeFlags.length ? ` (${r.nodeFlags.join(' ')})` : ''), String(r.startupMs), String(r.idle0.rssMb), String(r.idle0.heapMb), String(r.idle0.cpuMsPerMin), String(r.idleN.rssMb), String(r.idleN.heapMb), String(r.idleN.cpuMsPerMin), String(r.addP50Ms), String(r.addCpuMs)]),
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ')}\n`);
  process.stdout.write(`reference: main idles at ${REFERENCE_IDLE_RSS_MB} MB RSS (before the lean-agent work); target: at most 100 MB at 250 pods\n`);
}
for (const r of results) process.stdout.write(`${JSON.stringify({ bench: 'agent', ...r, referenceIdleRssMb: REFERENCE_IDLE_RSS_MB })}\n`);
