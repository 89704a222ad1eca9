import { describe, expect, it } from '@jest/globals';
import { Pool } from '../../../src/ipam/pool.ts';
import { SMALL, T0, fill, layout, pod, settle, setup } from './helpers.ts';

describe('WARM_ENI_TARGET (default 1)', () => {
  it('keeps one whole NIC of free addresses, filling NICs in one call each (AWS t3.small table)', async () => {
    const { pool, cloud } = await setup({});
    expect(await settle(pool, cloud, T0)).toEqual(['assign']);
    expect(layout(pool, T0)).toEqual([3]);
    for (let i = 0; i < 5; i++) {
      expect(pool.allocate(pod(i), T0)).not.toBeNull();
      await settle(pool, cloud, T0);
    }
    expect(layout(pool, T0)).toEqual([3, 3, 3]);
    expect(pool.counts(T0)).toMatchObject({ assigned: 5, available: 4, total: 9 });
    expect(cloud.callCount('attachNic')).toBe(2);
    expect(cloud.callCount('assign')).toBe(1);
  });

  it('stops at the instance NIC limit and says why', async () => {
    const { pool, cloud } = await setup({});
    for (let i = 0; i < 9; i++) {
      await settle(pool, cloud, T0);
      expect(pool.allocate(pod(i), T0)).not.toBeNull();
    }
    const plan = pool.plan(T0);
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toMatch(/no room/);
    expect(pool.allocate(pod(99), T0)).toBeNull();
  });

  it('creates a new NIC with its first blocks in the same action', async () => {
    const { pool, cloud } = await setup({ warmNics: 2 });
    expect(pool.plan(T0).actions).toEqual([
      { kind: 'assign', nicId: cloud.primaryNic.id, blockKind: 'ip', count: 3 },
      { kind: 'attach-nic', deviceIndex: 1, blockKind: 'ip', blockCount: 3 },
    ]);
  });

  it('detaches idle secondary NICs when a whole NIC above target is free, never the primary', async () => {
    const { pool, cloud } = await setup({});
    for (let i = 0; i < 5; i++) {
      await settle(pool, cloud, T0);
      pool.allocate(pod(i), T0);
    }
    await settle(pool, cloud, T0);
    for (let i = 0; i < 5; i++) pool.release(pod(i), T0);
    expect(pool.plan(T0 + 1000).actions).toEqual([]); // addresses still cooling
    // Cooled down, but the pool grew moments ago: NICs stay (detachHoldMs 10 min).
    expect(pool.plan(T0 + 30_000).actions).toEqual([]);
    // Past the hold, but 5 pods were in use within the scale-down window (30 min): NICs stay.
    expect(pool.plan(T0 + 600_000).actions).toEqual([]);
    expect(pool.plan(T0 + 1_799_999).actions).toEqual([]);
    const t = T0 + 1_800_000;
    expect(await settle(pool, cloud, t)).toEqual(['detach-nic', 'detach-nic']);
    expect(layout(pool, t)).toEqual([3]);
    expect((await cloud.listNics()).map((n) => n.deviceIndex)).toEqual([0]);
    expect(pool.plan(t).actions).toEqual([]);
  });
});

