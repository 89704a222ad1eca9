// The real-runtime tier: Debian's podman 4.3 with its CNI backend (libcni of the containerd 1.6/1.7
// generation), runc and vfs storage, a busybox image imported from a local rootfs, running inside
// two lab nodes whose vpcnet agents network its containers against the EC2 emulator. podman is
// isolated from the host (podman-node.ts): node netns, private mount namespace, its own dirs.
// It uses the conflist the agent writes, unchanged, and the forwarder the agent installs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEmulator } from '../../../providers/aws/emulator/index.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { CloudLab } from '../../../src/lab/cloud-lab.ts';
import { labCloud } from '../../../providers/aws/lab-binding.ts';
import { INTERNET_IP, Lab, type LabNode } from '../../../src/lab/lab.ts';
import { PrometheusMetrics } from '../../../src/metrics/prometheus.ts';
import { requireRoot, startEcho, type Server } from '../helpers/lab-helpers.ts';
import { IMAGE, PodmanNode, buildBusyboxTar, requirePodman } from './podman-node.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SUBNET = '10.40.0.0/20';
const ECHO_PORT = 7300;
const tierStart = performance.now();

interface Node {
  name: string;
  lab: LabNode;
  agent: Agent;
  instanceId: string;
  primaryIp: string;
  checkpoint: string;
  podman: PodmanNode;
  /** The node netns as ip/nft show it, after the first container came and went. */
  baseline: string;
}

interface CheckpointView {
  allocations: Array<{ containerId: string; ifname: string; ip: string }>;
}

