import { describe, expect, it } from '@jest/globals';
import { backoffDelay, parseRetryAfter, withRetry, type RetryExhausted } from '../../../providers/kit/retry.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { mulberry32 } from '../../support/prng.ts';

const policy = { baseMs: 100, capMs: 1000, deadlineMs: 5000 };
const throttled = (retryAfterMs?: number): VpcnetError =>
  new VpcnetError('CLOUD_THROTTLED', 'slow down', { details: retryAfterMs === undefined ? {} : { retryAfterMs } });
const hint = (e: unknown): number | undefined => (e as VpcnetError).details.retryAfterMs as number | undefined;

describe('full jitter', () => {
  it('stays in [0, min(cap, base * 2^attempt)) and covers that range', () => {
    const rnd = mulberry32(7);
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
      const draws = Array.from({ length: 2000 }, () => backoffDelay(attempt, policy, rnd));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThan(ceiling);
      // spread over the whole range, not clustered: both the lowest and the highest tenth are hit
      expect(draws.some((d) => d < ceiling / 10)).toBe(true);
      expect(draws.some((d) => d >= (ceiling * 9) / 10)).toBe(true);
    }
  });

  it('never overflows for large attempt numbers', () => {
    expect(backoffDelay(10_000, policy, () => 0.999)).toBe(999);
  });
});

describe('withRetry', () => {
  it('gives up when the next wait would end past the deadline, reporting why', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    let info: RetryExhausted | undefined;
    const done = withRetry(
      async () => {
        calls++;
        throw throttled();
      },
      { clock, policy, random: () => 0.999, isRetryable: () => true },
      (err, i) => {
        info = i;
        return err;
      },
    ).catch((e: unknown) => e);
    await clock.advance(60_000);
    expect(await done).toBeInstanceOf(VpcnetError);
    // waits 99+199+399+799+999+999+999 = 4493 ms; the next 999 would end at 5492 > 5000
    expect(calls).toBe(8);
    expect(info).toEqual({ attempts: 8, elapsedMs: 4493, reason: 'deadline' });
  });

  it('honours Retry-After as a floor on the wait', async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    const done = withRetry(
      async (attempt) => {
        at.push(clock.now());
        if (attempt < 2) throw throttled(1500);
        return 'ok';
      },
      { clock, policy, random: () => 0, isRetryable: () => true, retryAfterMs: hint },
    );
    await clock.advance(10_000);
    expect(await done).toBe('ok');
    expect(at).toEqual([0, 1500, 3000]);
  });

  it('gives up at once when the server asks for a wait beyond the deadline', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw throttled(60_000);
      },
      { clock, policy, random: () => 0, isRetryable: () => true, retryAfterMs: hint },
    ).catch((e: unknown) => e);
    expect((err as VpcnetError).code).toBe('CLOUD_THROTTLED');
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('is bounded by an absolute deadline too (the CNI request deadline)', async () => {
    const clock = new FakeClock(1000);
    let calls = 0;
    const done = withRetry(
      async () => {
        calls++;
        throw throttled();
      },
      { clock, policy: { ...policy, deadlineMs: 60_000 }, random: () => 0.999, isRetryable: () => true, deadlineAt: 1400 },
    ).catch((e: unknown) => e);
    await clock.advance(10_000);
    await done;
    expect(calls).toBe(3); // waits 99 + 199 end at 1298; the next 399 would end at 1697 > 1400
  });

  it('stops on a permanent failure without waiting', async () => {
    const clock = new FakeClock(0);
    let reason: string | undefined;
    await withRetry(
      async () => {
        throw new VpcnetError('CLOUD_PERMISSION_DENIED', 'no');
      },
      { clock, policy, isRetryable: (e) => (e as VpcnetError).retryable },
      (err, i) => {
        reason = i.reason;
        return err;
      },
    ).catch(() => undefined);
    expect(reason).toBe('permanent');
    expect(clock.pending).toBe(0);
  });

  it('aborts the wait between attempts', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const done = withRetry(
      async () => {
        throw throttled();
      },
      { clock, policy, random: () => 0.5, isRetryable: () => true, signal: ac.signal },
    ).catch((e: unknown) => e);
    await clock.advance(0);
    ac.abort(new Error('stopping'));
    expect(((await done) as Error).message).toBe('stopping');
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
