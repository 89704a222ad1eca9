// The pool on the three node shapes of the fake provider: the warm pool it plans must fit the
// node (an Azure NIC holds 256 addresses and cannot be hot-attached; a GCE node holds one range).
import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { fakeShape } from '../../../providers/fake/shapes.ts';
import { hasNicLifecycle } from '../../../providers/provider.ts';
import { DEFAULT_WARM_IPS_NO_ATTACH } from '../../../src/ipam/targets.ts';
import { Pool } from '../../../src/ipam/pool.ts';
import type { PlanAction, PoolSettings } from '../../../src/ipam/types.ts';
import { T0, fill, pod, settle } from './helpers.ts';

/** The targets the agent passes with an empty config (the schema's defaults). */
const CONFIG_DEFAULTS: Partial<PoolSettings> = { warmNics: 1, maxAboveTarget: 2, cooldownMs: 30_000, prefixDelegation: false };

async function shaped(shape: 'aws' | 'azure' | 'gce', targets: Partial<PoolSettings> = CONFIG_DEFAULTS): Promise<{ pool: Pool; cloud: FakeCloudProvider }> {
  const cloud = new FakeCloudProvider(fakeShape(shape));
  const pool = new Pool({ limits: cloud.limits, nicLifecycle: hasNicLifecycle(cloud), targets });
  pool.reconcile(await cloud.listNics(), T0, { trustUnknown: true });
  return { pool, cloud };
}

const growth = (actions: PlanAction[]): number =>
  actions.reduce((n, a) => n + (a.kind === 'assign' ? a.count : a.kind === 'attach-nic' ? a.blockCount : 0), 0);

describe('Azure-shaped node (256 addresses per NIC, no hot attach)', () => {
  it('defaults to a small warm-IP pool (Cilium pre-allocate 8), never a whole NIC of 255', async () => {
    const { pool, cloud } = await shaped('azure');
    expect(pool.status(T0)).toMatchObject({ mode: 'warm-ip', targets: { warmIps: DEFAULT_WARM_IPS_NO_ATTACH } });
    const plan = pool.plan(T0);
    expect(plan.actions).toEqual([{ kind: 'assign', nicId: cloud.primaryNic.id, blockKind: 'ip', count: DEFAULT_WARM_IPS_NO_ATTACH }]);
    await settle(pool, cloud, T0);
    expect(pool.counts(T0)).toMatchObject({ total: 8, available: 8 });
  });

  it('keeps the warm count as pods arrive, on the one NIC, in few calls, and never attaches', async () => {
    const { pool, cloud } = await shaped('azure');
    await fill(pool, cloud, 0, 40, T0);
    const c = pool.counts(T0);
    expect(c.assigned).toBe(40);
    expect(c.available).toBeGreaterThanOrEqual(8);
    expect(c.available).toBeLessThanOrEqual(8 + 2);
    expect(pool.status(T0).nics).toHaveLength(1);
    expect(cloud.callCount('attachNic')).toBe(0);
    expect(cloud.callCount('assign')).toBeLessThanOrEqual(40 / 8 + 1);
    for (let i = 0; i < 60; i++) expect(growth(pool.plan(T0 + i).actions)).toBeLessThan(255);
  });

  it('an explicit WARM_ENI_TARGET cannot make it fill the NIC; explicit warm IPs win', async () => {
    const nic = await shaped('azure', { ...CONFIG_DEFAULTS, warmNics: 3 });
    expect(growth(nic.pool.plan(T0).actions)).toBe(DEFAULT_WARM_IPS_NO_ATTACH);
    const ips = await shaped('azure', { ...CONFIG_DEFAULTS, warmIps: 20, minimumIps: 30 });
    expect(ips.pool.plan(T0).actions).toEqual([{ kind: 'assign', nicId: ips.cloud.primaryNic.id, blockKind: 'ip', count: 30 }]);
  });

  it('hands out nothing from a block the cloud reports not provisioned, and uses it once it is', async () => {
    const { pool, cloud } = await shaped('azure', { ...CONFIG_DEFAULTS, warmIps: 1 });
    await settle(pool, cloud, T0);
    const [block] = (await cloud.listNics())[0]?.blocks ?? [];
    expect(block?.ref).toMatch(/^ipconfig\d+$/);
    cloud.setBlockState(cloud.primaryNic.id, block?.cidr ?? '', 'pending');
    pool.reconcile(await cloud.listNics(), T0);
    expect(pool.counts(T0).available).toBe(0);
    expect(pool.allocate(pod(1), T0)).toBeNull();
    cloud.setBlockState(cloud.primaryNic.id, block?.cidr ?? '', 'ready');
    pool.reconcile(await cloud.listNics(), T0);
    expect(pool.allocate(pod(1), T0)?.ip).toBe(block?.cidr.split('/')[0]);
  });

  it('releases pass the block refs back to the provider (Azure deletes ipConfigurations by name)', async () => {
    const { pool, cloud } = await shaped('azure', { ...CONFIG_DEFAULTS, warmIps: 1, maxAboveTarget: 0 });
    await fill(pool, cloud, 0, 10, T0);
    for (let i = 0; i < 10; i++) pool.release(pod(i), T0);
    await settle(pool, cloud, T0 + 60_000);
    const releases = cloud.calls.filter((c) => c.op === 'release' && c.ok);
    expect(releases.length).toBeGreaterThan(0);
    for (const r of releases) for (const b of (r.args as { blocks: Array<{ ref?: string }> }).blocks) expect(b.ref).toMatch(/^ipconfig\d+$/);
    expect(pool.counts(T0 + 60_000).available).toBe(1);
  });
});

describe('GCE-shaped node (one alias range, no attach)', () => {
  it('is in range mode whatever the warm targets say: one /24 once, then no cloud calls', async () => {
    for (const targets of [CONFIG_DEFAULTS, { ...CONFIG_DEFAULTS, warmIps: 5 }]) {
      const { pool, cloud } = await shaped('gce', targets);
      expect(pool.status(T0).mode).toBe('range');
      expect(pool.plan(T0).actions).toEqual([{ kind: 'assign', nicId: cloud.primaryNic.id, blockKind: 'range', count: 1, prefixLength: 24 }]);
      await settle(pool, cloud, T0);
      await fill(pool, cloud, 0, 110, T0);
      expect(pool.counts(T0)).toMatchObject({ assigned: 110, total: 256 });
      expect(cloud.callCount('assign')).toBe(1);
      expect(cloud.callCount('attachNic')).toBe(0);
      const [range] = (await cloud.listNics())[0]?.blocks ?? [];
      expect(range).toMatchObject({ kind: 'range', ref: expect.stringMatching(/^pods-/), state: 'ready' });
    }
  });
});

describe('AWS-shaped node keeps the AWS VPC CNI default', () => {
  it('WARM_ENI_TARGET=1: fills NICs, attaches new ones', async () => {
    const { pool, cloud } = await shaped('aws');
    expect(pool.status(T0).mode).toBe('warm-nic');
    expect(pool.status(T0).targets.warmIps).toBeUndefined();
    expect(pool.plan(T0).actions).toEqual([{ kind: 'assign', nicId: cloud.primaryNic.id, blockKind: 'ip', count: 9 }]);
    await fill(pool, cloud, 0, 12, T0);
    expect(cloud.callCount('attachNic')).toBeGreaterThan(0);
  });
});
