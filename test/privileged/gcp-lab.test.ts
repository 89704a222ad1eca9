// GCE in the lab (root): two nodes whose alias ranges the emulator assigns, the fabric routing
// each range to its node. Pods reach each other without NAT, their node, the internet netns
// SNATed to the node address; a spoofed source is dropped by the fabric (GCE anti-spoofing);
// an ip-masq-agent file change takes effect within its resyncInterval and a bad file changes
// nothing. Every namespace is removed at the end, also on failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GcpEmulator } from '../../providers/gcp/emulator/index.ts';
import { labCloud } from '../../providers/gcp/lab-binding.ts';
import { Agent } from '../../src/agent/agent.ts';
import { configSchema } from '../../src/config/schema.ts';
import { CloudLab } from '../../src/lab/cloud-lab.ts';
import { INTERNET_IP, Lab } from '../../src/lab/lab.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { installBuiltForwarder, runForwarder } from '../integration/cni/forwarder-harness.ts';
import { dumpNs, echoFrom, requireRoot, startEcho, type Server } from './helpers/lab-helpers.ts';

const PORT = 7777;
const ZONE = 'us-central1-a';

describe('GCE lab: alias ranges routed by the fabric, ip-masq-agent semantics', () => {
  let emu: GcpEmulator;
  let lab: Lab | undefined;
  let cloudLab: CloudLab | undefined;
  let dir = '';
  let forwarder = '';
  const agents: Agent[] = [];
  const servers: Server[] = [];
  const pods: Record<string, { ns: string; ip: string }> = {};
  let masqFile = '';
  let node1Ip = '';

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'vc10-lab-'));
    forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
    masqFile = join(dir, 'ip-masq-agent');
    writeFileSync(masqFile, 'resyncInterval: 1s\n'); // ip-masq-agent defaults, re-read every second
    emu = new GcpEmulator({ project: 'vc10-lab', operationDelayMs: 50 });
    const r = emu.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/14' }] }],
      instances: [{ name: 'node', zone: ZONE, subnet: 'nodes', count: 2 }],
    });
    await emu.start();
    lab = Lab.create({ basePrefix: 'vc10' });
    cloudLab = new CloudLab({ lab, cloud: labCloud(emu) });
    r.instances.forEach((i, k) => cloudLab!.addInstance(`n${k + 1}`, `${i.zone}/${i.name}`));
    await cloudLab.start();
    for (const [k, inst] of r.instances.entries()) {
      const name = `n${k + 1}`;
      const d = join(dir, name);
      const agent = new Agent(
        configSchema.parse({
          clusterName: 'vc10',
          nodeName: name,
          apiListen: '127.0.0.1:0',
          metricsListen: '127.0.0.1:0',
          provider: { name: 'gcp', apiEndpoint: emu.endpoint, metadataEndpoint: emu.metadataEndpoint(inst.zone, inst.name) },
          masquerade: k === 0 ? { ipMasqAgentConfigFile: masqFile } : {},
          datapath: { nodeNetns: lab.node(name).netnsPath },
          reconcile: { enabled: false },
          paths: { socket: join(d, 'cni.sock'), delSpoolDir: join(d, 'del-spool'), checkpoint: join(d, 'checkpoint.json'), cniBinDir: join(d, 'bin'), cniConfDir: join(d, 'net.d') },
        }),
        { logger: silentLogger() },
      );
      agents.push(agent);
      await agent.start();
      const netns = lab.addPod(`${name}-p1`);
      const res = await runForwarder(
        forwarder,
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `vc10${name}p1`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: dir },
        JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(d, 'cni.sock'), delSpoolDir: join(d, 'del-spool') }),
      );
      expect(res.code).toBe(0);
      pods[name] = { ns: lab.podNs(`${name}-p1`), ip: ((res.json?.ips as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '' };
    }
    await cloudLab.sync();
    node1Ip = agents[0]!.status().node!.primaryIp;
    for (const ns of [pods.n2!.ns, lab.internetNs, lab.node('n1').ns]) servers.push(await startEcho(ns, PORT));
  }, 90_000);

  afterAll(async () => {
    for (const s of servers) s.stop();
    for (const a of agents) await a.stop().catch(() => undefined);
    cloudLab?.stop();
    lab?.destroy();
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pods take addresses of their node alias range; pod to pod without NAT, to the node, to the internet SNATed', async () => {
    const range = (n: string): string => emu.state.instance(ZONE, n).nics[0]!.aliasIpRanges[0]!.ipCidrRange;
    expect(pods.n1!.ip.startsWith(range('node-0').split('.').slice(0, 3).join('.'))).toBe(true);
    expect(pods.n2!.ip.startsWith(range('node-1').split('.').slice(0, 3).join('.'))).toBe(true);
    expect(await echoFrom(pods.n1!.ns, pods.n2!.ip, PORT)).toBe(pods.n1!.ip);
    expect(await echoFrom(pods.n1!.ns, node1Ip, PORT)).toBe(pods.n1!.ip);
    expect(await echoFrom(pods.n1!.ns, INTERNET_IP, PORT)).toBe(node1Ip);
  });

  it('a packet from an address the NIC does not own is dropped by the fabric', async () => {
    const spoofed = '10.4.200.7'; // in the secondary range, not in node-0's alias range
    lab!.execSync(pods.n1!.ns, 'ip', ['addr', 'add', `${spoofed}/32`, 'dev', 'eth0']);
    const before = lab!.fabricDrops().srcdst;
    expect(await connectFrom(pods.n1!.ns, spoofed, pods.n2!.ip, PORT)).toBe('unreachable');
    expect(lab!.fabricDrops().srcdst).toBeGreaterThan(before);
    lab!.execSync(pods.n1!.ns, 'ip', ['addr', 'del', `${spoofed}/32`, 'dev', 'eth0']);
  });

  it('an ip-masq-agent file change takes effect within resyncInterval; a bad file keeps the rules', async () => {
    // the subnet only: traffic to other nodes' pod ranges is now masqueraded
    writeFileSync(masqFile, 'nonMasqueradeCIDRs: [10.128.0.0/20]\nresyncInterval: 1s\n');
    await until(async () => (await echoFrom(pods.n1!.ns, pods.n2!.ip, PORT)) === node1Ip, 10_000);
    expect(agents[0]!.status().ipMasqAgent?.state).toBe('applied');
    const rules = dumpNs(lab!, lab!.node('n1').ns);

    writeFileSync(masqFile, 'nonMasqueradeCIDRs: [10.128.0.0/33]\nresyncInterval: 1s\n');
    await until(() => Promise.resolve(agents[0]!.status().ipMasqAgent?.state === 'invalid'), 10_000);
    expect(agents[0]!.status().ipMasqAgent?.error).toContain('10.128.0.0/33');
    expect(dumpNs(lab!, lab!.node('n1').ns)).toBe(rules);
    expect(await echoFrom(pods.n1!.ns, pods.n2!.ip, PORT)).toBe(node1Ip);
  });
});

