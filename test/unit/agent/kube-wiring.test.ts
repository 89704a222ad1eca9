// KubeWiring on fakes (in-memory KubeClient, fake cloud, fake clock): which addresses it
// releases and when, events from pool conditions, and how new NICs wait for the network config.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import type { ProviderCondition } from '../../../providers/provider.ts';
import { KubeWiring } from '../../../src/agent/kube-wiring.ts';
import { configSchema } from '../../../src/config/schema.ts';
import type { VpcnetError } from '../../../src/errors.ts';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../../src/ipam/pool-manager.ts';
import type { PodKey } from '../../../src/ipam/types.ts';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { NETWORK_CONFIG_KEY } from '../../../src/k8s/network-config.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { silentLogger } from '../../../src/util/logger.ts';

const NODE = 'node-1';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  clock: FakeClock;
  client: FakeKubeClient;
  cloud: FakeCloudProvider;
  pool: PoolManager;
  wiring: KubeWiring;
  released: PodKey[];
  busy: Set<string>;
}

async function setup(
  opts: {
    kubernetes?: Record<string, unknown>;
    labels?: Record<string, string>;
    down?: boolean;
    beforeStart?: (cloud: FakeCloudProvider) => void;
    /** The cloud's instance id of this machine. */
    instanceId?: string;
    /** What the cloud provider raises now (the agent's providerConditions hook). */
    providerConditions?: ProviderCondition[];
    /** Node.spec.podCIDRs. */
    podCidrs?: string[];
  } = {},
): Promise<Setup> {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  client.putNode({
    name: NODE,
    uid: 'uid-node',
    providerId: 'aws:///us-west-2a/i-0abc123def4567890',
    labels: opts.labels ?? {},
    annotations: {},
    taints: [],
    conditions: [],
    ...(opts.podCidrs ? { podCidrs: opts.podCidrs } : {}),
  });
  if (opts.down) client.setDown(true);
  const settings = configSchema.parse({ kubernetes: { enabled: true, goneGraceMs: 1000, podReconcileIntervalMs: 5000, networkConfigWaitMs: 2000, ...opts.kubernetes } }).kubernetes;
  const metrics = new MemoryMetrics();
  const wiring = new KubeWiring({ settings, nodeName: NODE, clock, metrics, logger: silentLogger(), client, backoff: { baseMs: 10, capMs: 10 } });
  const cloud = new FakeCloudProvider({ clock });
  const pool = new PoolManager({
    provider: wiring.wrapProvider(cloud),
    store: new MemoryCheckpointStore(),
    limits: cloud.limits,
    targets: { warmIps: 2, cooldownMs: 0 },
    clock,
  });
  const released: PodKey[] = [];
  const busy = new Set<string>();
  wiring.start({ provider: 'aws', instanceId: opts.instanceId ?? 'i-0abc123def4567890' });
  await clock.advance(0);
  opts.beforeStart?.(cloud);
  await pool.start();
  wiring.attach({
    pool,
    releaseAttachment: async (k) => {
      released.push(k);
      await pool.release(k);
    },
    busy: (k) => busy.has(k.containerId),
    ...(opts.providerConditions ? { providerConditions: () => opts.providerConditions ?? [] } : {}),
  });
  cleanups.push(async () => {
    await wiring.stop();
    await pool.stop();
  });
  return { clock, client, cloud, pool, wiring, released, busy };
}

const pod = (name: string): { namespace: string; name: string; uid: string; hostNetwork: boolean; nodeName: string; annotations: Record<string, string> } => ({
  namespace: 'default',
  name,
  uid: `uid-${name}`,
  hostNetwork: false,
  nodeName: NODE,
  annotations: {},
});

async function allocate(s: Setup, containerId: string, podName?: string): Promise<void> {
  await s.pool.allocate({ containerId, ifname: 'eth0', ...(podName ? { podNamespace: 'default', podName, podUid: `uid-${podName}` } : {}) });
}

