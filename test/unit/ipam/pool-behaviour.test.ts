import { describe, expect, it } from '@jest/globals';
import { Pool } from '../../../src/ipam/pool.ts';
import { SMALL, T0, fill, pod, settle, setup } from './helpers.ts';

describe('allocate / release', () => {
  it('is idempotent by containerId + ifname, and a second ifname is a second address', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    const a = pool.allocate({ containerId: 'x', ifname: 'eth0', podName: 'web' }, T0);
    const again = pool.allocate({ containerId: 'x', ifname: 'eth0' }, T0 + 5);
    expect(again).toEqual(a);
    const b = pool.allocate({ containerId: 'x', ifname: 'net1' }, T0);
    expect(a?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b?.ip).not.toBe(a?.ip);
    expect(pool.release({ containerId: 'x', ifname: 'eth0' }, T0)?.ip).toBe(a?.ip);
    expect(pool.release({ containerId: 'x', ifname: 'eth0' }, T0)).toBeNull();
    expect(pool.release({ containerId: 'never-seen', ifname: 'eth0' }, T0)).toBeNull();
    expect(pool.counts(T0)).toMatchObject({ assigned: 1, cooldown: 1 });
  });

  it('gives the datapath everything it needs', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    const a = pool.allocate({ containerId: 'x', ifname: 'eth0', netns: '/var/run/netns/x' }, T0);
    const nic = cloud.primaryNic;
    expect(a).toMatchObject({ nicId: nic.id, deviceIndex: 0, nicMac: nic.mac, subnetCidr: nic.subnetCidr, blockKind: 'ip', allocatedAt: T0, netns: '/var/run/netns/x' });
    expect(a?.blockCidr).toBe(`${a?.ip}/32`);
  });

  it('does not reuse a released address for 30 s, and does after', async () => {
    const { pool, cloud } = await setup({ warmIps: 1, minimumIps: 1 });
    await settle(pool, cloud, T0);
    expect(pool.counts(T0).total).toBe(1);
    const first = pool.allocate(pod(1), T0);
    pool.release(pod(1), T0);
    expect(pool.allocate(pod(2), T0 + 29_999)).toBeNull();
    expect(pool.nextCooldownEnd(T0)).toBe(T0 + 30_000);
    expect(pool.allocate(pod(2), T0 + 30_000)?.ip).toBe(first?.ip);
  });

  it('prefers other free addresses over a cooling one', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    const a = pool.allocate(pod(1), T0);
    pool.release(pod(1), T0);
    const b = pool.allocate(pod(2), T0 + 1);
    expect(a?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b?.ip).not.toBe(a?.ip);
  });

  it('fences blocks being released: nothing is handed out from them', async () => {
    const { pool, cloud } = await setup({ warmIps: 1 }, { ...SMALL, addressesPerNic: 11 });
    await fill(pool, cloud, 0, 3, T0);
    for (let i = 0; i < 3; i++) pool.release(pod(i), T0);
    const t = T0 + 30_000;
    const [release] = pool.plan(t).actions;
    expect(release?.kind).toBe('release');
    const begun = release ? pool.begin(release, t) : null;
    expect(begun).not.toBeNull();
    expect(pool.counts(t).available).toBe(1);
    // The one address outside the fenced blocks is still served, and nothing after it.
    const a = pool.allocate(pod(9), t);
    const fenced = begun?.kind === 'release' ? begun.blocks.map((b) => b.cidr) : [];
    expect(fenced.length).toBeGreaterThan(0);
    expect(a?.blockCidr).toMatch(/\/32$/);
    expect(fenced).not.toContain(a?.blockCidr);
    expect(pool.allocate(pod(10), t)).toBeNull();
  });

  it('drops a release for blocks a pod took between plan and begin', async () => {
    const { pool, cloud } = await setup({ warmIps: 1 }, { ...SMALL, addressesPerNic: 11 });
    await fill(pool, cloud, 0, 2, T0);
    pool.release(pod(0), T0);
    pool.release(pod(1), T0);
    const t = T0 + 30_000;
    const [release] = pool.plan(t).actions;
    expect(release?.kind === 'release' && release.blocks.length).toBe(2);
    pool.allocate(pod(5), t);
    pool.allocate(pod(6), t);
    expect(release && pool.begin(release, t)).toMatchObject({ kind: 'release', blocks: [expect.anything()] });
  });
});

