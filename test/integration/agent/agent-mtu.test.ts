// The pod MTU follows the cloud the node runs on (AWS 9001, Azure 1500, GCE 1460) unless
// datapath.mtu is set: the node datapath and the installed conflist both carry it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { fakeShape, type FakeShape } from '../../../providers/fake/shapes.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PrometheusMetrics } from '../../../src/metrics/prometheus.ts';
import { agentPaths } from '../../support/agent-paths.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(shape: FakeShape, datapath: { mtu?: number } = {}): Promise<{ datapath: FakeDatapath; conflist: () => { plugins: Array<{ mtu?: number }> } }> {
  const dir = mkdtempSync(join(tmpdir(), 'vc9s-mtu-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const forwarder = join(dir, 'forwarder');
  writeFileSync(forwarder, '#!/bin/sh\n', { mode: 0o755 });
  const config = configSchema.parse({
    datapath,
    reconcile: { enabled: false },
    paths: agentPaths(dir), // all under dir: the default spool dir is the host's /var/lib/vpcnet
  });
  const dp = new FakeDatapath();
  const agent = new Agent(config, {
    provider: new FakeCloudProvider(fakeShape(shape)),
    datapath: dp,
    netns: new MemoryNetnsInspector(),
    store: new MemoryCheckpointStore(),
    metrics: new PrometheusMetrics({ processMetrics: false }),
    forwarderPath: forwarder,
    noHttp: true,
  });
  cleanups.push(() => agent.stop());
  await agent.start();
  // the install is file I/O on a ready agent: wait for I/O turns, not for time
  for (let i = 0; i < 10_000 && !agent.status().installed; i++) await new Promise((r) => setImmediate(r));
  expect(agent.status().installed).toBe(true);
  return { datapath: dp, conflist: () => JSON.parse(readFileSync(join(dir, 'net.d', '10-vpcnet.conflist'), 'utf8')) as { plugins: Array<{ mtu?: number }> } };
}

describe('pod MTU', () => {
  it.each([
    ['aws', 9001],
    ['azure', 1500],
    ['gce', 1460],
  ] as const)('on a %s-shaped node is the NIC MTU the cloud reports (%i)', async (shape, mtu) => {
    const { datapath, conflist } = await started(shape);
    expect(datapath.calls('setupNode')[0]?.cfg.mtu).toBe(mtu);
    expect(conflist().plugins[0]?.mtu).toBe(mtu);
  });

  it('datapath.mtu wins over the cloud', async () => {
    const { datapath, conflist } = await started('gce', { mtu: 1400 });
    expect(datapath.calls('setupNode')[0]?.cfg.mtu).toBe(1400);
    expect(conflist().plugins[0]?.mtu).toBe(1400);
  });
});
