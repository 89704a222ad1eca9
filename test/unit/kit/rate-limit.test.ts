import { describe, expect, it } from '@jest/globals';
import { KeyedRateLimiter, TokenBucket } from '../../../providers/kit/rate-limit.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('TokenBucket', () => {
  it('serves a burst, then refills at the rate on the clock', async () => {
    const clock = new FakeClock(0);
    const b = new TokenBucket({ perSecond: 5, burst: 10 }, clock);
    for (let i = 0; i < 10; i++) expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    await clock.advance(199);
    expect(b.tryTake()).toBe(false);
    await clock.advance(1);
    expect(b.tryTake()).toBe(true);
    await clock.advance(60_000);
    expect(b.available()).toBe(10); // never above capacity
  });

  it('hands out waits in arrival order when in debt', () => {
    const clock = new FakeClock(0);
    const b = new TokenBucket({ perSecond: 4 }, clock);
    const waits = Array.from({ length: 7 }, () => b.reserve());
    expect(waits).toEqual([0, 0, 0, 0, 250, 500, 750]);
  });
});

describe('KeyedRateLimiter', () => {
  it('meters each bucket on the fake clock and keeps buckets apart', async () => {
    const clock = new FakeClock(0);
    const limiter = new KeyedRateLimiter<'write' | 'read'>(
      { write: { perSecond: 2, concurrency: 100 }, read: { perSecond: 1000, concurrency: 100 } },
      { clock },
    );
    const startedAt: Record<string, number[]> = { write: [], read: [] };
    const run = (k: 'write' | 'read'): Promise<void> =>
      limiter.run(k, async () => {
        startedAt[k]?.push(clock.now());
      });
    const all = [...Array.from({ length: 6 }, () => run('write')), ...Array.from({ length: 6 }, () => run('read'))];
    await clock.advance(0);
    expect(startedAt.read).toEqual([0, 0, 0, 0, 0, 0]);
    expect(limiter.waiting('write')).toBe(4);
    await clock.advance(5_000);
    await Promise.all(all);
    expect(startedAt.write).toEqual([0, 0, 500, 1000, 1500, 2000]);
    expect(limiter.waiting('write')).toBe(0);
  });

  it('caps calls in flight per bucket', async () => {
    const clock = new FakeClock(0);
    const limiter = new KeyedRateLimiter({ x: { perSecond: 1000, concurrency: 2 } }, { clock });
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const calls = Array.from({ length: 5 }, () =>
      limiter.run('x', async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
      }),
    );
    for (let i = 0; i < 5; i++) {
      await clock.advance(0);
      release.shift()?.();
    }
    await clock.advance(0);
    await Promise.all(calls);
    expect(peak).toBe(2);
  });
});
