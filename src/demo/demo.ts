// The demo: a simulated VPC on this host (EC2 emulator + lab namespaces), one vpcnet agent per
// node, pods created through the real CNI executable, then the pool table and a connectivity
// matrix; everything is torn down at the end, also on Ctrl-C or failure.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLOUDS } from '../../providers/registry.ts';
import { Agent } from '../agent/agent.ts';
import { table, renderStatus } from '../cli/status-table.ts';
import { configSchema } from '../config/schema.ts';
import { CloudLab, type LabCloud } from '../lab/cloud-lab.ts';
import { echoFrom, startEcho, type EchoServer } from '../lab/echo-probe.ts';
import { VpcnetError } from '../errors.ts';
import { INTERNET_IP, Lab } from '../lab/lab.ts';
import { createLogger } from '../util/logger.ts';
import { DEMO_DEFAULTS, defaultInstanceType, demoOptionsProblem, type DemoCloud } from './demo-options.ts';
import { keptLabRecipe, writeKeptLab, type KeptLab } from './kept-lab.ts';

const ECHO_PORT = 7777;
const CREDENTIALS = { accessKeyId: 'AKIDDEMO', secretAccessKey: 'demo-secret' };

export interface DemoOptions {
  /** The simulated cloud: AWS (default; ENIs with secondary IPs), Azure (NIC ipConfigurations) or GCE (one alias range per node). */
  cloud?: DemoCloud;
  nodes?: number;
  podsPerNode?: number;
  instanceType?: string;
  /** Where progress and results go. */
  out?: (line: string) => void;
  signal?: AbortSignal;
  /** Leave the lab, emulator and agents up after the checks until `signal` aborts; then tear down as usual. */
  keep?: boolean;
  /** Lab namespace prefix (default vpdemo + 4 random hex digits). */
  prefix?: string;
  /** Where a kept lab's state file goes (default KEPT_LAB_DIR). */
  keptLabDir?: string;
}

/** Thrown when the signal aborts the demo; everything is cleaned up before it propagates. */
export class DemoInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'DemoInterrupted';
  }
}

interface DemoPod {
  name: string;
  node: string;
  ns: string;
  netnsPath: string;
  containerId: string;
  ip: string;
  nicDevice: number;
}

interface DemoNode {
  name: string;
  instanceId: string;
  primaryIp: string;
  agent: Agent;
  ns: string;
  dir: string;
  cniConfDir: string;
  socket: string;
  delSpoolDir: string;
  cniBin: string;
}

