// The GCE client's pacing per quota group: a throttled answer holds the whole group until the
// next synchronized minute (no retry spends itself against a spent quota), other groups go on,
// and one node's calls stay under its share of the project's per-minute quota.
import { describe, expect, it } from '@jest/globals';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { DEFAULT_QUOTAS, groupOf } from '../../../providers/gcp/api-quotas.ts';
import { defaultGroupRate, GceRateLimiter, NODE_SHARE } from '../../../providers/gcp/client/rate-limiter.ts';

const throttled = (err: unknown): boolean => err instanceof VpcnetError && err.code === 'CLOUD_THROTTLED';
const quotaSpent = (): VpcnetError => new VpcnetError('CLOUD_THROTTLED', 'GCE instances.get failed (HTTP 403 rateLimitExceeded)');

async function settle(clock: FakeClock, ms: number): Promise<void> {
  for (let i = 0; i < ms / 100; i++) await clock.advance(100);
}

describe('GCE rate limiter', () => {
  it('maps the methods the provider calls to the quota groups of the published page', () => {
    expect(groupOf('instances.get')).toBe('read');
    expect(groupOf('subnetworks.get')).toBe('read');
    expect(groupOf('routes.list')).toBe('list');
    expect(groupOf('zoneOperations.wait')).toBe('operationRead');
    expect(groupOf('globalOperations.wait')).toBe('operationRead');
    expect(groupOf('instances.updateNetworkInterface')).toBe('mutation');
    expect(groupOf('routes.insert')).toBe('mutation');
    expect(groupOf('routes.delete')).toBe('mutation');
  });

  it('a throttled answer holds every call of its group until the next minute; other groups go on', async () => {
    // 12:00:15 UTC: the quota refills at 12:01:00
    const start = Date.UTC(2026, 11, 1, 12, 0, 15);
    const clock = new FakeClock(start);
    const limiter = new GceRateLimiter({ clock, random: () => 0.5, spreadMs: 2000 });
    const readsAt: number[] = [];
    let spent = true;
    const read = (): Promise<string> =>
      limiter.run(
        'instances.get',
        async () => {
          readsAt.push(clock.now());
          if (spent) throw quotaSpent();
          return 'ok';
        },
        throttled,
      );
    await expect(read()).rejects.toThrow('rateLimitExceeded');
    spent = false; // GCE would answer again, but the limiter waits for the refill anyway
    const held = [read(), read(), read()];
    const listed: number[] = [];
    const list = limiter.run('routes.list', async () => listed.push(clock.now()), throttled);
    await clock.advance(0);
    await list;
    expect(listed).toEqual([start]); // the list group is not held
    await settle(clock, 44_000); // 12:00:59
    expect(readsAt).toEqual([start]); // nothing of the read group went out meanwhile
    await settle(clock, 10_000);
    await expect(Promise.all(held)).resolves.toEqual(['ok', 'ok', 'ok']);
    const refill = Date.UTC(2026, 11, 1, 12, 1, 0);
    expect(readsAt.slice(1).every((t) => t >= refill + 1000 && t < refill + 2000)).toBe(true);
    expect(readsAt).toHaveLength(4);
    expect(limiter.holds()).toMatchObject({ read: 1, list: 0 });
  });

  it('throttled answers of calls already in flight do not push the hold further out', async () => {
    const start = Date.UTC(2026, 11, 1, 12, 0, 50);
    const clock = new FakeClock(start);
    const limiter = new GceRateLimiter({ clock, random: () => 0, spreadMs: 1000 });
    const at: number[] = [];
    let calls = 0;
    const call = (): Promise<number> =>
      limiter.run(
        'routes.insert',
        async () => {
          at.push(clock.now());
          if (++calls <= 4) throw quotaSpent();
          return calls;
        },
        throttled,
      );
    const first = await Promise.allSettled([call(), call(), call(), call()]);
    expect(first.every((r) => r.status === 'rejected')).toBe(true);
    const next = call();
    await settle(clock, 11_000);
    await expect(next).resolves.toBe(5);
    expect(at.at(-1)).toBe(Date.UTC(2026, 11, 1, 12, 1, 0));
    expect(limiter.holds().mutation).toBe(1);
  });

  it('a throttled answer that arrives after the refill holds nothing (the spent interval was the one the call was sent in)', async () => {
    const start = Date.UTC(2026, 11, 1, 12, 0, 59);
    const clock = new FakeClock(start);
    const limiter = new GceRateLimiter({ clock, random: () => 0 });
    const at: number[] = [];
    let first = true;
    const slow = limiter.run(
      'instances.get',
      async () => {
        at.push(clock.now());
        if (first) {
          first = false;
          await clock.sleep(2000); // answered at 12:01:01, after the refill at 12:01:00
          throw quotaSpent();
        }
        return 'ok';
      },
      throttled,
    );
    const failed = slow.catch((e: unknown) => e);
    await clock.advance(2000);
    expect(await failed).toBeInstanceOf(VpcnetError);
    const next = limiter.run('instances.get', async () => (at.push(clock.now()), 'ok'), throttled);
    await clock.advance(0);
    await expect(next).resolves.toBe('ok');
    expect(at).toEqual([start, start + 2000]); // at once, not a minute later
    expect(limiter.holds().read).toBe(0);
  });

  it('one node stays under its share of a group per minute, whatever it asks', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 12, 0, 0));
    const limiter = new GceRateLimiter({ clock });
    let done = 0;
    const calls = Array.from({ length: 400 }, () => limiter.run('instances.get', async () => void done++, throttled));
    await settle(clock, 60_000);
    const share = DEFAULT_QUOTAS.read * NODE_SHARE;
    // a full burst, then the sustained rate: at most the share plus the burst in the first minute
    expect(done).toBeGreaterThanOrEqual(share);
    expect(done).toBeLessThanOrEqual(share + (defaultGroupRate('read').burst ?? 0) + 1);
    await settle(clock, 120_000);
    await Promise.all(calls);
    expect(done).toBe(400);
  });

  it('ceilings follow a raised project quota', () => {
    expect(defaultGroupRate('mutation', 6000).perSecond).toBeCloseTo((6000 * NODE_SHARE) / 60);
  });
});
