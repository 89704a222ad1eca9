import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider, type FakeProviderOptions } from '../../../providers/fake/fake-provider.ts';
import type { NodeLimits } from '../../../providers/provider.ts';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PoolManager, type PoolManagerOptions } from '../../../src/ipam/pool-manager.ts';
import type { PoolSettings } from '../../../src/ipam/types.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { SMALL, T0, pod } from './helpers.ts';

interface Rig {
  clock: FakeClock;
  cloud: FakeCloudProvider;
  store: MemoryCheckpointStore;
  metrics: MemoryMetrics;
  make: (extra?: Partial<PoolManagerOptions>) => PoolManager;
}

function rig(targets: Partial<PoolSettings> = {}, limits: Partial<NodeLimits> = SMALL, cloudOpts: FakeProviderOptions = {}): Rig {
  const clock = new FakeClock(T0);
  const cloud = new FakeCloudProvider({ ...cloudOpts, limits, clock });
  const store = new MemoryCheckpointStore();
  const metrics = new MemoryMetrics();
  const make = (extra: Partial<PoolManagerOptions> = {}): PoolManager =>
    new PoolManager({ provider: cloud, store, limits: cloud.limits, targets, clock, metrics, ...extra });
  return { clock, cloud, store, metrics, make };
}

/** A gate that holds one cloud operation until opened. */
function gate(cloud: FakeCloudProvider, op: string): { open: () => void; reached: Promise<void> } {
  let open: () => void = () => undefined;
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((r) => (reach = r));
  const opened = new Promise<void>((r) => (open = r));
  cloud.hook = async (called) => {
    if (called !== op) return;
    cloud.hook = undefined;
    reach();
    await opened;
  };
  return { open, reached };
}

function assertNoDoubleAssignment(m: PoolManager): void {
  const ips = m.pool.allocations().map((a) => a.ip);
  expect(new Set(ips).size).toBe(ips.length);
}

