// Shared test helpers: a fake cloud, and a synchronous-looking plan/execute loop.
import { FakeCloudProvider, type FakeProviderOptions } from '../../../providers/fake/fake-provider.ts';
import { hasNicLifecycle, type NodeLimits } from '../../../providers/provider.ts';
import { executeAction } from '../../../src/ipam/executor.ts';
import { Pool } from '../../../src/ipam/pool.ts';
import type { PoolSettings } from '../../../src/ipam/types.ts';

export const T0 = Date.UTC(2026, 0, 1);

/** t3.small-like: 3 NICs x 4 addresses (3 secondary slots each). */
export const SMALL: Partial<NodeLimits> = { maxNics: 3, addressesPerNic: 4, blockKinds: ['ip', 'prefix'], prefixLength: 28 };

export async function setup(
  targets: Partial<PoolSettings>,
  limits: Partial<NodeLimits> = SMALL,
  cloud: Omit<FakeProviderOptions, 'limits'> = {},
): Promise<{ pool: Pool; cloud: FakeCloudProvider }> {
  const provider = new FakeCloudProvider({ ...cloud, limits });
  const pool = new Pool({ limits: provider.limits, nicLifecycle: hasNicLifecycle(provider), targets });
  pool.reconcile(await provider.listNics(), T0, { trustUnknown: true });
  return { pool, cloud: provider };
}

/** Runs plan -> execute -> applyOutcome until the plan is empty; returns the actions run. */
export async function settle(pool: Pool, cloud: FakeCloudProvider, now: number, rounds = 10): Promise<string[]> {
  const done: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const plan = pool.plan(now);
    if (!plan.actions.length) return done;
    for (const planned of plan.actions) {
      const action = pool.begin(planned, now);
      if (!action) continue;
      const outcome = await executeAction(cloud, action);
      pool.applyOutcome(action, outcome, now);
      done.push(action.kind + (outcome.error ? `!${outcome.error.code}` : ''));
      if (outcome.error) return done;
    }
  }
  return done;
}

export function pod(i: number): { containerId: string; ifname: string } {
  return { containerId: `c${i}`, ifname: 'eth0' };
}

/** Blocks per NIC, by device index, as "kind:count" strings. */
export function layout(pool: Pool, now: number): number[] {
  return pool.status(now).nics.map((n) => n.blocks.length);
}

/** Allocates pods [from, to), letting the pool refill whenever it runs dry. */
export async function fill(pool: Pool, cloud: FakeCloudProvider, from: number, to: number, now: number): Promise<void> {
  for (let i = from; i < to; i++) {
    if (pool.allocate(pod(i), now)) continue;
    await settle(pool, cloud, now);
    if (!pool.allocate(pod(i), now)) throw new Error(`pool could not serve pod ${i}`);
  }
  await settle(pool, cloud, now);
}
