// Randomized steps (seeded, reproducible) against the pool and the fake cloud, checking the
// invariants a node relies on: no address is ever held by two live pods, the pool matches the
// cloud after a reconcile (no leak), and no block leaves while a pod uses it.
import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider, type FakeProviderOptions } from '../../../providers/fake/fake-provider.ts';
import { fakeShape } from '../../../providers/fake/shapes.ts';
import { hasNicLifecycle } from '../../../providers/provider.ts';
import type { ErrorCode } from '../../../src/errors.ts';
import { cidrContains } from '../../../src/util/ip.ts';
import { executeAction } from '../../../src/ipam/executor.ts';
import { Pool, type PoolOptions } from '../../../src/ipam/pool.ts';
import type { CheckpointData, PoolSettings } from '../../../src/ipam/types.ts';
import { mulberry32 } from '../../support/prng.ts';
import { T0, pod } from './helpers.ts';


const CODES: ErrorCode[] = ['SUBNET_FULL', 'CLOUD_LIMIT_EXCEEDED', 'CLOUD_THROTTLED', 'CLOUD_TIMEOUT', 'CLOUD_PERMISSION_DENIED'];
const OPS = ['assign', 'attachNic', 'release', 'detachNic'] as const;

class World {
  readonly rnd: () => number;
  readonly cloud: FakeCloudProvider;
  readonly opts: PoolOptions;
  pool: Pool;
  now = T0;
  /** What callers were told and still hold: containerId -> ip. */
  readonly live = new Map<string, string>();
  durable: CheckpointData;
  steps: string[] = [];

  constructor(seed: number, targets: Partial<PoolSettings>, shape?: FakeProviderOptions) {
    this.rnd = mulberry32(seed);
    this.cloud = new FakeCloudProvider(shape ?? { subnetCidr: '10.0.0.0/25', limits: { maxNics: 3, addressesPerNic: 6, blockKinds: ['ip', 'prefix'], prefixLength: 28 } });
    this.opts = { limits: this.cloud.limits, nicLifecycle: hasNicLifecycle(this.cloud), targets };
    this.pool = new Pool(this.opts);
    this.durable = this.pool.toCheckpoint();
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)] as T;
  }

  commit(): void {
    this.durable = JSON.parse(JSON.stringify(this.pool.toCheckpoint())) as CheckpointData;
  }

  allocate(): void {
    const p = pod(Math.floor(this.rnd() * 40));
    // A pod whose address the cloud took away gets a new one on its next ADD.
    const wasLost = this.pool.status(this.now).lost.some((x) => x.containerId === p.containerId);
    let a;
    try {
      a = this.pool.allocate(p, this.now);
    } catch {
      return;
    }
    if (!a) return;
    // Only addresses of blocks the cloud reports ready are handed out.
    const state = this.pool.status(this.now).nics.flatMap((n) => n.blocks).find((b) => b.cidr === a.blockCidr)?.state;
    if (!this.live.has(p.containerId)) expect(state === undefined || state === 'ready').toBe(true);
    const crashBeforeCommit = this.rnd() < 0.05;
    if (crashBeforeCommit) return this.crash(); // never returned to the caller
    this.commit();
    for (const [k, ip] of this.live) if (k !== p.containerId) expect(ip).not.toBe(a.ip);
    if (this.live.has(p.containerId) && !wasLost) expect(this.live.get(p.containerId)).toBe(a.ip);
    this.live.set(p.containerId, a.ip);
  }

  release(): void {
    const ids = [...this.live.keys()];
    if (!ids.length) return;
    const id = this.pick(ids);
    this.pool.release({ containerId: id, ifname: 'eth0' }, this.now);
    this.live.delete(id); // the runtime considers it gone even if the commit below is lost
    if (this.rnd() < 0.05) return this.crash();
    this.commit();
  }

  async act(): Promise<void> {
    const planned = this.pool.plan(this.now).actions[0];
    if (!planned) return;
    const action = this.pool.begin(planned, this.now);
    if (!action) return;
    if (action.kind === 'release' || action.kind === 'detach-nic') this.assertNotInUse(action);
    this.injectFault();
    const outcome = await executeAction(this.cloud, action);
    if (this.rnd() < 0.05) return this.crash(); // the cloud did it; the pool never heard
    this.pool.applyOutcome(action, outcome, this.now);
    this.commit();
  }

  private injectFault(): void {
    const r = this.rnd();
    if (r < 0.1) this.cloud.failNext(this.pick(OPS), this.pick(CODES), { when: this.rnd() < 0.5 ? 'before' : 'after' });
    else if (r < 0.15) this.cloud.shortNext(this.pick(['assign', 'attachNic'] as const), Math.floor(this.rnd() * 2));
  }

  private assertNotInUse(action: { kind: string; nicId: string; blocks?: { cidr: string }[] }): void {
    const nic = this.pool.status(this.now).nics.find((n) => n.id === action.nicId);
    const cidrs = action.blocks?.map((b) => b.cidr) ?? nic?.blocks.map((b) => b.cidr) ?? [];
    for (const ip of this.live.values()) for (const cidr of cidrs) expect(cidrContains(cidr, ip)).toBe(false);
  }

  async reconcile(): Promise<void> {
    const report = this.pool.reconcile(await this.cloud.listNics(), this.now);
    this.commit();
    await this.assertMatchesCloud();
    expect(report).toBeDefined();
  }

  reconcilePods(): void {
    this.pool.reconcilePods([...this.live.keys()].map((id) => ({ containerId: id, ifname: 'eth0' })), this.now);
    this.commit();
  }

  crash(): void {
    this.pool = Pool.fromCheckpoint(JSON.parse(JSON.stringify(this.durable)) as CheckpointData, this.opts);
    this.steps.push('crash');
  }

  async restartAndReconcile(): Promise<void> {
    this.crash();
    await this.reconcile();
  }

  outOfBand(): void {
    const nics = this.pool.status(this.now).nics.filter((n) => n.blocks.length);
    if (!nics.length) return;
    const nic = this.pick(nics);
    const r = this.rnd();
    const kind = this.cloud.limits.blockKinds.includes('ip') ? 'ip' : 'range';
    if (r < 0.4) this.cloud.dropBlock(nic.id, this.pick(nic.blocks).cidr);
    else if (r < 0.7 || !this.cloud.limits.blockKinds.includes('ip')) this.cloud.addBlockOutOfBand(nic.id, kind);
    // Azure-like: a block's provisioning state flips (an update in flight, then done or failed).
    else this.cloud.setBlockState(nic.id, this.pick(nic.blocks).cidr, this.pick(['pending', 'failed', 'ready'] as const));
  }

  async assertMatchesCloud(): Promise<void> {
    const cloud = await this.cloud.listNics();
    const mine = this.pool.status(this.now).nics;
    expect(mine.map((n) => n.id).sort()).toEqual(cloud.map((n) => n.id).sort());
    const heldByCloud = (nicId: string, ip: string): boolean =>
      cloud.find((n) => n.id === nicId)?.blocks.some((b) => cidrContains(b.cidr, ip)) ?? false;
    for (const a of this.pool.allocations()) expect(heldByCloud(a.nicId, a.ip)).toBe(true);
    for (const n of cloud) {
      const known = new Set(mine.find((m) => m.id === n.id)?.blocks.map((b) => b.cidr));
      for (const b of n.blocks) {
        // A cloud block the pool refuses can only be one overlapping a block it holds.
        if (!known.has(b.cidr)) throw new Error(`leak: ${n.id} ${b.cidr} held in the cloud, unknown to the pool`);
      }
    }
  }

  assertInvariants(): void {
    const ips = this.pool.allocations().map((a) => a.ip);
    expect(new Set(ips).size).toBe(ips.length);
    const byIp = new Map(this.pool.allocations().map((a) => [a.ip, a.containerId]));
    for (const [id, ip] of this.live) {
      const holder = byIp.get(ip);
      if (holder !== undefined) expect(holder).toBe(id);
    }
  }
}