describe('scale-down window (hysteresis against release-and-refill cycles)', () => {
  const fillTo = async (n: number, at: number, from = 0): Promise<{ pool: Awaited<ReturnType<typeof setup>>['pool']; cloud: Awaited<ReturnType<typeof setup>>['cloud'] }> => {
    const s = await setup({});
    for (let i = from; i < n; i++) {
      await settle(s.pool, s.cloud, at);
      s.pool.allocate(pod(i), at);
    }
    await settle(s.pool, s.cloud, at);
    return s;
  };

  it('a release-and-refill cycle inside the window detaches nothing and creates nothing', async () => {
    const { pool, cloud } = await fillTo(5, T0);
    const attachesBefore = cloud.callCount('attachNic');
    // Half the pods leave over 15 minutes, the refill comes over the next 15 (the scale bench's churn).
    for (let i = 0; i < 3; i++) {
      const t = T0 + (i + 1) * 300_000;
      pool.release(pod(i), t);
      expect(await settle(pool, cloud, t + 60_000)).toEqual([]);
    }
    for (let i = 0; i < 3; i++) {
      const t = T0 + 900_000 + (i + 1) * 300_000;
      expect(pool.allocate(pod(10 + i), t)).not.toBeNull();
      expect(await settle(pool, cloud, t)).toEqual([]);
    }
    expect(cloud.callCount('attachNic')).toBe(attachesBefore);
    expect(cloud.callCount('detachNic')).toBe(0);
  });

  it('measures the window from the last moment of the peak, then trims to what the peak left', async () => {
    const { pool, cloud } = await fillTo(5, T0);
    const down = T0 + 600_000;
    for (let i = 0; i < 5; i++) pool.release(pod(i), down);
    expect(await settle(pool, cloud, down + 1_799_999)).toEqual([]);
    expect(await settle(pool, cloud, down + 1_800_000)).toEqual(['detach-nic', 'detach-nic']);
  });

  it('shrinkWindowMs 0 turns it off (only the cooldown and the detach hold remain)', async () => {
    const { pool, cloud } = await setup({ shrinkWindowMs: 0 });
    for (let i = 0; i < 5; i++) {
      await settle(pool, cloud, T0);
      pool.allocate(pod(i), T0);
    }
    await settle(pool, cloud, T0);
    for (let i = 0; i < 5; i++) pool.release(pod(i), T0);
    expect(await settle(pool, cloud, T0 + 600_000)).toEqual(['detach-nic', 'detach-nic']);
  });

  it('does not hold WARM_IP_TARGET pools (a tight target the user asked for)', async () => {
    const { pool, cloud } = await setup({ warmIps: 1 });
    for (let i = 0; i < 3; i++) {
      await settle(pool, cloud, T0);
      pool.allocate(pod(i), T0);
    }
    await settle(pool, cloud, T0);
    for (let i = 0; i < 3; i++) pool.release(pod(i), T0);
    expect(await settle(pool, cloud, T0 + 60_000)).toContain('release');
  });
});

