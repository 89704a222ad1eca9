import { describe, it, expect } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { Reconciler } from '../../../src/agent/reconciler.ts';
import type { HostNic } from '../../../src/datapath/datapath.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { hostVethName } from '../../../src/datapath/naming.ts';
import type { Allocation } from '../../../src/ipam/types.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { silentLogger } from '../../../src/util/logger.ts';

const NIC: HostNic = { deviceIndex: 0, mac: '02:00:00:00:00:01', primaryIp: '10.0.0.10', subnetCidr: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 9001 };
const MIN = 60_000;

function alloc(containerId: string, ip: string): Allocation {
  return {
    containerId,
    ifname: 'eth0',
    ip,
    blockCidr: `${ip}/32`,
    blockKind: 'ip',
    nicId: 'eni-1',
    deviceIndex: 0,
    nicMac: NIC.mac,
    subnetCidr: NIC.subnetCidr,
    allocatedAt: 0,
  };
}

function setup(opts: { grace?: number; lease?: { tryAcquire(): Promise<boolean> } } = {}) {
  const clock = new FakeClock();
  const datapath = new FakeDatapath();
  const provider = new FakeCloudProvider({ clock });
  const metrics = new MemoryMetrics();
  const allocations: Allocation[] = [];
  const reconciler = new Reconciler({
    datapath,
    provider,
    allocations: () => allocations,
    mode: 'routed',
    intervalMs: MIN,
    leakedNicGraceMs: opts.grace ?? 10 * MIN,
    ...(opts.lease ? { sweepLease: opts.lease } : {}),
    clock,
    metrics,
    logger: silentLogger(),
    random: () => 0,
  });
  const wire = async (containerId: string, ip: string): Promise<void> => {
    await datapath.setupPod({ containerId, ifname: 'eth0', netns: '/run/netns/p', ip, mode: 'routed', nic: NIC, mtu: 9001 });
  };
  const outcome = (o: string): number => metrics.get('vpcnet_reconcile_total', { kind: o.startsWith('leaked-nic') ? 'nics' : 'kernel', outcome: o });
  return { clock, datapath, provider, metrics, allocations, reconciler, wire, outcome };
}

describe('Reconciler: kernel vs allocations', () => {
  it('removes wiring no allocation holds at start, keeps wired allocations', async () => {
    const t = setup();
    await t.wire('live', '10.0.0.20');
    t.allocations.push(alloc('live', '10.0.0.20'));
    await t.wire('crashed', '10.0.0.21'); // killed before its checkpoint commit, or a DEL lost
    t.datapath.addLeak({ ips: ['10.0.0.22'] }); // rules left without a link

    const r = await t.reconciler.reconcileKernel({ immediate: true });

    expect(r.removed.map((w) => w.hostIfname ?? w.ips[0]).sort()).toEqual(['10.0.0.22', hostVethName('crashed', 'eth0')]);
    const left = await t.datapath.listPods();
    expect(left).toEqual([{ hostIfname: hostVethName('live', 'eth0'), ips: ['10.0.0.20'] }]);
    expect(t.outcome('wiring-removed')).toBe(2);
    const torn = t.datapath.calls('teardownPod').map((c) => c.req);
    expect(torn.some((q) => q.hostIfname === hostVethName('crashed', 'eth0'))).toBe(true);
    expect(torn.every((q) => q.containerId !== 'live')).toBe(true);
  });

  it('a periodic pass acts only on a leak the previous pass saw too', async () => {
    const t = setup();
    await t.wire('racing', '10.0.0.30');

    const first = await t.reconciler.reconcileKernel();
    expect(first.removed).toEqual([]);
    expect(first.suspects).toHaveLength(1);
    expect(t.datapath.pods.size).toBe(1);

    const second = await t.reconciler.reconcileKernel();
    expect(second.removed).toHaveLength(1);
    expect(t.datapath.pods.size).toBe(0);
  });

  it('a suspect that gains its allocation before the next pass is kept', async () => {
    const t = setup();
    await t.wire('slow-add', '10.0.0.31');
    await t.reconciler.reconcileKernel();
    t.allocations.push(alloc('slow-add', '10.0.0.31'));
    const r = await t.reconciler.reconcileKernel();
    expect(r.removed).toEqual([]);
    expect(t.datapath.pods.size).toBe(1);
  });

  it('never tears down wiring that carries an allocated address (reported as a conflict)', async () => {
    const t = setup();
    await t.wire('old-pod', '10.0.0.40');
    t.allocations.push(alloc('new-pod', '10.0.0.40'));
    const r = await t.reconciler.reconcileKernel({ immediate: true });
    expect(r.removed).toEqual([]);
    expect(r.conflicts).toHaveLength(1);
    expect((await t.reconciler.reconcileKernel()).conflicts).toEqual([]); // reported once
    expect((await t.reconciler.reconcileKernel()).removed).toEqual([]);
    expect(t.outcome('wiring-conflict')).toBe(1);
    expect(t.datapath.calls('teardownPod')).toEqual([]);
  });

  it('reports an allocation without wiring once, and never releases it', async () => {
    const t = setup();
    t.allocations.push(alloc('no-wiring', '10.0.0.50'));
    const first = await t.reconciler.reconcileKernel();
    expect(first.missing).toEqual([]); // could be an ADD between allocate and setup
    const second = await t.reconciler.reconcileKernel();
    expect(second.missing.map((a) => a.containerId)).toEqual(['no-wiring']);
    const third = await t.reconciler.reconcileKernel();
    expect(third.missing).toEqual([]);
    expect(t.outcome('wiring-missing')).toBe(1);
    expect(t.allocations).toHaveLength(1);
  });

  it('counts a failed teardown and retries it on the next pass', async () => {
    const t = setup();
    await t.wire('stuck', '10.0.0.60');
    t.datapath.failNext('teardownPod');
    const r = await t.reconciler.reconcileKernel({ immediate: true });
    expect(r.removed).toEqual([]);
    expect(t.outcome('wiring-error')).toBe(1);
    const again = await t.reconciler.reconcileKernel();
    expect(again.removed).toHaveLength(1);
  });
});

