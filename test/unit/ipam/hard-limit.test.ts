// At the node's hard address limit (every NIC full, no NIC can be added) an ADD cannot be helped
// by waiting: the pool manager answers at once (the kubelet would otherwise hold the pod for the
// whole deadline) and raises NodeAddressLimit.
import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../../src/ipam/pool-manager.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { cniCodeOf } from '../../../src/errors.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { T0, pod } from './helpers.ts';

/**
 * How `p` settles while the fake clock stands still: it gets every turn of the event loop it
 * needs, but no time passes, so a wait for the deadline (or any sleep) leaves it 'pending'.
 */
async function settledNow<T>(p: Promise<T>, clock: FakeClock): Promise<{ value?: T; error?: unknown } | 'pending'> {
  let outcome: { value?: T; error?: unknown } | undefined;
  void p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const start = clock.now();
  for (let i = 0; i < 100 && !outcome; i++) await clock.advance(0);
  expect(clock.now()).toBe(start);
  return outcome ?? 'pending';
}

function make(limits: { maxNics: number; addressesPerNic: number }): { m: PoolManager; clock: FakeClock } {
  const clock = new FakeClock(T0);
  const cloud = new FakeCloudProvider({ limits: { ...limits, blockKinds: ['ip'] }, clock });
  const m = new PoolManager({ provider: cloud, store: new MemoryCheckpointStore(), limits: cloud.limits, targets: { warmIps: 1, cooldownMs: 0 }, clock, metrics: new MemoryMetrics() });
  return { m, clock };
}

describe('node address limit', () => {
  it('ADD fails at once (not after the deadline) with a clear error, and the pool raises NodeAddressLimit', async () => {
    // one NIC, 3 addresses: its own + 2 for pods; no NIC can be added
    const { m, clock } = make({ maxNics: 1, addressesPerNic: 3 });
    await m.start();
    await m.allocate(pod(1), { deadlineMs: 60_000 });
    await m.allocate(pod(2), { deadlineMs: 60_000 });
    await m.refill();
    const third = await settledNow(m.allocate(pod(3), { deadlineMs: 60_000 }), clock);
    expect(third).not.toBe('pending');
    const err = (third as { error?: unknown }).error;
    expect(err).toBeInstanceOf(VpcnetError);
    expect((err as VpcnetError).code).toBe('POOL_AT_CAPACITY');
    expect(cniCodeOf((err as VpcnetError).code)).toBe(101);
    expect((err as VpcnetError).message).toContain('address limit');
    expect(m.status().conditions.map((c) => c.type)).toContain('NodeAddressLimit');
    // a freed address clears it
    await m.release(pod(1));
    await m.allocate(pod(3), { deadlineMs: 60_000 });
    expect(m.status().conditions.map((c) => c.type)).not.toContain('NodeAddressLimit');
    await m.stop();
  });

  it('a node that can still add a NIC waits for the refill instead', async () => {
    const { m, clock } = make({ maxNics: 2, addressesPerNic: 3 });
    await m.start();
    await m.allocate(pod(1), { deadlineMs: 60_000 });
    await m.allocate(pod(2), { deadlineMs: 60_000 });
    const third = await settledNow(m.allocate(pod(3), { deadlineMs: 60_000 }), clock);
    expect(third).toMatchObject({ value: { deviceIndex: 1 } });
    expect(m.status().conditions.map((c) => c.type)).not.toContain('NodeAddressLimit');
    await m.stop();
  });
});