describe('growth pauses', () => {
  const throttled = { code: 'CLOUD_THROTTLED' as const, message: 'RequestLimitExceeded' };

  it('ask for one more /28 than the target needs after throttled growth (one token buys it), then go back to the need', async () => {
    const { pool, cloud } = await setup({ prefixDelegation: true }, SMALL, { subnetCidr: '10.0.0.0/20' });
    const first = pool.plan(T0).actions[0];
    expect(first).toMatchObject({ kind: 'assign', blockKind: 'prefix', count: 1 });
    const begun = pool.begin(first as NonNullable<typeof first>, T0);
    pool.applyOutcome(begun as NonNullable<typeof begun>, { error: throttled }, T0);
    const after = T0 + 600_000;
    expect(pool.plan(after).actions).toEqual([expect.objectContaining({ kind: 'assign', blockKind: 'prefix', count: 2 })]);
    expect(await settle(pool, cloud, after)).toEqual(['assign']);
    expect(pool.counts(after).available).toBe(32);
    // The extra /28 is kept while growth was throttled within the scale-down window (30 min), then trimmed.
    expect(await settle(pool, cloud, T0 + 1_799_999)).toEqual([]);
    expect(await settle(pool, cloud, T0 + 1_800_000)).toEqual(['release']);
    // Success reset it: the next growth asks for what the target needs.
    for (let i = 0; i < 1; i++) pool.allocate(pod(i), T0 + 1_800_000);
    expect(pool.plan(T0 + 1_800_000).actions).toEqual([expect.objectContaining({ kind: 'assign', count: 1 })]);
  });

  it('never ask for extra prefixes past maxPods, nor with extraPrefixesWhenThrottled 0', async () => {
    for (const targets of [{ maxPods: 16 }, { extraPrefixesWhenThrottled: 0 }]) {
      const { pool } = await setup({ prefixDelegation: true, ...targets }, SMALL, { subnetCidr: '10.0.0.0/20' });
      const first = pool.plan(T0).actions[0];
      pool.applyOutcome(pool.begin(first as NonNullable<typeof first>, T0) as NonNullable<typeof first>, { error: throttled }, T0);
      expect(pool.plan(T0 + 600_000).actions).toEqual([expect.objectContaining({ kind: 'assign', count: 1 })]);
    }
  });

  it('are jittered to 50-100 % when the pool has a random source', async () => {
    const { cloud } = await setup({});
    const pool = new Pool({ limits: cloud.limits, nicLifecycle: true, targets: { retryPauseMs: 8_000 }, random: () => 0 });
    pool.reconcile(await cloud.listNics(), T0, { trustUnknown: true });
    const action = pool.plan(T0).actions[0];
    pool.applyOutcome(pool.begin(action as NonNullable<typeof action>, T0) as NonNullable<typeof action>, { error: throttled }, T0);
    expect(pool.status(T0).conditions.find((c) => c.type === 'CloudUnavailable')?.until).toBe(T0 + 4_000);
  });

  it('double with each throttled growth in a row, up to retryPauseMaxMs, and reset on success', async () => {
    const { pool, cloud } = await setup({ retryPauseMs: 5_000, retryPauseMaxMs: 20_000 });
    const pauses: number[] = [];
    let now = T0;
    for (let i = 0; i < 4; i++) {
      const action = pool.plan(now).actions[0];
      if (!action) throw new Error('expected growth');
      const begun = pool.begin(action, now);
      if (!begun) throw new Error('expected growth to begin');
      pool.applyOutcome(begun, { error: throttled }, now);
      const until = pool.status(now).conditions.find((c) => c.type === 'CloudUnavailable')?.until ?? now;
      pauses.push(until - now);
      now = until;
    }
    expect(pauses).toEqual([5_000, 10_000, 20_000, 20_000]);
    await settle(pool, cloud, now);
    const next = pool.plan(now + 1).actions[0];
    expect(next).toBeUndefined(); // at target after the successful growth
  });
});

describe('WARM_IP_TARGET and MINIMUM_IP_TARGET', () => {
  it('hold exactly the minimum, then warm IPs above use (AWS t3.small 2/5 table)', async () => {
    const { pool, cloud } = await setup({ warmIps: 2, minimumIps: 5 });
    await settle(pool, cloud, T0);
    expect(pool.counts(T0)).toMatchObject({ total: 5, available: 5 });
    for (let i = 0; i < 5; i++) pool.allocate(pod(i), T0);
    await settle(pool, cloud, T0);
    expect(layout(pool, T0)).toEqual([3, 3, 1]);
    expect(pool.counts(T0)).toMatchObject({ assigned: 5, available: 2, total: 7 });
  });

  it('releases addresses above target after cooldown, down to the target, and then holds still', async () => {
    const { pool, cloud } = await setup({ warmIps: 2 }, { ...SMALL, addressesPerNic: 11 });
    await settle(pool, cloud, T0);
    await fill(pool, cloud, 0, 6, T0);
    expect(pool.counts(T0)).toMatchObject({ assigned: 6, available: 2, total: 8 });
    for (let i = 0; i < 6; i++) pool.release(pod(i), T0);
    expect(pool.plan(T0 + 29_999).actions).toEqual([]);
    const t = T0 + 30_000;
    expect(await settle(pool, cloud, t)).toEqual(['release']);
    expect(pool.counts(t)).toMatchObject({ available: 2, total: 2 });
    expect(pool.plan(t).actions).toEqual([]);
    expect(pool.plan(t + 3_600_000).actions).toEqual([]);
  });

  it('tolerates maxAboveTarget extra free addresses before releasing (no flapping)', async () => {
    const { pool, cloud } = await setup({ warmIps: 2, maxAboveTarget: 2 }, { ...SMALL, addressesPerNic: 11 });
    await settle(pool, cloud, T0);
    await fill(pool, cloud, 0, 4, T0);
    pool.release(pod(0), T0);
    pool.release(pod(1), T0);
    const t = T0 + 30_000;
    expect(pool.counts(t).available).toBe(4);
    expect(pool.plan(t).actions).toEqual([]); // 2 above target: tolerated
    pool.release(pod(2), T0);
    expect(pool.plan(t).actions).toEqual([
      { kind: 'release', nicId: cloud.primaryNic.id, blocks: [expect.objectContaining({ kind: 'ip' })] },
    ]);
    await settle(pool, cloud, t);
    expect(pool.counts(t).available).toBe(4);
    expect(pool.plan(t).actions).toEqual([]);
  });
});