describe('conditions and prefix fallback', () => {
  it('falls back to single addresses when no /28 is free, then returns to prefixes', async () => {
    const { pool, cloud } = await setup({ prefixDelegation: true }, SMALL, { subnetCidr: '10.0.0.0/26' });
    for (let n = 0; n < 64; n += 16) cloud.subnet.occupy(`10.0.0.${n + 8}`); // fragment every /28
    expect(await settle(pool, cloud, T0)).toEqual(['assign!SUBNET_FULL']);
    // The warm target stays 16 addresses, now served by single-address blocks.
    expect(pool.plan(T0).actions[0]).toEqual(expect.objectContaining({ kind: 'assign', blockKind: 'ip', count: 3 }));
    expect(await settle(pool, cloud, T0)).toEqual(['assign', 'attach-nic', 'attach-nic']);
    expect(pool.counts(T0).available).toBe(9);
    const s = pool.status(T0);
    expect(s.blockKind).toBe('ip');
    expect(s.conditions).toEqual([expect.objectContaining({ type: 'SubnetFull' })]);
    expect(s.conditions[0]?.until).toBeUndefined();
    expect(s.nics[0]?.blocks.every((b) => b.kind === 'ip')).toBe(true);
    expect(pool.status(T0 + 300_000).blockKind).toBe('prefix');
  });

  it('pauses growth on CLOUD_LIMIT_EXCEEDED until the pause ends, and clears on success', async () => {
    const { pool, cloud } = await setup({});
    cloud.failNext('assign', 'CLOUD_LIMIT_EXCEEDED');
    expect(await settle(pool, cloud, T0)).toEqual(['assign!CLOUD_LIMIT_EXCEEDED']);
    expect(pool.status(T0).conditions).toEqual([expect.objectContaining({ type: 'CloudLimitReached', until: T0 + 60_000 })]);
    expect(pool.plan(T0 + 59_999)).toMatchObject({ actions: [], reason: expect.stringMatching(/paused: CloudLimitReached/) });
    expect(await settle(pool, cloud, T0 + 60_000)).toEqual(['assign']);
    expect(pool.status(T0 + 60_000).conditions).toEqual([]);
  });

  it('raises SubnetFull and CloudPermissionDenied with a pause; transient errors pause briefly', async () => {
    const { pool, cloud } = await setup({});
    cloud.failNext('assign', 'CLOUD_PERMISSION_DENIED');
    await settle(pool, cloud, T0);
    expect(pool.status(T0).conditions[0]).toMatchObject({ type: 'CloudPermissionDenied', until: T0 + 60_000 });
    cloud.failNext('assign', 'CLOUD_THROTTLED');
    await settle(pool, cloud, T0 + 60_000);
    expect(pool.status(T0).conditions.map((c) => c.type)).toContain('CloudUnavailable');
    expect(pool.status(T0).conditions.find((c) => c.type === 'CloudUnavailable')?.until).toBe(T0 + 65_000);
  });
});