describe('Reconciler: leaked NICs', () => {
  it('deletes cluster NICs left unattached beyond the grace period, not younger ones', async () => {
    const t = setup({ grace: 10 * MIN });
    await t.provider.discover();
    t.provider.failNext('attachNic', 'CLOUD_TIMEOUT', { when: 'created' });
    await expect(t.provider.attachNic({ deviceIndex: 1 })).rejects.toThrow();
    await t.clock.advance(5 * MIN);
    expect((await t.reconciler.reconcileNics()).deleted).toEqual([]);

    await t.clock.advance(6 * MIN);
    const r = await t.reconciler.reconcileNics();
    expect(r.deleted).toHaveLength(1);
    expect(await t.provider.findLeakedNics(0)).toEqual([]);
    expect(t.outcome('leaked-nic-deleted')).toBe(1);
  });

  it('a failed delete is counted and left for the next run', async () => {
    const t = setup({ grace: 0 });
    await t.provider.discover();
    t.provider.failNext('attachNic', 'CLOUD_TIMEOUT', { when: 'created' });
    await expect(t.provider.attachNic({ deviceIndex: 1 })).rejects.toThrow();
    t.provider.failNext('deleteNic', 'CLOUD_THROTTLED');
    expect((await t.reconciler.reconcileNics()).failed).toHaveLength(1);
    expect(t.outcome('leaked-nic-error')).toBe(1);
    expect((await t.reconciler.reconcileNics()).deleted).toHaveLength(1);
  });
});

describe('Reconciler: loop', () => {
  it('runs the kernel pass at start and every interval until stopped', async () => {
    const t = setup();
    await t.wire('crashed', '10.0.0.70');
    await t.reconciler.start();
    expect(t.datapath.pods.size).toBe(0); // the start pass acts at once

    t.datapath.addLeak({ ips: ['10.0.0.71'] });
    await t.clock.advance(MIN);
    await settle();
    expect(await t.datapath.listPods()).toHaveLength(1); // seen once: a suspect
    await t.clock.advance(MIN);
    await settle();
    expect(await t.datapath.listPods()).toHaveLength(0);

    await t.reconciler.stop();
    t.datapath.addLeak({ ips: ['10.0.0.72'] });
    await t.clock.advance(5 * MIN);
    await settle();
    expect(await t.datapath.listPods()).toHaveLength(1);
  });

  it('the lease holder sweeps for leaked NICs at most twice per grace period, not at every pass', async () => {
    const t = setup({ grace: 10 * MIN, lease: { tryAcquire: async () => true } });
    await t.provider.discover();
    await t.reconciler.start();
    for (let m = 0; m < 12; m++) {
      await t.clock.advance(MIN);
      await settle();
    }
    // random 0: the first sweep at the first pass, then every 5 min (grace / 2)
    expect(t.provider.callCount('findLeakedNics')).toBe(3);
    expect(t.datapath.calls('listPods')).toHaveLength(13);
    await t.reconciler.stop();
  });

  it('without a lease each node sweeps rarely (2 h, jittered), and not at all while another holds the lease', async () => {
    const solo = setup({ grace: 10 * MIN });
    await solo.provider.discover();
    await solo.reconciler.start();
    for (let m = 0; m < 12; m++) {
      await solo.clock.advance(MIN);
      await settle();
    }
    // random 0: the first sweep at the first pass, the next 1 h later (2 h x 0.5)
    expect(solo.provider.callCount('findLeakedNics')).toBe(1);
    await solo.reconciler.stop();
    const other = setup({ grace: 10 * MIN, lease: { tryAcquire: async () => false } });
    await other.provider.discover();
    await other.reconciler.start();
    for (let m = 0; m < 12; m++) {
      await other.clock.advance(MIN);
      await settle();
    }
    expect(other.provider.callCount('findLeakedNics')).toBe(0);
    await other.reconciler.stop();
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}

describe('teardown by host link name', () => {
  it('refuses links vpcnet did not name (never eth0 or a foreign veth)', async () => {
    const dp = new FakeDatapath();
    for (const hostIfname of ['eth0', 'veth1234', 'eni123']) {
      await expect(dp.teardownPod({ containerId: '#reconciler', ifname: 'eth0', hostIfname })).rejects.toMatchObject({ code: 'IFNAME_INVALID' });
    }
  });
});
