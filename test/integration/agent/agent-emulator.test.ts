// The whole agent (config -> AWS provider over the real SDK -> pool -> CNI socket) against
// the EC2 emulator, driven through the built forwarder as a runtime would. No root: the
// datapath is the recording fake; the privileged tier covers the kernel side. Each test builds
// its own emulator, directory and agents, so each runs alone.
import { afterEach, describe, expect, it } from '@jest/globals';
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
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  interface Scenario {
    emulator: AwsEmulator;
    dir: string;
    instanceId: string;
    startAgent(): Promise<Agent>;
    cni(command: string, containerId: string): Promise<CniRun>;
    /** ADDs each container and returns its address; fails the test on an error. */
    add(...ids: string[]): Promise<Map<string, string>>;
  }

  async function scenario(): Promise<Scenario> {
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
    const emulator = new AwsEmulator({ seed: 7 });
    await emulator.start({ port: 0 });
    cleanups.push(() => emulator.stop());
    const result = emulator.applyScenario({
      vpcs: [{ cidr: '10.20.0.0/16', subnets: [{ cidr: '10.20.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.20.0.0/20' }],
    });
    const instanceId = result.instanceIds[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'vpcnet-agent-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'netns'));
    const forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
    const config = (): VpcnetConfig =>
      configSchema.parse({
        clusterName: 'it',
        apiListen: '127.0.0.1:0',
        metricsListen: '127.0.0.1:0',
        provider: { name: 'aws', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
        pool: { warmIps: 3, cooldownMs: 1000 },
        datapath: { mtu: 1500 },
        paths: agentPaths(dir),
        cni: { addDeadlineMs: 5000, netnsPathPrefixes: [join(dir, 'netns') + '/'] },
      });
    const cni = (command: string, containerId: string): Promise<CniRun> =>
      runForwarder(
        forwarder,
        { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: join(dir, 'netns', containerId), CNI_IFNAME: 'eth0', CNI_PATH: dir },
        conf(dir),
      );
    return {
      emulator,
      dir,
      instanceId,
      cni,
      startAgent: async () => {
        // no namespaces here: the fake datapath's paths are their own identity
        const agent = new Agent(config(), { datapath: new FakeDatapath({ allowedNetnsDirs: [join(dir, 'netns')] }), netns: new MemoryNetnsInspector() });
        cleanups.push(() => agent.stop());
        await agent.start();
        return agent;
      },
      add: async (...ids) => {
        const out = new Map<string, string>();
        for (const id of ids) {
          const run = await cni('ADD', id);
          expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('"ips"') });
          out.set(id, ipOf(run));
        }
        return out;
      },
    };
  }

  function ipOf(run: CniRun): string {
    const ips = run.json?.ips as Array<{ address: string }> | undefined;
    return ips?.[0]?.address.split('/')[0] ?? '';
  }

  function cloudAddresses(emulator: AwsEmulator): Set<string> {
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

  it('starts, fills the pool from the cloud and installs the CNI executable and conflist once ready', async () => {
    const s = await scenario();
    const agent = await s.startAgent();
    await waitFor(() => agent.status().installed);
    expect(existsSync(join(s.dir, 'host-bin', 'vpcnet'))).toBe(true);
    const conflist = JSON.parse(readFileSync(join(s.dir, 'net.d', '10-vpcnet.conflist'), 'utf8')) as { plugins: Array<{ type: string }> };
    expect(conflist.plugins[0]!.type).toBe('vpcnet');
    expect(agent.status().pool!.counts.available).toBeGreaterThanOrEqual(3);
  });

  it('hands pods addresses the cloud has assigned to this instance, idempotently', async () => {
    const s = await scenario();
    await s.startAgent();
    const ips = await s.add('pod-a', 'pod-b', 'pod-c');
    const cloud = cloudAddresses(s.emulator);
    for (const ip of ips.values()) expect(cloud.has(ip)).toBe(true);
    expect(new Set(ips.values()).size).toBe(3);
    const again = await s.cni('ADD', 'pod-a');
    expect(ipOf(again)).toBe(ips.get('pod-a'));
  });

  it('DEL releases; DEL of an unknown container succeeds', async () => {
    const s = await scenario();
    const agent = await s.startAgent();
    await s.add('pod-a', 'pod-c');
    expect(agent.status().pool!.counts.assigned).toBe(2);
    expect((await s.cni('DEL', 'pod-c')).code).toBe(0);
    expect((await s.cni('DEL', 'never-added')).code).toBe(0);
    expect(agent.status().pool!.counts.assigned).toBe(1);
    expect(agent.status().pods?.map((p) => p.containerId)).toEqual(['pod-a']);
  });

  it('serves status and metrics on its local API', async () => {
    const s = await scenario();
    const agent = await s.startAgent();
    const ips = await s.add('pod-a', 'pod-b', 'pod-c');
    const { api, metrics } = agent.ports();
    const status = (await (await fetch(`http://127.0.0.1:${api}/v1/status`)).json()) as { node: { instanceId: string }; ready: boolean };
    expect(status.node.instanceId).toBe(s.instanceId);
    expect(status.ready).toBe(true);
    expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(text).toMatch(/vpcnet_allocations_total\{[^}]*result="ok"[^}]*\} 3/);
    expect(text).toMatch(/vpcnet_cloud_calls_total\{/);
    // the CLI renders the same API as tables
    // async: the agent serving the request lives in this process
    const cli = await runCli(['status', '--api', `127.0.0.1:${api}`]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain(s.instanceId);
    expect(cli.stdout).toMatch(/eni-[0-9a-f]+\s+0\s+10\.20\.0\.0\/20/);
    expect(cli.stdout).toContain(ips.get('pod-a'));
  });

  it('after a restart, pods keep their addresses (checkpoint + cloud reconcile)', async () => {
    const s = await scenario();
    const first = await s.startAgent();
    const ips = await s.add('pod-a', 'pod-b');
    await first.stop();
    const second = await s.startAgent();
    expect(second.status().pool!.counts.assigned).toBe(2);
    const again = await s.cni('ADD', 'pod-b');
    expect(ipOf(again)).toBe(ips.get('pod-b'));
    const fresh = await s.cni('ADD', 'pod-d');
    expect(fresh.code).toBe(0);
    expect([ips.get('pod-a'), ips.get('pod-b')]).not.toContain(ipOf(fresh));
  });

  it('a DEL while the agent is down is spooled (success) and applied at the next start before any ADD: the address is not leaked', async () => {
    const s = await scenario();
    const first = await s.startAgent();
    await s.add('pod-a', 'pod-b');
    await first.stop();
    const del = await s.cni('DEL', 'pod-a');
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(readdirSync(join(s.dir, 'del-spool')).filter((f) => f.startsWith('del-'))).toHaveLength(1);
    const next = await s.startAgent();
    // applied during start(), before the socket opened
    expect(next.status().pods?.map((p) => p.containerId)).toEqual(['pod-b']);
    expect(readdirSync(join(s.dir, 'del-spool'))).toEqual([]);
  });

  it('writes a conflist that old libcni accepts (cniVersion 1.0.0, newer in cniVersions) naming its socket and spool', async () => {
    const s = await scenario();
    const agent = await s.startAgent();
    await waitFor(() => agent.status().installed);
    const list = JSON.parse(readFileSync(join(s.dir, 'net.d', '10-vpcnet.conflist'), 'utf8')) as { cniVersion: string; cniVersions: string[]; plugins: Array<Record<string, unknown>> };
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.cniVersions).toEqual(['0.4.0', '1.0.0', '1.1.0']);
    expect(list.plugins[0]).toMatchObject({ type: 'vpcnet', agentSocket: join(s.dir, 'run', 'cni.sock'), delSpoolDir: join(s.dir, 'del-spool') });
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