/** Runs the whole demo; resolves true when every connectivity check passed. */
export async function runDemo(opts: DemoOptions = {}): Promise<boolean> {
  const out = opts.out ?? ((l: string) => console.log(l));
  const nodeCount = opts.nodes ?? DEMO_DEFAULTS.nodes;
  const podsPerNode = opts.podsPerNode ?? DEMO_DEFAULTS.podsPerNode;
  const cloud = opts.cloud ?? 'aws';
  const type = opts.instanceType ?? defaultInstanceType(cloud);
  const problem = demoOptionsProblem({ nodes: nodeCount, podsPerNode, instanceType: type }, (await CLOUDS[cloud].lab()).demoNodeShapes);
  if (problem) throw new VpcnetError('USAGE', problem);
  const work = mkdtempSync(join(tmpdir(), 'vpcnet-demo-'));
  const logFile = join(work, 'agents.log');
  const steps = 6;
  let step = 0;
  const say = (text: string): void => out(`[${++step}/${steps}] ${text}`);
  const check = (): void => {
    if (opts.signal?.aborted) throw new DemoInterrupted();
  };
  /** Waits for `p` but gives up at once when the demo is interrupted (cleanup follows). */
  const interruptible = <T>(p: Promise<T>): Promise<T> => abortable(p, opts.signal);

  // The emulator and its lab binding come through the registry.
  const sim = await simulatedCloud(cloud, nodeCount, type, work);
  let lab: Lab | undefined;
  let cloudLab: CloudLab | undefined;
  let logStream: ReturnType<typeof createWriteStream> | undefined;
  const nodes: DemoNode[] = [];
  const pods: DemoPod[] = [];
  const servers: EchoServer[] = [];
  let ok = false;
  let keptFile: string | undefined;
  try {
    check();
    const scenario = await interruptible(sim.start());
    say(scenario.description);

    lab = Lab.create(opts.prefix ? { prefix: opts.prefix } : { basePrefix: 'vpdemo' });
    cloudLab = new CloudLab({ lab, cloud: sim.labCloud });
    scenario.instanceIds.forEach((id, i) => cloudLab!.addInstance(`node${i + 1}`, id));
    await interruptible(cloudLab.start());
    out(`      lab namespaces ${lab.prefix}-*: fabric (the VPC router, source/destination check), inet (${INTERNET_IP}), node1..node${nodeCount}`);
    check();

    say(`starting one vpcnet agent per node (${sim.poolWords}, CNI socket, conflist)`);
    logStream = createWriteStream(logFile);
    const logger = createLogger({ level: 'info', destination: logStream });
    const started = Date.now();
    for (const [i, instanceId] of scenario.instanceIds.entries()) {
      const name = `node${i + 1}`;
      const dir = join(work, name);
      const config = configSchema.parse({
        clusterName: 'demo',
        nodeName: name,
        apiListen: '127.0.0.1:0',
        metricsListen: '127.0.0.1:0',
        provider: sim.provider(instanceId),
        datapath: { mtu: sim.mtu, nodeNetns: lab.node(name).netnsPath },
        paths: { socket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool'), checkpoint: join(dir, 'state', 'checkpoint.json'), cniBinDir: join(dir, 'bin'), cniConfDir: join(dir, 'net.d') },
      });
      const agent = new Agent(config, { logger: logger.child({ node: name }), ...(sim.credentials ? { credentials: sim.credentials } : {}) });
      nodes.push({ name, instanceId, primaryIp: '', agent, ns: lab.node(name).ns, dir, cniConfDir: config.paths.cniConfDir, socket: config.paths.socket, delSpoolDir: config.paths.delSpoolDir, cniBin: join(config.paths.cniBinDir, 'vpcnet') });
      await interruptible(agent.start());
    }
    await waitFor(() => nodes.every((n) => n.agent.status().installed), 30_000, opts.signal);
    await interruptible(cloudLab.sync());
    for (const n of nodes) n.primaryIp = n.agent.status().node?.primaryIp ?? '';
    const calls = sim.calls();
    out(`      all agents ready in ${Date.now() - started} ms; ${sim.apiName} calls: ${Object.entries(calls).map(([a, c]) => `${a} ${c}`).join(', ')}`);
    for (const n of nodes) {
      const ranges = (n.agent.status().pool?.nics ?? []).flatMap((x) => x.blocks.filter((b) => b.kind === 'range').map((b) => b.cidr));
      if (ranges.length) out(`      ${n.name} pod range ${ranges.join(', ')} (${sim.rangeWords})`);
    }
    check();

    say(`creating ${podsPerNode} pods per node through the CNI executable (ADD, as a container runtime does)${sim.apiName === 'Compute' ? '; no cloud call per pod' : ''}`);
    const addTimes: number[] = [];
    for (const n of nodes) {
      for (let k = 1; k <= podsPerNode; k++) {
        const name = `${n.name}-pod${k}`;
        const netnsPath = lab.addPod(name);
        const containerId = `demo${n.name}pod${k}`;
        const t0 = process.hrtime.bigint();
        const res = await cni(n, 'ADD', containerId, netnsPath, opts.signal);
        addTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.code !== 0) throw new Error(`ADD ${name} failed: ${describeCniFailure(res)}`);
        const ip = ((JSON.parse(res.stdout) as { ips: Array<{ address: string }> }).ips[0]?.address ?? '').split('/')[0]!;
        const alloc = n.agent.poolManager.pool.get({ containerId, ifname: 'eth0' });
        pods.push({ name, node: n.name, ns: lab.podNs(name), netnsPath, containerId, ip, nicDevice: alloc?.deviceIndex ?? -1 });
      }
    }
    await interruptible(cloudLab.sync());
    addTimes.sort((a, b) => a - b);
    out(
      `      ${pods.length} pods networked; ADD median ${addTimes[Math.floor(addTimes.length / 2)]!.toFixed(1)} ms here, where the emulator, ` +
        'the lab and both agents share one process (`npm run bench:cni` measures CNI latency on its own)',
    );
    out(table([['POD', 'NODE', 'IP', 'NIC'], ...pods.map((p) => [p.name, p.node, p.ip, `eth${p.nicDevice}`])]));
    check();

    say('pool state per node (what `vpcnet status` shows)');
    for (const n of nodes) out(renderStatus(n.name, n.agent.status()));
    check();

    say('connectivity matrix (TCP; the far end reports the source address it sees)');
    const targets = [...pods.filter((p) => p.nicDevice === 0).slice(0, 1), ...pods.filter((p) => p.nicDevice > 0).slice(0, 1)];
    for (const node of nodes) {
      const pick = pods.find((p) => p.node !== node.name && p.nicDevice === 0);
      if (pick && !targets.includes(pick)) targets.push(pick);
    }
    const echoNs = [...targets.map((t) => t.ns), lab.internetNs, ...nodes.map((n) => lab!.node(n.name).ns)];
    servers.push(...(await interruptible(Promise.all(echoNs.map((ns) => startEcho(ns, ECHO_PORT))))));
    const rows: string[][] = [['FROM', 'TO', 'RESULT', 'SOURCE SEEN', 'EXPECTED']];
    let allPassed = true;
    const sources = [pods.find((p) => p.node === 'node1' && p.nicDevice === 0), pods.find((p) => p.node === 'node1' && p.nicDevice > 0)].filter(
      (p): p is DemoPod => p !== undefined,
    );
    for (const src of sources) {
      const srcNode = nodes.find((n) => n.name === src.node)!;
      const checks: Array<{ to: string; host: string; expect: string; why: string }> = [];
      for (const t of targets.filter((t) => t.node !== src.node)) checks.push({ to: `${t.name} (eth${t.nicDevice})`, host: t.ip, expect: src.ip, why: 'pod IP, no NAT' });
      checks.push({ to: `${srcNode.name} (own node)`, host: srcNode.primaryIp, expect: src.ip, why: 'pod IP' });
      checks.push({ to: `internet ${INTERNET_IP}`, host: INTERNET_IP, expect: srcNode.primaryIp, why: 'node IP (SNAT)' });
      for (const c of checks) {
        const seen = await interruptible(echoFrom(src.ns, c.host, ECHO_PORT, 3000));
        const pass = seen === c.expect;
        allPassed &&= pass;
        rows.push([`${src.name} ${src.ip} (eth${src.nicDevice})`, c.to, pass ? 'ok' : 'FAIL', seen, `${c.expect} ${c.why}`]);
      }
    }
    out(table(rows));
    const drops = lab.fabricDrops();
    out(`      fabric drops so far: source/destination check ${drops.srcdst}, internet gateway ${drops.igw}`);

    for (const s of servers.splice(0)) s.stop();
    let teardownSignal = opts.signal;
    if (opts.keep) {
      keptFile = writeKeptLab(keptLabOf(cloud, lab.prefix, work, nodes), opts.keptLabDir);
      out(keptLabRecipe(readKeptLab(keptFile)));
      await untilAborted(opts.signal);
      out('stopping the kept lab...');
      // Stopping a kept lab is its normal end: the pods are deleted as in any run.
      teardownSignal = undefined;
    }
    say('teardown: DEL every pod through the CNI executable, stop the agents, delete the namespaces');
    for (const p of pods) {
      const n = nodes.find((x) => x.name === p.node)!;
      const res = await cni(n, 'DEL', p.containerId, p.netnsPath, teardownSignal);
      if (res.code !== 0) throw new Error(`DEL ${p.name} failed: ${describeCniFailure(res)}`);
    }
    out(`      ${pods.length} pods deleted; addresses back in the pools (cooling down): ${nodes.map((n) => `${n.name} ${n.agent.status().pool?.counts.cooldown ?? 0}`).join(', ')}`);
    out(allPassed ? 'demo: every connectivity check passed' : 'demo: some connectivity checks FAILED (see the table above)');
    ok = allPassed;
    return ok;
  } finally {
    for (const s of servers) s.stop();
    for (const n of nodes) await n.agent.stop().catch(() => undefined);
    cloudLab?.stop();
    lab?.destroy();
    // A kept lab may hold namespaces the user made with its prefix (the recipe's own pod).
    if (opts.keep && lab) Lab.cleanupStale(lab.prefix);
    await sim.stop().catch(() => undefined);
    if (keptFile) rmSync(keptFile, { force: true });
    if (logStream) await new Promise<void>((resolve) => logStream!.end(() => resolve()));
    // Interrupted on purpose is not a failure: nothing is kept then (a kept lab ends that way).
    keepLogsOnFailure(work, logFile, ok || (opts.signal?.aborted === true && !opts.keep), out);
  }
}