describe('partial outcomes', () => {
  it('keeps a NIC that attached even when its blocks failed, and fills it later', async () => {
    const { pool, cloud } = await setup({ warmIps: 3 });
    await settle(pool, cloud, T0);
    for (let i = 0; i < 3; i++) pool.allocate(pod(i), T0);
    cloud.shortNext('attachNic', 0);
    cloud.failNext('assign', 'SUBNET_FULL');
    expect(await settle(pool, cloud, T0)).toEqual(['attach-nic!SUBNET_FULL']);
    const s = pool.status(T0);
    expect(s.nics.map((n) => n.deviceIndex)).toEqual([0, 1]);
    expect(s.nics[1]?.blocks).toEqual([]);
    expect(s.conditions[0]?.type).toBe('SubnetFull');
    const t = T0 + 60_000;
    expect(await settle(pool, cloud, t)).toEqual(['assign']);
    expect(pool.counts(t).available).toBe(3);
    expect(cloud.callCount('attachNic')).toBe(1);
  });

  it('records exactly the blocks an assign returned when it returns fewer', async () => {
    const { pool, cloud } = await setup({ warmIps: 3 });
    cloud.shortNext('assign', 1);
    expect(await settle(pool, cloud, T0, 1)).toEqual(['assign']);
    expect(pool.counts(T0).total).toBe(1);
    await settle(pool, cloud, T0);
    expect(pool.counts(T0).total).toBe(3);
  });

  it('keeps a block fenced after an ambiguous release failure until reconcile decides', async () => {
    const { pool, cloud } = await setup({ warmIps: 1 }, { ...SMALL, addressesPerNic: 11 });
    await fill(pool, cloud, 0, 2, T0);
    pool.release(pod(0), T0);
    pool.release(pod(1), T0);
    const t = T0 + 30_000;
    cloud.failNext('release', 'CLOUD_TIMEOUT', { when: 'after' });
    expect(await settle(pool, cloud, t)).toEqual(['release!CLOUD_TIMEOUT']);
    expect(pool.status(t).nics[0]?.blocks.filter((b) => b.releasing)).toHaveLength(2);
    expect(pool.counts(t).available).toBe(1);
    expect(pool.plan(t).actions).toEqual([]);
    const report = pool.reconcile(await cloud.listNics(), t);
    expect(report.removed).toHaveLength(2);
    expect(pool.counts(t)).toMatchObject({ total: 1, available: 1, assigned: 0 });
  });
});

describe('reconcile with cloud truth', () => {
  it('removes a block the cloud lost, reports its pod lost, and never hands it out again', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    const a = pool.allocate(pod(1), T0);
    if (!a) throw new Error('no allocation');
    cloud.dropBlock(a.nicId, a.blockCidr);
    const report = pool.reconcile(await cloud.listNics(), T0);
    expect(report.removed).toEqual([{ nicId: a.nicId, block: { kind: 'ip', cidr: a.blockCidr } }]);
    expect(report.lost).toEqual([a]);
    expect(pool.status(T0).lost).toEqual([a]);
    // the other addresses are still served; the lost one never is
    const served = [2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => pool.allocate(pod(i), T0)?.ip ?? []);
    expect(served.length).toBeGreaterThan(0);
    expect(served).not.toContain(a.ip);
    expect(pool.release(pod(1), T0)).toEqual(a);
    expect(pool.status(T0).lost).toEqual([]);
  });

  it('gives a lost address back to its pod when the block reappears', async () => {
    const { pool, cloud } = await setup({ warmIps: 1, minimumIps: 1 });
    await settle(pool, cloud, T0);
    const a = pool.allocate(pod(1), T0);
    if (!a) throw new Error('no allocation');
    const nic = cloud.primaryNic;
    cloud.dropBlock(nic.id, a.blockCidr);
    pool.reconcile(await cloud.listNics(), T0);
    const restored = pool.reconcile([{ ...nic }], T0 + 1);
    expect(restored.restored).toEqual([a]);
    expect(pool.get(pod(1))).toEqual(a);
    expect(pool.allocate(pod(2), T0 + 60_000)).toBeNull();
  });

  it('adopts unknown blocks in cooldown (a crashed agent may have handed them out)', async () => {
    const { pool, cloud } = await setup({ warmIps: 1, minimumIps: 1 });
    await settle(pool, cloud, T0);
    const extra = cloud.addBlockOutOfBand(cloud.primaryNic.id, 'ip');
    const report = pool.reconcile(await cloud.listNics(), T0);
    expect(report.adopted).toEqual([{ nicId: cloud.primaryNic.id, block: extra }]);
    expect(pool.counts(T0)).toMatchObject({ total: 2, available: 1, cooldown: 1 });
    expect(pool.counts(T0 + 30_000)).toMatchObject({ available: 2, cooldown: 0 });
  });

  it('drops NICs the cloud no longer has and adopts NICs it did not know', async () => {
    const { pool, cloud } = await setup({ warmNics: 2 });
    await settle(pool, cloud, T0);
    const nics = await cloud.listNics();
    const second = nics[1];
    if (!second) throw new Error('no second NIC');
    cloud.removeNicOutOfBand(second.id);
    const report = pool.reconcile(await cloud.listNics(), T0);
    expect(report.nicsRemoved).toEqual([second.id]);
    const fresh = new Pool({ limits: cloud.limits, nicLifecycle: true });
    expect(fresh.reconcile(nics, T0).nicsAdded).toEqual(nics.map((n) => n.id));
  });

  it('releases allocations of pods that no longer exist, via cooldown', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    pool.allocate(pod(1), T0);
    pool.allocate(pod(2), T0);
    pool.allocate(pod(3), T0 + 50_000);
    const released = pool.reconcilePods([pod(2)], T0 + 60_000, { minAgeMs: 30_000 });
    expect(released.map((a) => a.containerId)).toEqual(['c1']);
    expect(pool.counts(T0 + 60_000)).toMatchObject({ assigned: 2, cooldown: 1 });
  });
});