async function run(seed: number, targets: Partial<PoolSettings>, steps: number, shape?: FakeProviderOptions): Promise<World> {
  const w = new World(seed, targets, shape);
  w.pool.reconcile(await w.cloud.listNics(), w.now, { trustUnknown: true });
  w.commit();
  for (let i = 0; i < steps; i++) {
    const r = w.rnd();
    if (r < 0.3) w.allocate();
    else if (r < 0.5) w.release();
    else if (r < 0.8) await w.act();
    else if (r < 0.85) await w.reconcile();
    else if (r < 0.88) await w.restartAndReconcile();
    else if (r < 0.9) w.outOfBand();
    else if (r < 0.92) w.reconcilePods();
    else w.now += Math.floor(w.rnd() * 40_000);
    w.assertInvariants();
  }
  // Quiet end: no faults, cooldowns over, one reconcile: pool and cloud agree, nothing leaked.
  w.now += 60_000;
  await w.reconcile();
  for (let i = 0; i < 20; i++) await w.act();
  w.reconcilePods();
  await w.reconcile();
  // Every pod the runtime still has holds exactly one address (or is reported lost); no other.
  const held = [...w.pool.allocations(), ...w.pool.status(w.now).lost].map((a) => a.containerId).sort();
  expect(held).toEqual([...w.live.keys()].sort());
  return w;
}

describe('pool property test (seeded)', () => {
  const seeds = [1, 2, 3, 4, 5, 6];
  it.each(seeds)('holds the invariants in per-address mode (seed %i)', async (seed) => {
    await run(seed, { warmIps: 3, minimumIps: 4, maxAboveTarget: 1 }, 400);
  });
  it.each(seeds)('holds the invariants in prefix mode (seed %i)', async (seed) => {
    await run(seed * 7919, { prefixDelegation: true, warmPrefixes: 1 }, 400);
  });
  it.each(seeds)('holds the invariants in warm-NIC mode (seed %i)', async (seed) => {
    await run(seed * 104729, {}, 400);
  });
  // No NIC attach, 256 addresses per NIC, blocks with provisioning states (Azure-shaped), a small subnet.
  it.each(seeds)('holds the invariants on a node without NIC attach (seed %i)', async (seed) => {
    await run(seed * 15485863, { maxAboveTarget: 1 }, 400, fakeShape('azure', { subnetCidr: '10.1.0.0/26' }));
  });
  // One alias range per node (GCE-shaped), small ranges so the range space runs out.
  it.each(seeds)('holds the invariants in range mode (seed %i)', async (seed) => {
    await run(seed * 32452843, { rangePrefixLength: 28 }, 400, fakeShape('gce', { rangeCidr: '10.4.0.0/26' }));
  });
});