/** On success the work directory goes; on failure only the agents' log stays, and its path is said. */
export function keepLogsOnFailure(work: string, logFile: string, ok: boolean, out: (line: string) => void): void {
  const hasLog = existsSync(logFile) && statSync(logFile).size > 0;
  if (ok || !hasLog) {
    rmSync(work, { recursive: true, force: true });
    return;
  }
  for (const entry of readdirSync(work)) if (join(work, entry) !== logFile) rmSync(join(work, entry), { recursive: true, force: true });
  out(`agents' logs kept: ${logFile}`);
}

/** A CNI error result as one line: code, meaning and message (never the raw JSON). */
export function describeCniFailure(res: { code: number; stdout: string }): string {
  let parsed: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
  try {
    parsed = JSON.parse(res.stdout) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed.msg === 'string') {
    const code = typeof parsed.code === 'number' ? parsed.code : undefined;
    const detail = typeof parsed.details === 'string' && parsed.details ? ` (${parsed.details})` : '';
    return `${parsed.msg}${detail}${code === undefined ? '' : ` [CNI error ${code}${CNI_MEANING[code] ? `: ${CNI_MEANING[code]}` : ''}]`}`;
  }
  return res.stdout.trim() ? `exit status ${res.code}, unexpected output` : `exit status ${res.code}, no output`;
}