describe('WARM_PREFIX_TARGET (prefix delegation)', () => {
  it('keeps a free /28 worth of addresses and packs pods into the fullest prefix (AWS table)', async () => {
    const { pool, cloud } = await setup({ prefixDelegation: true, warmPrefixes: 1 });
    await settle(pool, cloud, T0);
    expect(pool.status(T0).nics[0]?.blocks.map((b) => b.kind)).toEqual(['prefix']);
    for (let i = 0; i < 5; i++) pool.allocate(pod(i), T0);
    await settle(pool, cloud, T0);
    expect(pool.counts(T0)).toMatchObject({ assigned: 5, available: 27, total: 32 });
    for (let i = 5; i < 16; i++) pool.allocate(pod(i), T0);
    await settle(pool, cloud, T0);
    const blocks = pool.status(T0).nics[0]?.blocks ?? [];
    expect(blocks.map((b) => b.assigned)).toEqual([16, 0]);
    expect(pool.allocate(pod(16), T0)?.blockCidr).toBe(blocks[1]?.cidr);
    await settle(pool, cloud, T0);
    expect(pool.counts(T0)).toMatchObject({ assigned: 17, total: 48 });
  });

  it('releases only whole free prefixes beyond the target', async () => {
    const { pool, cloud } = await setup({ prefixDelegation: true, warmPrefixes: 1 });
    await settle(pool, cloud, T0);
    for (let i = 0; i < 17; i++) pool.allocate(pod(i), T0);
    await settle(pool, cloud, T0);
    pool.release(pod(16), T0);
    const t = T0 + 30_000;
    await settle(pool, cloud, t);
    expect(pool.status(t).nics[0]?.blocks.map((b) => b.assigned)).toEqual([16, 0]);
    expect(pool.plan(t).actions).toEqual([]);
  });
});

describe('MAX_ENI and maxPods', () => {
  it('never uses more NICs than MAX_ENI', async () => {
    const { pool, cloud } = await setup({ maxNics: 2 });
    for (let i = 0; i < 6; i++) {
      await settle(pool, cloud, T0);
      pool.allocate(pod(i), T0);
    }
    await settle(pool, cloud, T0);
    expect(layout(pool, T0)).toEqual([3, 3]);
    expect(cloud.callCount('attachNic')).toBe(1);
  });

  it('refuses pods beyond maxPods with POOL_AT_CAPACITY and stops growing there', async () => {
    const { pool, cloud } = await setup({ maxPods: 4, warmIps: 1 });
    await settle(pool, cloud, T0);
    for (let i = 0; i < 4; i++) {
      expect(pool.allocate(pod(i), T0)).not.toBeNull();
      await settle(pool, cloud, T0);
    }
    expect(() => pool.allocate(pod(4), T0)).toThrow(expect.objectContaining({ code: 'POOL_AT_CAPACITY' }));
    expect(pool.counts(T0).total).toBe(4);
    expect(pool.plan(T0).actions).toEqual([]);
  });
});