describe('podman 4.3 (CNI backend) networks containers through vpcnet', () => {
  let emulator: AwsEmulator;
  let lab: Lab;
  let cloudLab: CloudLab;
  let work: string;
  let echo: Server | undefined;
  const nodes: Node[] = [];
  const cgroupParent = `/vc8r${randomBytes(2).toString('hex')}`;

  beforeAll(async () => {
    requireRoot();
    requirePodman();
    execFileSync('bash', [join(ROOT, 'src/cni/native/build.sh')], { stdio: 'ignore' });
    execFileSync('bash', [join(ROOT, 'src/datapath/native/build.sh')], { stdio: 'ignore' });
    work = mkdtempSync(join(tmpdir(), 'vc8r-podman-'));
    const tar = buildBusyboxTar(work);
    emulator = new AwsEmulator({ seed: 8 });
    const endpoint = await emulator.start({ port: 0 });
    const scenario = emulator.applyScenario({
      region: 'us-west-2',
      vpcs: [{ cidr: '10.40.0.0/16', subnets: [{ cidr: SUBNET, az: 'us-west-2a' }] }],
      instances: [
        { instanceType: 'm5.xlarge', subnet: SUBNET },
        { instanceType: 'm5.xlarge', subnet: SUBNET },
      ],
    });
    lab = Lab.create({ basePrefix: 'vc8r' });
    cloudLab = new CloudLab({ lab, cloud: labCloud(emulator) });
    const labNodes = scenario.instanceIds.map((id, i) => cloudLab.addInstance(`node${i + 1}`, id));
    await cloudLab.start();
    for (const [i, instanceId] of scenario.instanceIds.entries()) {
      const labNode = labNodes[i]!;
      const dir = join(work, labNode.name);
      const config = configSchema.parse({
        clusterName: 'podman',
        nodeName: labNode.name,
        provider: { name: 'aws', apiEndpoint: endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
        // no cooldown: a released address is free again at once, so the pool never has to grow a NIC
        // and the node netns can be compared exactly
        pool: { prefixDelegation: false, warmIps: 3, cooldownMs: 0 },
        datapath: { mtu: 9001, nodeNetns: labNode.netnsPath },
        paths: { socket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool'), checkpoint: join(dir, 'state', 'checkpoint.json'), cniBinDir: join(dir, 'bin'), cniConfDir: join(dir, 'net.d') },
        cni: { addDeadlineMs: 20_000, chainPortmap: true },
      });
      const agent = new Agent(config, { credentials: { accessKeyId: 'AKIDPODMAN', secretAccessKey: 'podman-secret' }, noHttp: true, metrics: new PrometheusMetrics({ processMetrics: false }) });
      const podman = new PodmanNode({
        dir: join(dir, 'podman'),
        netnsPath: labNode.netnsPath,
        cniConfDir: config.paths.cniConfDir,
        cniBinDir: config.paths.cniBinDir,
        cgroupParent,
      });
      const eni0 = emulator.listEnis().find((e) => e.instanceId === instanceId && e.deviceIndex === 0)!;
      nodes.push({ name: labNode.name, lab: labNode, agent, instanceId, primaryIp: eni0.primaryIp, checkpoint: config.paths.checkpoint, podman, baseline: '' });
      await agent.start();
      await waitFor(() => agent.status().installed, 30_000, 'agent installed its conflist');
      await podman.start();
      await podman.ok(['import', tar, IMAGE]);
    }
    await cloudLab.sync();
    // The first container on each node makes what stays by design (portmap's top-level chains).
    for (const n of nodes) {
      await n.podman.ok(['run', '--rm', ...n.podman.runArgs(), '-p', '18080:8080', IMAGE, 'true']);
      n.baseline = nodeState(n);
    }
    echo = await startEcho(lab.internetNs, ECHO_PORT);
  }, 180_000);

  afterAll(async () => {
    echo?.stop();
    for (const n of nodes) await n.podman.destroy().catch(() => undefined);
    for (const n of nodes) await n.agent.stop().catch(() => undefined);
    cloudLab?.stop();
    const prefix = lab?.prefix;
    lab?.destroy();
    await emulator?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`podman tier: ${Math.round((performance.now() - tierStart) / 1000)} s`);
    if (prefix) expect(execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(`${prefix}-`))).toEqual([]);
  }, 120_000);

  /** Links, addresses, routes, rules and nft ruleset of the node netns (counters and neighbours excluded). */
  function nodeState(n: Node): string {
    const sh = (cmd: string, args: string[]): string => lab.execSync(n.lab.ns, cmd, args);
    return [
      sh('ip', ['-d', 'link', 'show']),
      sh('ip', ['-4', 'addr', 'show']),
      sh('ip', ['-4', 'route', 'show', 'table', 'all']),
      sh('ip', ['rule', 'show']),
      sh('nft', ['list', 'ruleset']).replace(/counter packets \d+ bytes \d+/g, 'counter'),
    ].join('\n----\n');
  }

  function allocations(n: Node): CheckpointView['allocations'] {
    return (JSON.parse(readFileSync(n.checkpoint, 'utf8')) as { data: CheckpointView }).data.allocations;
  }

  function cloudIps(n: Node): string[] {
    return emulator.listEnis().filter((e) => e.instanceId === n.instanceId).flatMap((e) => e.secondaryIps);
  }

  async function containerIp(n: Node, name: string): Promise<string> {
    return n.podman.ok(['inspect', '-f', '{{.NetworkSettings.Networks.vpcnet.IPAddress}}', name]);
  }

  async function runServer(n: Node, name: string, extra: string[] = []): Promise<string> {
    await n.podman.ok(['run', '-d', '--name', name, ...n.podman.runArgs(), ...extra, IMAGE, 'sh', '-c', `echo ${name} > /www/index.html; exec httpd -f -p 8080 -h /www`]);
    return containerIp(n, name);
  }

  it('a container gets an address of the emulated VPC that the cloud assigned to its node', async () => {
    const [n1] = nodes;
    const ip = await runServer(n1!, 'a1');
    expect(ip.startsWith('10.40.')).toBe(true);
    expect(cloudIps(n1!)).toContain(ip);
    expect(allocations(n1!).map((a) => a.ip)).toContain(ip);
    const inside = await n1!.podman.ok(['exec', 'a1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    expect(inside).toContain(`${ip}/32`);
    expect(await n1!.podman.ok(['exec', 'a1', 'ip', 'route'])).toContain('default via 169.254.1.1');
  }, 60_000);

  it('containers on two nodes reach each other by their VPC addresses', async () => {
    const [n1, n2] = nodes;
    const a1 = await containerIp(n1!, 'a1');
    const b1 = await runServer(n2!, 'b1');
    await cloudLab.sync();
    expect(body(await n2!.podman.ok(['exec', 'b1', 'sh', '-c', httpGet(a1, 8080)]))).toBe('a1');
    expect(body(await n1!.podman.ok(['exec', 'a1', 'sh', '-c', httpGet(b1, 8080)]))).toBe('b1');
  }, 60_000);

  it('traffic to the internet leaves SNATed to the node address', async () => {
    const [n1] = nodes;
    const seen = await n1!.podman.ok(['exec', 'a1', 'nc', '-w', '5', INTERNET_IP, String(ECHO_PORT)]);
    expect(seen).toBe(n1!.primaryIp);
  }, 60_000);

  it('-p publishes a port through the chained portmap plugin', async () => {
    const [n1, n2] = nodes;
    await runServer(n1!, 'p1', ['-p', '8081:8080']);
    // From the other node (its own netns, not a container) to node1's address.
    const got = await lab.exec(n2!.lab.ns, 'sh', ['-c', httpGet(n1!.primaryIp, 8081, '/bin/busybox nc')]);
    expect(body(got)).toBe('p1');
  }, 60_000);

  it('stop and rm clean up exactly: node netns as before, addresses back in the pool, no netns or CNI cache left', async () => {
    for (const n of nodes) {
      const names = (await n.podman.ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);
      const ips = await Promise.all(names.map((c) => containerIp(n, c)));
      for (const c of names) {
        await n.podman.ok(['stop', '-t', '0', c]);
        await n.podman.ok(['rm', c]);
      }
      expect(allocations(n)).toEqual([]);
      // the addresses stay on the node's NICs as the warm pool
      for (const ip of ips) expect(cloudIps(n)).toContain(ip);
      // the veths of answered DELs go once the kernel deleted them (docs/cni.md, DEL)
      await waitFor(() => nodeState(n) === n.baseline, 10_000, 'node netns back to its baseline').catch(() => undefined);
      expect(nodeState(n)).toBe(n.baseline);
      expect(await n.podman.netnsFiles()).toEqual([]);
      expect(await n.podman.cniCache()).toEqual([]);
    }
  }, 120_000);

  it('20 containers in a loop: each networked, nothing leaked', async () => {
    const [n1] = nodes;
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const out = await n1!.podman.ok(['run', '--rm', ...n1!.podman.runArgs(), IMAGE, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
      const m = /inet (10\.40\.\d+\.\d+)\/32/.exec(out);
      expect(m).not.toBeNull();
      seen.push(m![1]!);
    }
    expect(seen).toHaveLength(20);
    for (const ip of new Set(seen)) expect(cloudIps(n1!)).toContain(ip);
    expect(allocations(n1!)).toEqual([]);
    await waitFor(() => nodeState(n1!) === n1!.baseline, 10_000, 'node netns back to its baseline').catch(() => undefined);
    expect(nodeState(n1!)).toBe(n1!.baseline);
    expect(await n1!.podman.netnsFiles()).toEqual([]);
    expect(await n1!.podman.cniCache()).toEqual([]);
  }, 240_000);
});

/** HTTP/1.0 GET with busybox nc (Debian's static busybox 1.35 wget segfaults). */
function httpGet(ip: string, port: number, nc = 'nc'): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | ${nc} -w 5 ${ip} ${port}`;
}

function body(response: string): string {
  return response.split(/\r?\n\r?\n/).slice(1).join('\n').trim();
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