const CNI_MEANING: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field',
  3: 'unknown container',
  4: 'invalid environment',
  5: 'I/O failure',
  6: 'decode failure',
  7: 'invalid network config',
  11: 'try again later',
  50: 'plugin not available',
  999: 'internal error',
};

interface SimulatedCloud {
  apiName: string;
  poolWords: string;
  rangeWords: string;
  mtu: number;
  labCloud: LabCloud;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  start(): Promise<{ description: string; instanceIds: string[] }>;
  provider(instanceId: string): Record<string, unknown>;
  calls(): Record<string, number>;
  stop(): Promise<void>;
}

async function simulatedCloud(cloud: DemoCloud, nodeCount: number, type: string, work: string): Promise<SimulatedCloud> {
  if (cloud === 'azure') return azureCloud(nodeCount, type, work);
  if (cloud === 'gcp') {
    const emulator = new (await CLOUDS.gcp.emulator()).GcpEmulator({ seed: 42, project: 'vpcnet-demo', operationDelayMs: 200 });
    const { labCloud } = await CLOUDS.gcp.lab();
    const zone = 'us-central1-a';
    return {
      apiName: 'Compute',
      poolWords: 'one alias IP range per node from the secondary range "pods"',
      rangeWords: 'alias IP range on nic0',
      mtu: 1460,
      labCloud: labCloud(emulator),
      start: async () => {
        await emulator.start({ port: 0 });
        const r = emulator.applyScenario({
          subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/14' }] }],
          instances: [{ name: 'node', zone, machineType: type, subnet: 'nodes', count: nodeCount }],
        });
        return {
          description: `GCE emulator at ${emulator.endpoint}: subnetwork 10.128.0.0/20 with secondary range pods=10.4.0.0/14, ${nodeCount} instances`,
          instanceIds: r.instances.map((i) => `${i.zone}/${i.name}`),
        };
      },
      provider: (id) => ({ name: 'gcp', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.metadataEndpoint(zone, id.split('/')[1] ?? '') }),
      calls: () => emulator.stats().calls,
      stop: () => emulator.stop(),
    };
  }
  const emulator = new (await CLOUDS.aws.emulator()).AwsEmulator({ seed: 42 });
  const { labCloud } = await CLOUDS.aws.lab();
  return {
    apiName: 'EC2',
    poolWords: 'warm pool from the EC2 API',
    rangeWords: '',
    mtu: 9001,
    labCloud: labCloud(emulator),
    credentials: CREDENTIALS,
    start: async () => {
      const endpoint = await emulator.start({ port: 0 });
      const scenario = emulator.applyScenario({
        region: 'us-west-2',
        vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/20', az: 'us-west-2a' }] }],
        instances: [{ instanceType: type, subnet: '10.0.0.0/20', count: nodeCount }],
      });
      return { description: `EC2 emulator at ${endpoint}: VPC 10.0.0.0/16, ${nodeCount} x ${type}`, instanceIds: scenario.instanceIds };
    },
    provider: (instanceId) => ({ name: 'aws', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' }),
    calls: () => emulator.stats().calls,
    stop: () => emulator.stop(),
  };
}

/** Azure: ARM over TLS with the emulator's CA, agents authenticated by workload identity (a token file), IMDS per VM. */
async function azureCloud(nodeCount: number, size: string, work: string): Promise<SimulatedCloud> {
  const azure = CLOUDS.azure;
  const emulator = new (await azure.emulator()).AzureEmulator({ seed: 42, operationMs: 300 });
  const { labCloud } = await azure.lab();
  const tokenFile = join(work, 'sa-token');
  writeFileSync(tokenFile, 'demo-service-account-token');
  let endpoint = '';
  const names = new Map<string, string>();
  return {
    apiName: 'ARM',
    poolWords: 'warm pool of secondary ipConfigurations from the ARM API',
    rangeWords: '',
    mtu: 1500,
    labCloud: labCloud(emulator),
    async start() {
      endpoint = await emulator.start({ port: 0 });
      const res = emulator.applyScenario({
        resourceGroup: 'vpcnet-demo',
        location: 'westeurope',
        vnets: [{ name: 'demo-vnet', addressPrefixes: ['10.0.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: '10.0.0.0/20' }] }],
        vms: Array.from({ length: nodeCount }, (_, i) => ({ name: `demo-vm${i + 1}`, size, subnet: 'demo-vnet/nodes' })),
      });
      for (const vm of res.vms) names.set(vm.id, vm.name);
      return { description: `Azure emulator at ${endpoint} (TLS, CA ${emulator.tls.caPath}): VNet 10.0.0.0/16, ${nodeCount} x ${size}`, instanceIds: res.vms.map((v) => v.id) };
    },
    provider: (instanceId) => ({
      name: 'azure',
      apiEndpoint: endpoint,
      metadataEndpoint: emulator.imdsUrlFor(names.get(instanceId) ?? ''),
      caFile: emulator.tls.caPath,
      identity: 'workload',
      tenantId: emulator.state.tenantId,
      workloadClientId: '00000000-0000-4000-8000-00000000de30',
      federatedTokenFile: tokenFile,
      authorityHost: endpoint,
      lroPollMs: 50,
    }),
    calls: () => emulator.stats().calls,
    // The emulator's certificate directory holds its private keys: it goes with the emulator.
    stop: async () => {
      try {
        await emulator.stop();
      } finally {
        rmSync(emulator.tls.dir, { recursive: true, force: true });
      }
    },
  };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new DemoInterrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DemoInterrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The network config the forwarder gets, as the node's conflist gives it: each demo agent has its own socket and DEL spool. */
function netconfOf(node: DemoNode): string {
  return JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: node.socket, delSpoolDir: node.delSpoolDir });
}

function keptLabOf(cloud: string, prefix: string, work: string, nodes: DemoNode[]): KeptLab {
  return {
    pid: process.pid,
    prefix,
    cloud,
    work,
    nodes: nodes.map((n) => {
      const netconf = join(n.dir, 'vpcnet.conf');
      writeFileSync(netconf, `${netconfOf(n)}\n`);
      return { name: n.name, ns: n.ns, api: `127.0.0.1:${n.agent.ports().api ?? 0}`, cniBinDir: dirname(n.cniBin), cniConfDir: n.cniConfDir, netconf };
    }),
  };
}

function readKeptLab(file: string): KeptLab {
  return JSON.parse(readFileSync(file, 'utf8')) as KeptLab;
}

/** Resolves once the signal aborts (at once without a signal: nothing could stop the lab later). */
function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function cni(node: DemoNode, command: string, containerId: string, netns: string, signal?: AbortSignal): Promise<{ code: number; stdout: string }> {
  const conf = netconfOf(node);
  return run(node.cniBin, [], {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: join(node.cniBin, '..'),
    CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${containerId}`,
  }, conf, signal);
}

/** Runs a command; with `env` it gets exactly that environment (as a CNI runtime does). */
function run(cmd: string, args: string[], env?: Record<string, string>, stdin = '', signal?: AbortSignal): Promise<{ code: number; stdout: string }> {
  if (signal?.aborted) return Promise.reject(new DemoInterrupted());
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...(env ? { env } : {}), stdio: ['pipe', 'pipe', 'ignore'] });
    // Ctrl-C while the runtime waits for an ADD: stop waiting now (the agent rolls back).
    const onAbort = (): void => {
      child.kill('SIGKILL');
      reject(new DemoInterrupted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('close', () => signal?.removeEventListener('abort', onAbort));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
    child.stdin.end(stdin);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (signal?.aborted) throw new DemoInterrupted();
    if (Date.now() > end) throw new Error(`not ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}