describe('checkpoint data', () => {
  it('round-trips the whole state', async () => {
    const { pool, cloud } = await setup({ prefixDelegation: true });
    await fill(pool, cloud, 0, 20, T0);
    pool.release(pod(3), T0);
    const data = JSON.parse(JSON.stringify(pool.toCheckpoint()));
    const back = Pool.fromCheckpoint(data, { limits: cloud.limits, nicLifecycle: true, targets: { prefixDelegation: true } });
    expect(back.status(T0 + 10)).toEqual(pool.status(T0 + 10));
    expect(back.toCheckpoint()).toEqual(pool.toCheckpoint());
  });

  it('refuses state that would assign one address twice', async () => {
    const { pool, cloud } = await setup({});
    await settle(pool, cloud, T0);
    const a = pool.allocate(pod(1), T0);
    const data = pool.toCheckpoint();
    data.allocations.push({ ...a!, containerId: 'other' });
    expect(() => Pool.fromCheckpoint(data, { limits: cloud.limits, nicLifecycle: true })).toThrow(expect.objectContaining({ code: 'CHECKPOINT_CORRUPT' }));
  });
});

describe('range blocks (GCE alias range per node)', () => {
  it('takes one range for the node, serves every address from it locally, and never gives it back', async () => {
    const { pool, cloud } = await setup(
      { rangePrefixLength: 28 },
      { maxNics: 1, addressesPerNic: 2, blockKinds: ['range'] },
      { name: 'gcp', nicLifecycle: false },
    );
    expect(pool.plan(T0).actions).toEqual([{ kind: 'assign', nicId: cloud.primaryNic.id, blockKind: 'range', count: 1, prefixLength: 28 }]);
    await settle(pool, cloud, T0);
    expect(pool.status(T0)).toMatchObject({ mode: 'range', blockKind: 'range', counts: { total: 16, available: 16 } });
    await fill(pool, cloud, 0, 16, T0);
    expect(pool.allocate(pod(16), T0)).toBeNull();
    expect(pool.plan(T0).actions).toEqual([]);
    for (let i = 0; i < 16; i++) pool.release(pod(i), T0);
    expect(pool.plan(T0 + 3_600_000).actions).toEqual([]);
    expect(cloud.callCount('assign')).toBe(1);
  });
});
