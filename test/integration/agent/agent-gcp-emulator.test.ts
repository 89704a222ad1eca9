// The whole agent (config -> GCE provider over the real SDK -> pool in range mode -> CNI
// socket) against the GCE emulator, driven through the built forwarder. One cloud write per
// node (the alias range on nic0), none per pod; pods get addresses of that range with the NIC's
// MTU; a released address cools down before reuse. No root: the datapath is the recording fake.
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { configSchema, type VpcnetConfig } from '../../../src/config/schema.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { cidrContains } from '../../../src/util/ip.ts';
import { installBuiltForwarder, runForwarder, type CniRun } from '../cni/forwarder-harness.ts';
import { agentPaths } from '../../support/agent-paths.ts';

// As the agent's conflist gives it: its socket and DEL spool.
const confFor = (dir: string): string => JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool') });
const ZONE = 'us-central1-a';

describe('agent against the GCE emulator (alias-ip range mode)', () => {
  let emulator: GcpEmulator;
  let dir: string;
  let forwarder: string;
  let datapath: FakeDatapath;
  let agent: Agent;

  let live = false;
  /** A fresh emulator, directory and agent for the test, so each test runs alone. */
  async function start(): Promise<void> {
    emulator = new GcpEmulator({ project: 'vc10-agent', operationDelayMs: 50, auth: 'issued' });
    emulator.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/14' }] }],
      instances: [{ name: 'node-a', zone: ZONE, subnet: 'nodes' }],
    });
    await emulator.start();
    live = true;
    dir = mkdtempSync(join(tmpdir(), 'vc10-agent-'));
    mkdirSync(join(dir, 'netns'));
    forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
    datapath = new FakeDatapath({ allowedNetnsDirs: [join(dir, 'netns')] });
    agent = new Agent(config(), { datapath, netns: new MemoryNetnsInspector() });
    await agent.start();
    await waitFor(() => agent.status().installed);
  }

  afterEach(async () => {
    if (!live) return;
    live = false;
    await agent?.stop();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(): VpcnetConfig {
    return configSchema.parse({
      clusterName: 'it',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: { name: 'gcp', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.metadataEndpoint(ZONE, 'node-a') },
      pool: { cooldownMs: 60_000 },
      paths: agentPaths(dir),
      cni: { addDeadlineMs: 5000, netnsPathPrefixes: [join(dir, 'netns') + '/'] },
    });
  }

  function cni(command: string, containerId: string): Promise<CniRun> {
    return runForwarder(
      forwarder,
      { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: join(dir, 'netns', containerId), CNI_IFNAME: 'eth0', CNI_PATH: dir },
      confFor(dir),
    );
  }
  const ipOf = (run: CniRun): string => (run.json?.ips as Array<{ address: string }> | undefined)?.[0]?.address.split('/')[0] ?? '';
  const range = (): string => emulator.state.instance(ZONE, 'node-a').nics[0]!.aliasIpRanges[0]?.ipCidrRange ?? '';

  it('takes one /24 alias range on nic0 and hands pods its addresses with no cloud call per pod', async () => {
    await start();
    expect(range()).toMatch(/^10\.[4-7]\.\d+\.0\/24$/);
    const writesBefore = emulator.stats().calls['instances.updateNetworkInterface'];
    const callsBefore = Object.values(emulator.stats().calls).reduce((a, b) => a + b, 0);
    const ips: string[] = [];
    for (let i = 0; i < 20; i++) {
      const run = await cni('ADD', `pod-${i}`);
      expect(run.code).toBe(0);
      ips.push(ipOf(run));
    }
    expect(new Set(ips).size).toBe(20);
    for (const ip of ips) expect(cidrContains(range(), ip)).toBe(true);
    expect(emulator.stats().calls['instances.updateNetworkInterface']).toBe(writesBefore);
    expect(writesBefore).toBe(1);
    expect(Object.values(emulator.stats().calls).reduce((a, b) => a + b, 0)).toBe(callsBefore);
    expect(agent.status().pool!.mode).toBe('range');
  });

  it('pods get the NIC MTU (1460 on GCE)', async () => {
    await start();
    for (const id of ['pod-a', 'pod-b']) expect((await cni('ADD', id)).code).toBe(0);
    const setups = datapath.calls('setupPod');
    expect(setups).toHaveLength(2);
    for (const s of setups) expect(s.req.mtu).toBe(1460);
  });

  it('a released address cools down: the next pod gets another one', async () => {
    await start();
    const run = await cni('ADD', 'pod-x');
    expect(run.code).toBe(0);
    const ip = ipOf(run);
    expect((await cni('DEL', 'pod-x')).code).toBe(0);
    const next = await cni('ADD', 'pod-y');
    expect(next.code).toBe(0);
    expect(ipOf(next)).not.toBe(ip);
    expect(emulator.stats().calls['instances.updateNetworkInterface']).toBe(1);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