describe('gone-pod release', () => {
  it('releases only allocations of pods that are gone and older than the grace period', async () => {
    const s = await setup();
    s.client.putPod(pod('live'));
    s.client.putPod(pod('old'));
    await allocate(s, 'c-live', 'live');
    await allocate(s, 'c-old', 'old');
    await allocate(s, 'c-anon');
    await s.clock.advance(1500);
    await allocate(s, 'c-young', 'young'); // never in the API: as if created after our last event
    s.client.deletePod('default', 'old');
    await s.wiring.releaseGonePods();
    expect(s.released.map((k) => k.containerId)).toEqual(['c-old']);

    await s.clock.advance(1000);
    await s.wiring.releaseGonePods();
    expect(s.released.map((k) => k.containerId)).toEqual(['c-old', 'c-young']);
    expect(s.pool.pool.allocations().map((a) => a.containerId).sort()).toEqual(['c-anon', 'c-live']);
  });

  it('releases nothing before the pod list has succeeded once', async () => {
    const s = await setup({ down: true });
    await allocate(s, 'c-1', 'gone');
    await s.clock.advance(2000);
    await s.wiring.releaseGonePods();
    expect(s.released).toEqual([]);
    s.client.setDown(false);
    await s.clock.advance(100);
    await s.wiring.releaseGonePods();
    expect(s.released.map((k) => k.containerId)).toEqual(['c-1']);
  });

  it('acts on no pod view when the Node names another instance (wrong node name), and says so', async () => {
    const s = await setup({ instanceId: 'i-0fffffffffffffff0' });
    await allocate(s, 'c-1', 'gone');
    await s.clock.advance(6000);
    await s.wiring.releaseGonePods();
    expect(s.released).toEqual([]);
    expect([...s.client.events.values()].map((e) => e.reason)).toEqual(['InvalidConfig']);
  });

  it('during an API outage the stale view releases nothing; after the relist only the really gone', async () => {
    const s = await setup();
    s.client.putPod(pod('old'));
    await s.clock.advance(50);
    await allocate(s, 'c-old', 'old');
    s.client.setDown(true); // the watch breaks; the view is stale from here
    s.client.putPod(pod('new')); // created during the outage: not in the view
    s.client.deletePod('default', 'old');
    await allocate(s, 'c-new', 'new');
    await s.clock.advance(2000);
    await s.wiring.releaseGonePods();
    expect(s.released).toEqual([]);
    s.client.setDown(false);
    await s.clock.advance(50);
    await s.wiring.releaseGonePods();
    expect(s.released.map((k) => k.containerId)).toEqual(['c-old']);
  });

  it('leaves an attachment alone while a CNI command for it runs', async () => {
    const s = await setup();
    await allocate(s, 'c-1', 'gone');
    await s.clock.advance(2000);
    s.busy.add('c-1');
    await s.wiring.releaseGonePods();
    expect(s.released).toEqual([]);
  });

  it('runs on its own: periodically, and after each (re)list', async () => {
    const s = await setup();
    await allocate(s, 'c-1', 'gone');
    await s.clock.advance(5000); // the periodic pass (every 5 s)
    expect(s.released.map((k) => k.containerId)).toEqual(['c-1']);

    s.client.setDown(true); // breaks the watch
    await allocate(s, 'c-2', 'gone-too');
    await s.clock.advance(1500);
    s.client.setDown(false);
    await s.clock.advance(50); // relisted; the next periodic pass is still seconds away
    expect(s.released.map((k) => k.containerId)).toEqual(['c-1', 'c-2']);
  });
});

describe('pool state to the node', () => {
  it('one event per raised condition, with the matching reason; the condition is the not-ready reason', async () => {
    const s = await setup({ beforeStart: (cloud) => cloud.failNext('assign', 'SUBNET_FULL', { times: 5 }) });
    for (let i = 0; i < 5; i++) await s.clock.advance(1000);
    const events = [...s.client.events.values()];
    expect(events.map((e) => e.reason)).toEqual(['SubnetFull']);
    expect(events[0]!.count).toBe(1);
    await s.wiring.services.readiness.idle();
    expect(s.client.nodes.get(NODE)!.conditions.find((c) => c.type === 'VpcnetReady')).toMatchObject({ status: 'False', reason: 'SubnetFull' });
  });

  it('sets the readiness condition from the pool', async () => {
    const s = await setup();
    await s.clock.advance(1000);
    await s.wiring.services.readiness.idle();
    expect(s.client.nodes.get(NODE)!.conditions.find((c) => c.type === 'VpcnetReady')).toMatchObject({ status: 'True', reason: 'PoolReady' });
  });
});

