// A start-up the cloud does not let finish never ends the agent: it retries, says why it is not
// ready (/readyz, /v1/status, `vpcnet status`, metrics), and serves as soon as the cloud lets it.
// The agent against the GCE emulator, with the datapath fake (no root).
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { renderStatus } from '../../../src/cli/status-table.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { agentPaths } from '../../support/agent-paths.ts';

const ZONE = 'us-central1-a';

describe('agent start-up under cloud errors (GCE emulator)', () => {
  let emulator: GcpEmulator | undefined;
  let agent: Agent | undefined;
  let dir = '';
  afterEach(async () => {
    await agent?.stop();
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(): Promise<{ emu: GcpEmulator; agent: Agent }> {
    const emu = (emulator = new GcpEmulator({ project: 'startup', operationDelayMs: 20, auth: 'issued' }));
    emu.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/14' }] }],
      instances: [{ name: 'node-a', zone: ZONE, subnet: 'nodes' }],
    });
    await emu.start();
    dir = mkdtempSync(join(tmpdir(), 'vpcnet-startup-'));
    mkdirSync(join(dir, 'netns'));
    const config = configSchema.parse({
      clusterName: 'it',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: { name: 'gcp', apiEndpoint: emu.endpoint, metadataEndpoint: emu.metadataEndpoint(ZONE, 'node-a') },
      paths: agentPaths(dir),
      cni: { addDeadlineMs: 5000, netnsPathPrefixes: [join(dir, 'netns') + '/'] },
    });
    // random 0: each retry after the shortest wait (1 ms), paced by the client's own limiter
    agent = new Agent(config, { datapath: new FakeDatapath({ allowedNetnsDirs: [join(dir, 'netns')] }), netns: new MemoryNetnsInspector(), random: () => 0 });
    return { emu, agent };
  }

  it('403 forbidden at start: not ready with the reason, then serving once the permission is granted', async () => {
    const { emu, agent: a } = await setup();
    emu.faults.add({ method: 'instances.get', status: 403, reason: 'forbidden', message: "Required 'compute.instances.get' permission" });
    let settled = false;
    const started = a.start().then(() => (settled = true));
    await waitFor(() => a.status().startup.blocked?.code === 'CLOUD_PERMISSION_DENIED');
    expect(settled).toBe(false);
    const { api, metrics } = a.ports();
    expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(503);
    const status = (await (await fetch(`http://127.0.0.1:${api}/v1/status`)).json()) as ReturnType<Agent['status']>;
    expect(status.startup).toMatchObject({ phase: 'blocked', blocked: { step: 'discover', code: 'CLOUD_PERMISSION_DENIED' } });
    expect(renderStatus('node-a', status)).toContain('start-up waiting: step discover');
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(text).toMatch(/vpcnet_startup_blocked\{step="discover",code="CLOUD_PERMISSION_DENIED"\} 1/);
    expect(text).toMatch(/vpcnet_startup_failures_total\{step="discover",code="CLOUD_PERMISSION_DENIED"\} [1-9]/);
    // the IAM policy is fixed: the agent serves without a restart
    emu.faults.clear();
    await started;
    expect(a.status().startup.phase).toBe('started');
    await waitFor(() => a.ready());
    expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(200);
    const after = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(after).toMatch(/vpcnet_startup_blocked\{step="discover",code="CLOUD_PERMISSION_DENIED"\} 0/);
  }, 60_000);

  it('403 rateLimitExceeded on every call for a while: start-up waits, then finishes (the issue\'s "agent failed to start")', async () => {
    const { emu, agent: a } = await setup();
    emu.faults.add({ method: '*', status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', count: 8 });
    await a.start();
    expect(a.status().startup.phase).toBe('started');
    await waitFor(() => a.ready());
  }, 60_000);

  it('stop() during a blocked start-up ends it without an error', async () => {
    const { emu, agent: a } = await setup();
    emu.faults.add({ method: 'instances.get', status: 403, reason: 'forbidden' });
    const started = a.start();
    await waitFor(() => a.status().startup.phase === 'blocked');
    await a.stop();
    await expect(started).resolves.toBeUndefined();
    expect(a.status().startup.phase).toBe('stopped');
    agent = undefined;
  }, 30_000);
});

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
