// The whole agent on GCE in route mode with Kubernetes on (in-memory Kubernetes client, GCE
// emulator through the real SDK, recording datapath): the node's route carries
// Node.spec.podCIDR, and an instance without canIpForward raises NextHopCannotIpForward as a
// node event and as VpcnetReady=False, cleared once the instance can forward.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { agentPaths } from '../../support/agent-paths.ts';

const ZONE = 'us-central1-a';

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent on GCE (route mode) with Kubernetes', () => {
  let emulator: GcpEmulator;
  let dir: string;
  let agent: Agent;
  const kube = new FakeKubeClient();

  beforeAll(async () => {
    emulator = new GcpEmulator({ project: 'g2-agent', operationDelayMs: 20, auth: 'issued' });
    emulator.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20' }],
      instances: [{ name: 'node-a', zone: ZONE, subnet: 'nodes', canIpForward: false }],
    });
    await emulator.start();
    kube.putNode({ name: 'node-a', uid: 'uid-a', providerId: `gce://g2-agent/${ZONE}/node-a`, podCidrs: ['10.64.17.0/24'], labels: {}, annotations: {}, taints: [], conditions: [] });
    dir = mkdtempSync(join(tmpdir(), 'g2-agent-'));
    mkdirSync(join(dir, 'netns'));
    writeFileSync(join(dir, 'forwarder'), '#!/bin/sh\nexit 1\n', { mode: 0o755 }); // installed only; no CNI command runs here
    const config = configSchema.parse({
      clusterName: 'g2',
      nodeName: 'node-a',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      kubernetes: { enabled: true },
      reconcile: { intervalMs: 1000 },
      provider: { name: 'gcp', rangeMode: 'route', apiEndpoint: emulator.endpoint, metadataEndpoint: emulator.metadataEndpoint(ZONE, 'node-a') },
      paths: agentPaths(dir),
      cni: { netnsPathPrefixes: [join(dir, 'netns') + '/'] },
    });
    agent = new Agent(config, {
      datapath: new FakeDatapath({ allowedNetnsDirs: [join(dir, 'netns')] }),
      netns: new MemoryNetnsInspector(),
      forwarderPath: join(dir, 'forwarder'),
      kube: { client: kube, statusIntervalMs: 50 },
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const vpcnetReady = (): { status: string; reason: string; message: string } | undefined => kube.nodes.get('node-a')?.conditions.find((c) => c.type === 'VpcnetReady');

  it('routes Node.spec.podCIDR to the node', async () => {
    await waitFor(() => emulator.state.routes.size === 1);
    expect([...emulator.state.routes.values()].map((r) => r.destRange)).toEqual(['10.64.17.0/24']);
    await waitFor(() => agent.poolManager.ready());
  });

  it('NEXT_HOP_CANNOT_IP_FORWARD: a node event and VpcnetReady=False naming the cause; cleared once the instance can forward', async () => {
    await waitFor(() => [...kube.events.values()].some((e) => e.reason === 'NextHopCannotIpForward'));
    const event = [...kube.events.values()].find((e) => e.reason === 'NextHopCannotIpForward');
    expect(event).toMatchObject({ type: 'Warning', nodeName: 'node-a' });
    expect(event?.message).toContain('canIpForward');
    await waitFor(() => vpcnetReady()?.reason === 'NextHopCannotIpForward');
    expect(vpcnetReady()).toMatchObject({ status: 'False' });
    expect(agent.status().providerConditions?.map((c) => c.type)).toEqual(['NextHopCannotIpForward']);
    emulator.state.setCanIpForward(ZONE, 'node-a', true);
    await waitFor(() => vpcnetReady()?.status === 'True', 30_000);
    expect(agent.status().providerConditions).toBeUndefined();
  });
});
