// Urgent cloud calls (pods waiting, start-up) on a throttled bucket: they go before queued
// background calls and, after a throttled answer, wait what the bucket's refill allows (one
// token's time, jittered, never zero) instead of the long spacing a warm-target top-up keeps.
// Fake clock throughout.
import { describe, expect, it } from '@jest/globals';
import { AdaptiveRate } from '../../../providers/aws/client/adaptive-rate.ts';
import { GceRateLimiter } from '../../../providers/gcp/client/rate-limiter.ts';
import { KeyedRateLimiter } from '../../../providers/kit/rate-limit.ts';
import { urgentSpacing, withUrgency } from '../../../providers/kit/urgency.ts';
import { Pool } from '../../../src/ipam/pool.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';

const throttledErr = (): VpcnetError => new VpcnetError('CLOUD_THROTTLED', 'throttled');
const isThrottled = (e: unknown): boolean => e instanceof VpcnetError && e.code === 'CLOUD_THROTTLED';

async function startedAt(clock: FakeClock, p: () => Promise<unknown>, stepMs = 50, maxMs = 120_000): Promise<number> {
  let at: number | undefined;
  void p().then(() => (at = clock.now()));
  for (let t = 0; t < maxMs && at === undefined; t += stepMs) await clock.advance(stepMs);
  return at ?? Infinity;
}

describe('urgent cloud calls', () => {
  it('spacing after throttling: one token, doubling to 8 tokens, jittered 50-100 %, never zero', () => {
    expect(urgentSpacing(200, 1, 10_000, () => 0.999)).toBeLessThanOrEqual(200);
    expect(urgentSpacing(200, 1, 10_000, () => 0)).toBe(100);
    expect(urgentSpacing(200, 3, 10_000, () => 0.999)).toBeLessThanOrEqual(800);
    expect(urgentSpacing(200, 30, 10_000, () => 0.999)).toBeLessThanOrEqual(1600);
    expect(urgentSpacing(0, 1, 0, () => 0)).toBeGreaterThan(0);
  });

  it('an urgent call starts before background calls already queued in its bucket', async () => {
    const clock = new FakeClock(0);
    const limiter = new KeyedRateLimiter<'b'>({ b: { perSecond: 1, burst: 1, concurrency: 1 } }, { clock });
    const order: string[] = [];
    const done: Promise<unknown>[] = [];
    for (const name of ['bg1', 'bg2', 'bg3']) done.push(limiter.run('b', async () => void order.push(name)));
    done.push(withUrgency(true, () => limiter.run('b', async () => void order.push('urgent'))));
    for (let i = 0; i < 50; i++) await clock.advance(100);
    await Promise.all(done);
    expect(order[0]).toBe('bg1'); // already running
    expect(order[1]).toBe('urgent');
  });

  it('EC2: after RequestLimitExceeded an urgent call waits about a token (<= 250 ms), a top-up call >= 5 s', async () => {
    const clock = new FakeClock(0);
    const rate = new AdaptiveRate({ minIntervalMs: 250, maxIntervalMs: 120_000, tokenIntervalMs: 200 }, clock, () => 0.999);
    await rate.acquire();
    rate.throttled();
    const t0 = clock.now();
    const urgent = await startedAt(clock, () => rate.acquire(undefined, true), 10);
    expect(urgent - t0).toBeGreaterThan(0);
    expect(urgent - t0).toBeLessThanOrEqual(250);
    const background = await startedAt(clock, () => rate.acquire(), 100);
    expect(background - t0).toBeGreaterThanOrEqual(5000);
  });

  it('GCE: after 403 rateLimitExceeded an urgent call goes within a token of the node share, a top-up waits for the next minute', async () => {
    const start = Date.UTC(2026, 11, 1, 12, 0, 15);
    const clock = new FakeClock(start);
    const limiter = new GceRateLimiter({ clock, random: () => 0.999, spreadMs: 2000 });
    await limiter.run('instances.get', () => Promise.reject(throttledErr()), isThrottled).catch(() => undefined);
    const t0 = clock.now();
    const urgent = await startedAt(clock, () => withUrgency(true, () => limiter.run('instances.get', () => Promise.resolve(1), isThrottled)), 50);
    // node share 150/min: one token is 400 ms
    expect(urgent - t0).toBeGreaterThan(0);
    expect(urgent - t0).toBeLessThanOrEqual(400);
    const background = await startedAt(clock, () => limiter.run('instances.get', () => Promise.resolve(1), isThrottled), 500);
    expect(background).toBeGreaterThanOrEqual(Date.UTC(2026, 11, 1, 12, 1, 0));
  });

  it('pool: with ADDs waiting a growth pause after throttling lasts urgentRetryPauseMs; without, the full pause', () => {
    const limits = { maxNics: 2, addressesPerNic: 10, blockKinds: ['ip' as const], maxPods: 18 };
    const pool = new Pool({ limits, nicLifecycle: false, targets: { warmIps: 2, retryPauseMs: 30_000, urgentRetryPauseMs: 1000 } });
    pool.reconcile([{ id: 'nic0', deviceIndex: 0, mac: 'm', subnetId: 's', subnetCidr: '10.0.0.0/24', primaryIp: '10.0.0.4', securityGroups: [], blocks: [] }], 0, { trustUnknown: true });
    const plan = pool.plan(0);
    const action = pool.begin(plan.actions[0]!, 0)!;
    pool.applyOutcome(action, { error: { code: 'CLOUD_THROTTLED', message: 'RequestLimitExceeded' } }, 0);
    expect(pool.plan(500, { demand: 1 }).actions).toHaveLength(0);
    expect(pool.urgentGrowthAt(500)).toBe(1000);
    expect(pool.plan(1000, { demand: 1 }).actions.length).toBeGreaterThan(0);
    expect(pool.plan(1000).actions).toHaveLength(0);
  });
});