describe('cloud provider conditions to the node', () => {
  const forward: ProviderCondition = { type: 'NextHopCannotIpForward', message: 'route r1 (10.64.3.0/24): the instance has canIpForward=false', notReady: true };

  it('a raised condition is one Warning event with its type as reason; a notReady one makes VpcnetReady False until it clears', async () => {
    const conditions: ProviderCondition[] = [forward];
    const s = await setup({ providerConditions: conditions });
    for (let i = 0; i < 5; i++) await s.clock.advance(1000);
    const events = [...s.client.events.values()];
    expect(events.map((e) => [e.type, e.reason, e.message])).toEqual([['Warning', 'NextHopCannotIpForward', forward.message]]);
    await s.wiring.services.readiness.idle();
    const ready = (): unknown => s.client.nodes.get(NODE)!.conditions.find((c) => c.type === 'VpcnetReady');
    expect(ready()).toMatchObject({ status: 'False', reason: 'NextHopCannotIpForward', message: forward.message });
    conditions.splice(0);
    await s.clock.advance(1000);
    await s.wiring.services.readiness.idle();
    expect(ready()).toMatchObject({ status: 'True', reason: 'PoolReady' });
    // raised again later (after the recorder's 10 min dedup window): sent again
    await s.clock.advance(11 * 60_000);
    conditions.push(forward);
    await s.clock.advance(1000);
    expect([...s.client.events.values()].reduce((n, e) => n + e.count, 0)).toBe(2);
  });

  it('a condition without notReady is an event only; the node stays ready', async () => {
    const s = await setup({ providerConditions: [{ type: 'PodCidrMismatch', message: 'Node.spec.podCIDR is 10.4.5.0/24 but nic0 holds 10.4.0.0/24' }] });
    for (let i = 0; i < 3; i++) await s.clock.advance(1000);
    expect([...s.client.events.values()].map((e) => e.reason)).toEqual(['PodCidrMismatch']);
    await s.wiring.services.readiness.idle();
    expect(s.client.nodes.get(NODE)!.conditions.find((c) => c.type === 'VpcnetReady')).toMatchObject({ status: 'True' });
  });
});

describe('cluster services for the cloud provider', () => {
  it('Node.spec.podCIDRs as the API server has them', async () => {
    const s = await setup({ podCidrs: ['10.4.7.0/24', 'fd00:4:7::/64'] });
    await s.clock.advance(10);
    expect(await s.wiring.cluster.nodePodCidrs()).toEqual(['10.4.7.0/24', 'fd00:4:7::/64']);
  });

  it('a Node without a range yet is re-read on a fresh ask, at most every 10 s; an unreachable API server gives undefined', async () => {
    const s = await setup();
    await s.clock.advance(10);
    expect(await s.wiring.cluster.nodePodCidrs()).toBeUndefined();
    const node = s.client.nodes.get(NODE)!;
    s.client.putNode({ ...node, podCidrs: ['10.4.9.0/24'] }); // the node IPAM controller assigns it
    expect(await s.wiring.cluster.nodePodCidrs()).toBeUndefined(); // not fresh: only what was read
    expect(await s.wiring.cluster.nodePodCidrs({ fresh: true })).toEqual(['10.4.9.0/24']);
    const s2 = await setup();
    await s2.clock.advance(10);
    s2.client.setDown(true);
    expect(await s2.wiring.cluster.nodePodCidrs({ fresh: true })).toBeUndefined();
    s2.client.setDown(false);
    const calls = s2.client.calls;
    expect(await s2.wiring.cluster.nodePodCidrs({ fresh: true })).toBeUndefined(); // within 10 s: no new read
    expect(s2.client.calls).toBe(calls);
  });

  it('named cluster locks are Leases of kube-system held by this node', async () => {
    const s = await setup();
    const lock = s.wiring.cluster.lock('vpcnet-gcp-route-sweep', 180_000);
    expect(await lock.tryAcquire()).toBe(true);
    expect(s.client.leases.get('kube-system/vpcnet-gcp-route-sweep')).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 180 });
  });
});

