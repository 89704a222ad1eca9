// The demo: a simulated VPC on this host (EC2 emulator + lab namespaces), one vpcnet agent per
// node, pods created through the real CNI executable, then the pool table and a connectivity
// matrix; everything is torn down at the end, also on Ctrl-C or failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOUDS } from '../../providers/registry.ts';
import { Agent } from '../agent/agent.ts';
import { table, renderStatus } from '../cli/status-table.ts';
import { configSchema } from '../config/schema.ts';
import { CloudLab } from '../lab/cloud-lab.ts';
import { echoFrom, startEcho, type EchoServer } from '../lab/echo-probe.ts';
import { INTERNET_IP, Lab } from '../lab/lab.ts';
import { createLogger } from '../util/logger.ts';

const ECHO_PORT = 7777;
const CREDENTIALS = { accessKeyId: 'AKIDDEMO', secretAccessKey: 'demo-secret' };

export interface DemoOptions {
  nodes?: number;
  podsPerNode?: number;
  instanceType?: string;
  /** Where progress and results go. */
  out?: (line: string) => void;
  signal?: AbortSignal;
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
  socket: string;
  cniBin: string;
}

/** Runs the whole demo; resolves true when every connectivity check passed. */
export async function runDemo(opts: DemoOptions = {}): Promise<boolean> {
  const out = opts.out ?? ((l: string) => console.log(l));
  const nodeCount = opts.nodes ?? 2;
  const podsPerNode = opts.podsPerNode ?? 6;
  const type = opts.instanceType ?? 't3.medium';
  const work = mkdtempSync(join(tmpdir(), 'vpcnet-demo-'));
  const logFile = join(work, 'agents.log');
  const steps = 6;
  let step = 0;
  const say = (text: string): void => out(`[${++step}/${steps}] ${text}`);
  const check = (): void => {
    if (opts.signal?.aborted) throw new Error('interrupted');
  };

  // The demo's VPC is AWS-shaped; the emulator and its lab binding come through the registry.
  const aws = CLOUDS.aws;
  const emulator = new (await aws.emulator()).AwsEmulator({ seed: 42 });
  const { labCloud } = await aws.lab();
  let lab: Lab | undefined;
  let cloudLab: CloudLab | undefined;
  const nodes: DemoNode[] = [];
  const pods: DemoPod[] = [];
  const servers: EchoServer[] = [];
  try {
    const endpoint = await emulator.start({ port: 0 });
    const scenario = emulator.applyScenario({
      region: 'us-west-2',
      vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: type, subnet: '10.0.0.0/20', count: nodeCount }],
    });
    say(`EC2 emulator at ${endpoint}: VPC 10.0.0.0/16, ${nodeCount} x ${type}`);

    lab = Lab.create({ basePrefix: 'vpdemo' });
    cloudLab = new CloudLab({ lab, cloud: labCloud(emulator) });
    scenario.instanceIds.forEach((id, i) => cloudLab!.addInstance(`node${i + 1}`, id));
    await cloudLab.start();
    out(`      lab namespaces ${lab.prefix}-*: fabric (the VPC router, source/destination check), inet (${INTERNET_IP}), node1..node${nodeCount}`);
    check();

    say('starting one vpcnet agent per node (warm pool from the EC2 API, CNI socket, conflist)');
    const logger = createLogger({ level: 'info', destination: (await import('node:fs')).createWriteStream(logFile) });
    const started = Date.now();
    for (const [i, instanceId] of scenario.instanceIds.entries()) {
      const name = `node${i + 1}`;
      const dir = join(work, name);
      const config = configSchema.parse({
        clusterName: 'demo',
        nodeName: name,
        apiListen: '127.0.0.1:0',
        metricsListen: '127.0.0.1:0',
        provider: { name: 'aws', apiEndpoint: endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
        datapath: { mtu: 9001, nodeNetns: lab.node(name).netnsPath },
        paths: { socket: join(dir, 'run', 'cni.sock'), checkpoint: join(dir, 'state', 'checkpoint.json'), cniBinDir: join(dir, 'bin'), cniConfDir: join(dir, 'net.d') },
      });
      const agent = new Agent(config, { logger: logger.child({ node: name }), credentials: CREDENTIALS });
      nodes.push({ name, instanceId, primaryIp: '', agent, socket: config.paths.socket, cniBin: join(config.paths.cniBinDir, 'vpcnet') });
      await agent.start();
    }
    await waitFor(() => nodes.every((n) => n.agent.status().installed), 30_000, opts.signal);
    await cloudLab.sync();
    for (const n of nodes) n.primaryIp = n.agent.status().node?.primaryIp ?? '';
    const calls = emulator.stats().calls;
    out(`      all agents ready in ${Date.now() - started} ms; EC2 calls: ${Object.entries(calls).map(([a, c]) => `${a} ${c}`).join(', ')}`);
    out(`      agent logs: ${logFile}`);
    check();

    say(`creating ${podsPerNode} pods per node through the CNI executable (ADD, as a container runtime does)`);
    const addTimes: number[] = [];
    for (const n of nodes) {
      for (let k = 1; k <= podsPerNode; k++) {
        const name = `${n.name}-pod${k}`;
        const netnsPath = lab.addPod(name);
        const containerId = `demo${n.name}pod${k}`;
        const t0 = process.hrtime.bigint();
        const res = await cni(n, 'ADD', containerId, netnsPath);
        addTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.code !== 0) throw new Error(`ADD ${name} failed: ${res.stdout.trim()}`);
        const ip = ((JSON.parse(res.stdout) as { ips: Array<{ address: string }> }).ips[0]?.address ?? '').split('/')[0]!;
        const alloc = n.agent.poolManager.pool.get({ containerId, ifname: 'eth0' });
        pods.push({ name, node: n.name, ns: lab.podNs(name), netnsPath, containerId, ip, nicDevice: alloc?.deviceIndex ?? -1 });
      }
    }
    await cloudLab.sync();
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
    servers.push(...(await Promise.all(echoNs.map((ns) => startEcho(ns, ECHO_PORT)))));
    const rows: string[][] = [['FROM', 'TO', 'RESULT', 'SOURCE SEEN', 'EXPECTED']];
    let ok = true;
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
        const seen = await echoFrom(src.ns, c.host, ECHO_PORT, 3000);
        const pass = seen === c.expect;
        ok &&= pass;
        rows.push([`${src.name} ${src.ip} (eth${src.nicDevice})`, c.to, pass ? 'ok' : 'FAIL', seen, `${c.expect} ${c.why}`]);
      }
    }
    out(table(rows));
    const drops = lab.fabricDrops();
    out(`      fabric drops so far: source/destination check ${drops.srcdst}, internet gateway ${drops.igw}`);

    say('teardown: DEL every pod through the CNI executable, stop the agents, delete the namespaces');
    for (const s of servers.splice(0)) s.stop();
    for (const p of pods) {
      const n = nodes.find((x) => x.name === p.node)!;
      const res = await cni(n, 'DEL', p.containerId, p.netnsPath);
      if (res.code !== 0) throw new Error(`DEL ${p.name} failed: ${res.stdout.trim()}`);
    }
    out(`      ${pods.length} pods deleted; addresses back in the pools (cooling down): ${nodes.map((n) => `${n.name} ${n.agent.status().pool?.counts.cooldown ?? 0}`).join(', ')}`);
    out(ok ? 'demo: every connectivity check passed' : 'demo: some connectivity checks FAILED (see the table above)');
    return ok;
  } finally {
    for (const s of servers) s.stop();
    for (const n of nodes) await n.agent.stop().catch(() => undefined);
    cloudLab?.stop();
    lab?.destroy();
    await emulator.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

function cni(node: DemoNode, command: string, containerId: string, netns: string): Promise<{ code: number; stdout: string }> {
  const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet' });
  return run(node.cniBin, [], {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: join(node.cniBin, '..'),
    CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${containerId}`,
    // The runtime of a real node uses the compiled-in socket; the demo runs two agents.
    VPCNET_AGENT_SOCKET: node.socket,
  }, conf);
}

/** Runs a command; with `env` it gets exactly that environment (as a CNI runtime does). */
function run(cmd: string, args: string[], env?: Record<string, string>, stdin = ''): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...(env ? { env } : {}), stdio: ['pipe', 'pipe', 'ignore'] });
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
    if (signal?.aborted) throw new Error('interrupted');
    if (Date.now() > end) throw new Error(`not ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}
