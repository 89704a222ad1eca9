// The published EC2 request buckets ("Request throttling for the Amazon EC2 API"), held against
// both the emulator's throttler and the client's limiter keys and ceilings.
import { describe, expect, it } from '@jest/globals';
import { bucketOf, defaultRate } from '../../../providers/aws/client/rate-limiter.ts';
import { bucketFor, Throttler } from '../../../providers/aws/emulator/throttle.ts';
import { FakeClock } from '../../../src/util/clock.ts';

// [action, filtered, capacity, refill per second]
const TABLE: Array<[string, boolean, number, number]> = [
  ['AssignPrivateIpAddresses', false, 100, 5],
  ['UnassignPrivateIpAddresses', false, 100, 5],
  ['CreateNetworkInterface', false, 100, 5],
  ['DeleteNetworkInterface', false, 100, 5],
  ['ModifyNetworkInterfaceAttribute', false, 100, 5],
  ['AttachNetworkInterface', false, 50, 5],
  ['DetachNetworkInterface', false, 50, 5],
  ['CreateTags', false, 100, 10],
  ['DescribeNetworkInterfaces', true, 100, 20],
  ['DescribeSubnets', true, 100, 20],
  ['DescribeInstanceTypes', true, 100, 20],
  ['DescribeNetworkInterfaces', false, 50, 10],
  ['DescribeSubnets', false, 50, 10],
];

describe('EC2 request buckets (one table for emulator and client)', () => {
  it.each(TABLE)('%s (filtered %s): emulator bucket of %d, refill %d/s, its own', async (action, filtered, capacity, refill) => {
    const clock = new FakeClock(0);
    const t = new Throttler(clock);
    let admitted = 0;
    while (t.admit(action, filtered)) admitted++;
    expect(admitted).toBe(capacity);
    await clock.advance(1000);
    let refilled = 0;
    while (t.admit(action, filtered)) refilled++;
    expect(refilled).toBe(refill);
    // Its own bucket: every other action of the table is still full.
    for (const [other, f] of TABLE) if (bucketFor(other, f) !== bucketFor(action, filtered)) expect(t.admit(other, f)).toBe(true);
  });

  it.each(TABLE)('%s (filtered %s): the client keys it as the emulator does, below its refill', (action, filtered, _capacity, refill) => {
    expect(bucketOf(action, filtered)).toBe(bucketFor(action, filtered));
    const rate = defaultRate(bucketOf(action, filtered));
    expect(rate.perSecond).toBeLessThan(refill);
    expect(rate.burst ?? 1).toBeLessThanOrEqual(refill);
  });

  it('a category override sizes every bucket of that category', () => {
    const t = new Throttler(new FakeClock(0), { buckets: { mutating: { capacity: 1, refillPerSecond: 1 } } });
    expect(t.admit('AttachNetworkInterface', false)).toBe(true);
    expect(t.admit('AttachNetworkInterface', false)).toBe(false);
    expect(t.admit('DetachNetworkInterface', false)).toBe(true);
  });
});
