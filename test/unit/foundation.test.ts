import { describe, expect, it } from '@jest/globals';
import { VpcnetError, cniCodeOf, toVpcnetError, isVpcnetError } from '../../src/errors.ts';
import { FakeClock, scaledClock } from '../../src/util/clock.ts';
import { maxPodsFor } from '../../providers/aws/limits.ts';

describe('VpcnetError', () => {
  it('keeps code, cause and details and maps to CNI codes', () => {
    const cause = new Error('socket hang up');
    const err = new VpcnetError('POOL_EXHAUSTED', 'no address within 10s', { cause, details: { waitedMs: 10000 } });
    expect(err.code).toBe('POOL_EXHAUSTED');
    expect(err.cause).toBe(cause);
    expect(err.retryable).toBe(true);
    expect(cniCodeOf(err.code)).toBe(11);
    expect(cniCodeOf('CNI_VERSION_UNSUPPORTED')).toBe(1);
    expect(cniCodeOf('CNI_DECODE')).toBe(6);
    expect(isVpcnetError(err, 'POOL_EXHAUSTED')).toBe(true);
    expect(isVpcnetError(err, 'INTERNAL')).toBe(false);
  });

  it('wraps foreign errors once', () => {
    const wrapped = toVpcnetError(new Error('boom'), 'NETLINK');
    expect(wrapped.code).toBe('NETLINK');
    expect(toVpcnetError(wrapped)).toBe(wrapped);
  });
});

describe('FakeClock', () => {
  it('wakes sleepers in time order only when advanced', async () => {
    const clock = new FakeClock(0);
    const woke: number[] = [];
    void clock.sleep(200).then(() => woke.push(clock.now()));
    void clock.sleep(100).then(() => woke.push(clock.now()));
    await clock.advance(50);
    expect(woke).toEqual([]);
    await clock.advance(200);
    expect(woke).toEqual([100, 200]);
    expect(clock.now()).toBe(250);
  });

  it('rejects an aborted sleep', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });
});

describe('maxPodsFor', () => {
  it('matches the AWS VPC CNI formula', () => {
    expect(maxPodsFor({ maxNics: 3, addressesPerNic: 10 })).toBe(29); // m5.large
    expect(maxPodsFor({ maxNics: 15, addressesPerNic: 50 })).toBe(737); // m5.24xlarge
  });
});

describe('scaledClock', () => {
  it('runs emulated time faster than the base clock', async () => {
    const base = new FakeClock(1000);
    const clock = scaledClock(10, base);
    const slept = clock.sleep(5000);
    await base.advance(499);
    let done = false;
    void slept.then(() => (done = true));
    await base.advance(0);
    expect(done).toBe(false);
    await base.advance(1);
    await slept;
    expect(clock.now()).toBe(1000 + 5000);
  });
});