describe('PoolManager', () => {
  it('starts, fills to target, and commits each allocation before returning it', async () => {
    const r = rig();
    const m = r.make();
    expect(m.ready()).toBe(false);
    await m.start();
    expect(m.ready()).toBe(true);
    const a = await m.allocate(pod(1));
    expect(r.store.snapshot()?.allocations.map((x) => x.ip)).toEqual([a.ip]);
    expect(await m.allocate(pod(1))).toEqual(a);
    expect(await m.release(pod(1))).toEqual(a);
    expect(await m.release(pod(1))).toBeNull();
    expect(r.store.snapshot()?.allocations).toEqual([]);
    expect(r.metrics.get('vpcnet_allocations_total', { result: 'ok' })).toBe(1);
    expect(r.metrics.get('vpcnet_allocations_total', { result: 'repeat' })).toBe(1);
    expect(r.metrics.get('vpcnet_pool_addresses', { state: 'cooldown' })).toBe(1);
    await m.stop();
  });

  it('makes an ADD wait for a refill, then succeed', async () => {
    const r = rig();
    const m = r.make();
    await m.start();
    const g = gate(r.cloud, 'attachNic');
    for (let i = 0; i < 3; i++) await m.allocate(pod(i));
    await g.reached; // the refill kicked by the first ADD is now at the cloud
    let done = false;
    const waiting = m.allocate(pod(3), { deadlineMs: 10_000 }).then((a) => ((done = true), a));
    await r.clock.advance(0);
    expect(done).toBe(false);
    g.open();
    const a = await waiting;
    expect(a.deviceIndex).toBe(1);
    expect(r.cloud.callCount('attachNic', true)).toBeGreaterThanOrEqual(1);
    await m.stop();
  });

  it('fails an ADD with POOL_EXHAUSTED after the deadline, naming the condition', async () => {
    // The pool could grow (a second NIC) but the cloud does not answer in time. (A node that
    // cannot grow at all answers at once: test/unit/ipam/hard-limit.test.ts.)
    const r = rig({ warmIps: 3 }, { ...SMALL, maxNics: 2 });
    const m = r.make();
    await m.start();
    const g = gate(r.cloud, 'attachNic');
    for (let i = 0; i < 3; i++) await m.allocate(pod(i));
    const failing = m.allocate(pod(3), { deadlineMs: 2_000 });
    const seen = failing.catch((e: unknown) => e);
    await r.clock.advance(1_999);
    await r.clock.advance(1);
    const err = (await seen) as { code: string; message: string };
    expect(err.code).toBe('POOL_EXHAUSTED');
    expect(err.message).toMatch(/after waiting 2000 ms \(3 assigned/);
    expect(r.metrics.get('vpcnet_allocations_total', { result: 'exhausted' })).toBe(1);
    g.open();
    await m.stop();
  });

  it('reports the raised condition in POOL_EXHAUSTED', async () => {
    const r = rig();
    const m = r.make();
    await m.start();
    r.cloud.failNext('attachNic', 'SUBNET_FULL', { times: 5 });
    for (let i = 0; i < 3; i++) await m.allocate(pod(i));
    const seen = m.allocate(pod(3), { deadlineMs: 1_000 }).catch((e: unknown) => e);
    await r.clock.advance(1_000);
    const err = (await seen) as { code: string; message: string };
    expect(err.code).toBe('POOL_EXHAUSTED');
    expect(err.message).toMatch(/SubnetFull: attach-nic failed/);
    expect(r.metrics.get('vpcnet_pool_condition', { condition: 'SubnetFull' })).toBe(1);
    await m.stop();
  });

  it('wakes a waiting ADD when a cooling address becomes free', async () => {
    const r = rig({}, { ...SMALL, maxNics: 1, addressesPerNic: 2 });
    const m = r.make();
    await m.start();
    const a = await m.allocate(pod(1));
    await m.release(pod(1));
    const waiting = m.allocate(pod(2), { deadlineMs: 60_000 });
    await r.clock.advance(30_000);
    expect((await waiting).ip).toBe(a.ip);
    await m.stop();
  });

  it('refuses ADD beyond maxPods at once', async () => {
    const r = rig({ maxPods: 1 });
    const m = r.make();
    await m.start();
    await m.allocate(pod(1));
    await expect(m.allocate(pod(2))).rejects.toMatchObject({ code: 'POOL_AT_CAPACITY' });
    await m.stop();
  });

  it('serves a burst of 110 ADDs with a handful of cloud calls and group commits', async () => {
    const r = rig({ prefixDelegation: true }, { maxNics: 3, addressesPerNic: 10, blockKinds: ['ip', 'prefix'], prefixLength: 28 }, { subnetCidr: '10.0.0.0/20' });
    const m = r.make();
    await m.start();
    const allocs = await Promise.all(Array.from({ length: 110 }, (_, i) => m.allocate(pod(i), { deadlineMs: 30_000 })));
    expect(new Set(allocs.map((a) => a.ip)).size).toBe(110);
    const mutating = r.cloud.callCount('assign') + r.cloud.callCount('attachNic');
    expect(mutating).toBeLessThanOrEqual(10);
    expect(r.store.commits).toBeLessThan(60);
    expect(r.store.snapshot()?.allocations).toHaveLength(110);
    await m.stop();
  });

  it('serves a cold burst in one batch per NIC, not one call per pod', async () => {
    const limits = { maxNics: 3, addressesPerNic: 10, blockKinds: ['ip' as const] };
    const r = rig({ warmIps: 1 }, limits);
    const m = r.make();
    await m.start();
    expect(m.status().counts.total).toBe(1);
    const allocs = await Promise.all(Array.from({ length: 25 }, (_, i) => m.allocate(pod(i))));
    expect(new Set(allocs.map((a) => a.ip)).size).toBe(25);
    // 1 at start, then the primary's 8 free slots and two new NICs, each in one call.
    expect(r.cloud.callCount('assign') + r.cloud.callCount('attachNic')).toBeLessThanOrEqual(4);
    await m.stop();
  });

  it('gives back surplus on the periodic loop after cooldown', async () => {
    const r = rig({ warmIps: 1 }, { ...SMALL, addressesPerNic: 11 });
    const m = r.make({ intervalMs: 5_000 });
    await m.start();
    for (let i = 0; i < 6; i++) await m.allocate(pod(i));
    for (let i = 0; i < 6; i++) await m.release(pod(i));
    await r.clock.advance(35_000);
    expect(r.cloud.primaryNic.blocks).toHaveLength(1);
    expect(m.status().counts).toMatchObject({ total: 1, available: 1 });
    await m.stop();
  });

  it('reconciles with the cloud on demand and on its interval', async () => {
    const r = rig();
    // Start jitter pinned to mid-range: the first periodic reconcile is due 30 s in, ticking every 5 s from 2.5 s.
    const m = r.make({ intervalMs: 5_000, reconcileIntervalMs: 60_000, random: () => 0.5 });
    await m.start();
    const a = await m.allocate(pod(1));
    await r.clock.advance(0); // let the refill the ADD kicked finish
    r.cloud.dropBlock(a.nicId, a.blockCidr);
    const report = await m.reconcile();
    expect(report.lost.map((x) => x.ip)).toEqual([a.ip]);
    // The fake cloud may hand the freed address right back to a refill: then c1 gets it back.
    const saved = r.store.snapshot();
    const holders = [...(saved?.lost ?? []), ...(saved?.allocations ?? [])].filter((x) => x.ip === a.ip);
    expect(holders.map((x) => x.containerId)).toEqual(['c1']);
    const extra = r.cloud.addBlockOutOfBand(r.cloud.primaryNic.id, 'ip');
    await r.clock.advance(60_000);
    expect(m.status().nics[0]?.blocks.map((b) => b.cidr)).toContain(extra?.cidr);
    expect(r.metrics.get('vpcnet_reconcile_total', { outcome: 'adopted' })).toBe(1);
    await m.stop();
  });

  it('releases addresses of pods that are gone', async () => {
    const r = rig();
    const m = r.make();
    await m.start();
    await m.allocate(pod(1));
    await m.allocate(pod(2));
    await r.clock.advance(120_000);
    const gone = await m.reconcilePods([pod(2)], { minAgeMs: 60_000 });
    expect(gone.map((a) => a.containerId)).toEqual(['c1']);
    expect(r.store.snapshot()?.allocations.map((a) => a.containerId)).toEqual(['c2']);
    await m.stop();
  });
});

describe('PoolManager crash safety', () => {
  it('never returns an allocation that did not reach the checkpoint', async () => {
    const r = rig();
    const m = r.make();
    await m.start();
    await m.allocate(pod(1));
    r.store.crashAfter(0);
    await expect(m.allocate(pod(2))).rejects.toMatchObject({ code: 'CHECKPOINT_IO' });
    const restarted = rig();
    const m2 = new PoolManager({ provider: r.cloud, store: r.store, limits: r.cloud.limits, clock: r.clock });
    r.store.crashAfter(Number.POSITIVE_INFINITY);
    await m2.start();
    expect(m2.pool.allocations().map((a) => a.containerId)).toEqual(['c1']);
    expect(restarted.store.commits).toBe(0);
    await m2.stop();
  });

  it('adopts a NIC attached just before a crash, in cooldown, with no double assignment', async () => {
    const r = rig();
    const m1 = r.make();
    await m1.start();
    const g = gate(r.cloud, 'attachNic');
    const before = await Promise.all([0, 1, 2].map((i) => m1.allocate(pod(i))));
    await g.reached;
    // The attach lands in the cloud, but the agent dies before it records it.
    r.store.crashAfter(0);
    g.open();
    await m1.stop();
    expect(r.cloud.callCount('attachNic', true)).toBe(1);
    expect(r.store.snapshot()?.nics).toHaveLength(1);
    r.store.crashAfter(Number.POSITIVE_INFINITY);
    const m2 = r.make();
    await m2.start();
    expect(m2.pool.allocations().map((a) => a.ip).sort()).toEqual(before.map((a) => a.ip).sort());
    const adopted = m2.status().nics[1];
    expect(adopted?.blocks.every((b) => b.cooldown === 1)).toBe(true);
    assertNoDoubleAssignment(m2);
    await m2.stop();
  });

  it('recovers from an ambiguous assign (cloud did it, caller saw a timeout)', async () => {
    const r = rig({ warmIps: 2 }, { ...SMALL, addressesPerNic: 11 });
    r.cloud.failNext('assign', 'CLOUD_TIMEOUT', { when: 'after' });
    const m = r.make();
    await m.start();
    expect(m.status().counts.total).toBe(0);
    expect(m.status().conditions[0]?.type).toBe('CloudUnavailable');
    // The next refill reads cloud truth first, without waiting for the periodic reconcile.
    await m.refill();
    expect(r.cloud.callCount('listNics')).toBe(2);
    expect(m.status().counts).toMatchObject({ total: 2, cooldown: 2 });
    // Cooling addresses cannot serve pods, so the pool grows; after cooldown it gives the surplus back.
    await r.clock.advance(40_000);
    expect(m.status().counts).toMatchObject({ total: 2, available: 2 });
    const held = m.status().nics[0]?.blocks.map((b) => b.cidr).sort();
    expect(r.cloud.primaryNic.blocks.map((b) => b.cidr).sort()).toEqual(held);
    await m.stop();
  });
});
