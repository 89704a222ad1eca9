// The whole agent (config -> AWS provider over the real SDK -> pool -> CNI socket) against
// the EC2 emulator, driven through the built forwarder as a runtime would. No root: the
// datapath is the recording fake; the privileged tier covers the kernel side.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEmulator } from '../../../providers/aws/emulator/index.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { configSchema, type VpcnetConfig } from '../../../src/config/schema.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { installBuiltForwarder, runForwarder, type CniRun } from '../cni/forwarder-harness.ts';
import { agentPaths } from '../../support/agent-paths.ts';

const conf = (dir: string): string => JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool') });

describe('agent against the EC2 emulator', () => {
  let emulator: AwsEmulator;
  let dir: string;
  let forwarder: string;
  let instanceId: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
    emulator = new AwsEmulator({ seed: 7 });
    await emulator.start({ port: 0 });
    const result = emulator.applyScenario({
      vpcs: [{ cidr: '10.20.0.0/16', subnets: [{ cidr: '10.20.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.20.0.0/20' }],
    });
    instanceId = result.instanceIds[0]!;
    dir = mkdtempSync(join(tmpdir(), 'vpcnet-agent-'));
    mkdirSync(join(dir, 'netns'));
    forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(): VpcnetConfig {
    return configSchema.parse({
      clusterName: 'it',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: { name: 'aws', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
      pool: { warmIps: 3, cooldownMs: 1000 },
      datapath: { mtu: 1500 },
      paths: agentPaths(dir),
      cni: { addDeadlineMs: 5000, netnsPathPrefixes: [join(dir, 'netns') + '/'] },
    });
  }

  async function startAgent(): Promise<Agent> {
    // no namespaces here: the fake datapath's paths are their own identity
    const agent = new Agent(config(), { datapath: new FakeDatapath({ allowedNetnsDirs: [join(dir, 'netns')] }), netns: new MemoryNetnsInspector() });
    agents.push(agent);
    await agent.start();
    return agent;
  }

  function cni(command: string, containerId: string): Promise<CniRun> {
    return runForwarder(
      forwarder,
      {
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: join(dir, 'netns', containerId),
        CNI_IFNAME: 'eth0',
        CNI_PATH: dir,
      },
      conf(dir),
    );
  }

  function ipOf(run: CniRun): string {
    const ips = run.json?.ips as Array<{ address: string }> | undefined;
    return ips?.[0]?.address.split('/')[0] ?? '';
  }

  function cloudAddresses(): Set<string> {
    const out = new Set<string>();
    for (const eni of emulator.listEnis()) {
      for (const ip of eni.secondaryIps) out.add(ip);
      // Delegated /28 prefixes (the default on Nitro types): every address in them is held.
      for (const prefix of eni.prefixes) {
        const [base = '', len = '32'] = prefix.split('/');
        const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
        for (let i = 0; i < 2 ** (32 - Number(len)); i++) out.add([24, 16, 8, 0].map((sh) => ((n + i) >>> sh) & 255).join('.'));
      }
    }
    return out;
  }

  let first: Agent;
  const ips = new Map<string, string>();

  it('starts, fills the pool from the cloud and installs the CNI executable and conflist once ready', async () => {
    first = await startAgent();
    await waitFor(() => first.status().installed);
    expect(existsSync(join(dir, 'host-bin', 'vpcnet'))).toBe(true);
    const conflist = JSON.parse(readFileSync(join(dir, 'net.d', '10-vpcnet.conflist'), 'utf8')) as { plugins: Array<{ type: string }> };
    expect(conflist.plugins[0]!.type).toBe('vpcnet');
    expect(first.status().pool!.counts.available).toBeGreaterThanOrEqual(3);
  });

  it('hands pods addresses the cloud has assigned to this instance, idempotently', async () => {
    for (const id of ['pod-a', 'pod-b', 'pod-c']) {
      const run = await cni('ADD', id);
      expect(run.stdout).toContain('"ips"');
      expect(run.code).toBe(0);
      ips.set(id, ipOf(run));
    }
    const cloud = cloudAddresses();
    for (const ip of ips.values()) expect(cloud.has(ip)).toBe(true);
    expect(new Set(ips.values()).size).toBe(3);
    const again = await cni('ADD', 'pod-a');
    expect(ipOf(again)).toBe(ips.get('pod-a'));
  });

  it('DEL releases; DEL of an unknown container succeeds', async () => {
    expect((await cni('DEL', 'pod-c')).code).toBe(0);
    expect((await cni('DEL', 'never-added')).code).toBe(0);
    expect(first.status().pool!.counts.assigned).toBe(2);
  });

  it('serves status and metrics on its local API', async () => {
    const { api, metrics } = first.ports();
    const status = (await (await fetch(`http://127.0.0.1:${api}/v1/status`)).json()) as { node: { instanceId: string }; ready: boolean };
    expect(status.node.instanceId).toBe(instanceId);
    expect(status.ready).toBe(true);
    expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(text).toMatch(/vpcnet_allocations_total\{[^}]*result="ok"[^}]*\} 3/);
    expect(text).toMatch(/vpcnet_cloud_calls_total\{/);
    // the CLI renders the same API as tables
    // async: the agent serving the request lives in this process
    const cli = await runCli(['status', '--api', `127.0.0.1:${api}`]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain(instanceId);
    expect(cli.stdout).toMatch(/eni-[0-9a-f]+\s+0\s+10\.20\.0\.0\/20/);
    expect(cli.stdout).toContain(ips.get('pod-a'));
  });

  it('after a restart, pods keep their addresses (checkpoint + cloud reconcile)', async () => {
    await first.stop();
    const second = await startAgent();
    expect(second.status().pool!.counts.assigned).toBe(2);
    const again = await cni('ADD', 'pod-b');
    expect(ipOf(again)).toBe(ips.get('pod-b'));
    const fresh = await cni('ADD', 'pod-d');
    expect(fresh.code).toBe(0);
    expect([ips.get('pod-a'), ips.get('pod-b')]).not.toContain(ipOf(fresh));
    third = second;
  });

  let third: Agent;

  it('a DEL while the agent is down is spooled (success) and applied at the next start before any ADD', async () => {
    await third.stop();
    const del = await cni('DEL', 'pod-a');
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(readdirSync(join(dir, 'del-spool')).filter((f) => f.startsWith('del-'))).toHaveLength(1);
    const next = await startAgent();
    // applied during start(), before the socket opened
    expect(next.status().pods?.map((p) => p.containerId)).not.toContain('pod-a');
    expect(next.status().pods?.map((p) => p.containerId).sort()).toEqual(['pod-b', 'pod-d']);
    expect(readdirSync(join(dir, 'del-spool'))).toEqual([]);
  });

  it('writes a conflist that old libcni accepts (cniVersion 1.0.0, newer in cniVersions) naming its socket and spool', () => {
    const list = JSON.parse(readFileSync(join(dir, 'net.d', '10-vpcnet.conflist'), 'utf8')) as { cniVersion: string; cniVersions: string[]; plugins: Array<Record<string, unknown>> };
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.cniVersions).toEqual(['0.4.0', '1.0.0', '1.1.0']);
    expect(list.plugins[0]).toMatchObject({ type: 'vpcnet', agentSocket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool') });
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runCli(args: string[]): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '../../../src/cli/main.ts'), ...args], (err, stdout) => {
      resolve({ status: err ? Number(err.code ?? 1) : 0, stdout });
    });
  });
}
