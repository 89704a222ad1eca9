// At the node's hard address limit (every NIC full, no NIC can be added) an ADD cannot be helped
// by waiting: the pool manager answers at once, rather than after the ADD deadline, and raises
// NodeAddressLimit.
import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../../src/ipam/pool-manager.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { cniCodeOf } from '../../../src/errors.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { T0, pod } from './helpers.ts';

/** Settles `p` if it settles without the fake clock moving; 'pending' otherwise. */
async function settledNow<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown } | 'pending'> {
  const marker = new Promise<'pending'>((r) => setTimeout(() => r('pending'), 50));
  return Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), marker]);
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
    const { m } = make({ maxNics: 1, addressesPerNic: 3 });
    await m.start();
    await m.allocate(pod(1), { deadlineMs: 60_000 });
    await m.allocate(pod(2), { deadlineMs: 60_000 });
    await m.refill();
    const third = await settledNow(m.allocate(pod(3), { deadlineMs: 60_000 }));
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
    const { m } = make({ maxNics: 2, addressesPerNic: 3 });
    await m.start();
    await m.allocate(pod(1), { deadlineMs: 60_000 });
    await m.allocate(pod(2), { deadlineMs: 60_000 });
    const third = await m.allocate(pod(3), { deadlineMs: 60_000 });
    expect(third.deviceIndex).toBe(1);
    expect(m.status().conditions.map((c) => c.type)).not.toContain('NodeAddressLimit');
    await m.stop();
  });
});