describe('network config for new NICs', () => {
  it('a NIC created at start waits for the config view and uses it', async () => {
    const clock = new FakeClock();
    const client = new FakeKubeClient();
    client.putNode({ name: NODE, uid: 'u', providerId: 'aws:///us-west-2a/i-0abc123def4567890', labels: { [NETWORK_CONFIG_KEY]: 'pods' }, annotations: {}, taints: [], conditions: [] });
    client.putConfig({ name: 'pods', spec: { subnetId: 'subnet-fake', securityGroupIds: ['sg-1'] } });
    const settings = configSchema.parse({ kubernetes: { enabled: true } }).kubernetes;
    const wiring = new KubeWiring({ settings, nodeName: NODE, clock, metrics: new MemoryMetrics(), logger: silentLogger(), client });
    cleanups.push(() => wiring.stop());
    const requests: unknown[] = [];
    const cloud = new FakeCloudProvider({ clock, hook: (op, args) => void (op === 'attachNic' && requests.push(args)) });
    const provider = wiring.wrapProvider(cloud);
    // Not started yet: nothing known; the attach waits instead of guessing.
    wiring.start();
    const attached = provider.nicLifecycle!.attachNic({ deviceIndex: 1 });
    await clock.advance(0);
    await attached;
    expect(requests).toEqual([expect.objectContaining({ subnetId: 'subnet-fake', securityGroups: ['sg-1'] })]);
  });

  it('without a view the wait is bounded; then the static config applies', async () => {
    const clock = new FakeClock();
    const client = new FakeKubeClient();
    client.setDown(true);
    const settings = configSchema.parse({ kubernetes: { enabled: true, networkConfigWaitMs: 3000 } }).kubernetes;
    const wiring = new KubeWiring({ settings, nodeName: NODE, clock, metrics: new MemoryMetrics(), logger: silentLogger(), client, backoff: { baseMs: 10_000, capMs: 10_000 } });
    cleanups.push(() => wiring.stop());
    const requests: unknown[] = [];
    const cloud = new FakeCloudProvider({ clock, hook: (op, args) => void (op === 'attachNic' && requests.push(args)) });
    wiring.start();
    let done = false;
    const attached = wiring.wrapProvider(cloud).nicLifecycle!.attachNic({ deviceIndex: 1 }).then(() => (done = true));
    await clock.advance(2000);
    expect(done).toBe(false);
    await clock.advance(1000);
    await attached;
    expect(requests).toEqual([{ deviceIndex: 1 }]);
  });

  it('a missing selected config refuses NIC creation with CONFIG_INVALID', async () => {
    const s = await setup({ labels: { [NETWORK_CONFIG_KEY]: 'nope' } });
    await s.clock.advance(0);
    await expect(s.wiring.wrapProvider(s.cloud).nicLifecycle!.attachNic({ deviceIndex: 1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' } satisfies Partial<VpcnetError>);
    expect([...s.client.events.values()].map((e) => e.reason)).toContain('InvalidConfig');
  });
});

describe('max pods on the Node', () => {
  it('annotates the node with the max pods it was given, retrying while the API server is down', async () => {
    const s = await setup();
    s.client.setDown(true);
    s.wiring.publishMaxPods(110);
    await s.clock.advance(50);
    expect((await s.client.getNode(NODE).catch(() => undefined))?.annotations['vpcnet.io/max-pods']).toBeUndefined();
    s.client.setDown(false);
    await s.clock.advance(50);
    expect((await s.client.getNode(NODE)).annotations['vpcnet.io/max-pods']).toBe('110');
  });
});