describe('GCE lab, route mode: a route per node, delivered only to instances with canIpForward', () => {
  let emu: GcpEmulator;
  let lab: Lab | undefined;
  let cloudLab: CloudLab | undefined;
  let dir = '';
  const agents: Agent[] = [];
  const servers: Server[] = [];
  const pods: Record<string, { ns: string; ip: string }> = {};

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'vc10-route-'));
    const forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
    emu = new GcpEmulator({ project: 'vc10-route', operationDelayMs: 50 });
    const r = emu.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20' }],
      instances: [{ name: 'node', zone: ZONE, subnet: 'nodes', count: 2 }],
    });
    await emu.start();
    lab = Lab.create({ basePrefix: 'vc10' });
    cloudLab = new CloudLab({ lab, cloud: labCloud(emu) });
    r.instances.forEach((i, k) => cloudLab!.addInstance(`n${k + 1}`, `${i.zone}/${i.name}`));
    await cloudLab.start();
    for (const [k, inst] of r.instances.entries()) {
      const name = `n${k + 1}`;
      const d = join(dir, name);
      const agent = new Agent(
        configSchema.parse({
          clusterName: 'vc10',
          nodeName: name,
          apiListen: '127.0.0.1:0',
          metricsListen: '127.0.0.1:0',
          provider: { name: 'gcp', apiEndpoint: emu.endpoint, metadataEndpoint: emu.metadataEndpoint(inst.zone, inst.name), rangeMode: 'route', clusterCidr: '10.96.0.0/16' },
          datapath: { nodeNetns: lab.node(name).netnsPath },
          reconcile: { enabled: false },
          paths: { socket: join(d, 'cni.sock'), delSpoolDir: join(d, 'del-spool'), checkpoint: join(d, 'checkpoint.json'), cniBinDir: join(d, 'bin'), cniConfDir: join(d, 'net.d') },
        }),
        { logger: silentLogger() },
      );
      agents.push(agent);
      await agent.start();
      const netns = lab.addPod(`${name}-p1`);
      const res = await runForwarder(
        forwarder,
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `vc10${name}p1`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: dir },
        JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(d, 'cni.sock'), delSpoolDir: join(d, 'del-spool') }),
      );
      expect(res.code).toBe(0);
      pods[name] = { ns: lab.podNs(`${name}-p1`), ip: ((res.json?.ips as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '' };
    }
    await cloudLab.sync();
    servers.push(await startEcho(pods.n2!.ns, PORT));
  }, 90_000);

  afterAll(async () => {
    for (const s of servers) s.stop();
    for (const a of agents) await a.stop().catch(() => undefined);
    cloudLab?.stop();
    lab?.destroy();
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without canIpForward the routed ranges carry nothing; with it, pods reach each other without NAT', async () => {
    expect(emu.state.routes.size).toBe(2);
    // two different /24s of the cluster CIDR, one per node
    const ranges = [...emu.state.routes.values()].map((r) => r.destRange);
    expect(new Set(ranges).size).toBe(2);
    for (const r of ranges) expect(r).toMatch(/^10\.96\.\d+\.0\/24$/);
    expect(await echoFrom(pods.n1!.ns, pods.n2!.ip, PORT)).toBe('unreachable');
    // the agent says why (vpcnet status / the local API)
    expect(agents[0]!.status().providerConditions?.map((c) => c.type)).toEqual(['NextHopCannotIpForward']);
    emu.state.setCanIpForward(ZONE, 'node-0', true);
    emu.state.setCanIpForward(ZONE, 'node-1', true);
    await cloudLab!.sync();
    expect(await echoFrom(pods.n1!.ns, pods.n2!.ip, PORT)).toBe(pods.n1!.ip);
  });
});

/** A TCP connect from `ns` bound to `source`; the reply text, or 'unreachable'. */
function connectFrom(ns: string, source: string, host: string, port: number): Promise<string> {
  const script = `const s=require('net').connect({host:${JSON.stringify(host)},port:${port},localAddress:${JSON.stringify(source)}});let o='';s.setTimeout(1500,()=>{s.destroy();process.exit(1)});s.on('data',d=>o+=d);s.on('end',()=>{console.log(o.trim());process.exit(0)});s.on('error',()=>process.exit(1));`;
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve(code === 0 ? out.trim() : 'unreachable'));
  });
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
