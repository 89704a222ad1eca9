import { describe, expect, it } from '@jest/globals';
import { bucketFor, Throttler, TokenBucket } from '../../../providers/aws/emulator/throttle.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('EC2 token buckets', () => {
  it('empties at capacity and refills at the published rate', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ capacity: 50, refillPerSecond: 5 }, clock);
    for (let i = 0; i < 50; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    await clock.advance(199);
    expect(b.take()).toBe(false);
    await clock.advance(1);
    expect(b.take()).toBe(true);
    await clock.advance(60_000);
    expect(b.available()).toBe(50);
  });

  it('refills faster with a speed factor', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ capacity: 10, refillPerSecond: 5 }, clock, 100);
    for (let i = 0; i < 10; i++) b.take();
    await clock.advance(20);
    expect(b.available()).toBe(10);
  });

  it('puts each action into its own bucket', () => {
    expect(bucketFor('AssignPrivateIpAddresses', false)).toBe('AssignPrivateIpAddresses');
    expect(bucketFor('ModifyNetworkInterfaceAttribute', false)).toBe('ModifyNetworkInterfaceAttribute');
    expect(bucketFor('AttachNetworkInterface', false)).toBe('mutating:AttachNetworkInterface');
    expect(bucketFor('CreateTags', false)).toBe('CreateTags');
    expect(bucketFor('DescribeNetworkInterfaces', false)).toBe('describeUnfiltered:DescribeNetworkInterfaces');
    expect(bucketFor('DescribeNetworkInterfaces', true)).toBe('describe:DescribeNetworkInterfaces');
  });

  it('counts throttled calls per action; one action never drains another', () => {
    const clock = new FakeClock();
    const t = new Throttler(clock, { buckets: { AssignPrivateIpAddresses: { capacity: 1, refillPerSecond: 1 } } });
    expect(t.admit('CreateNetworkInterface', false)).toBe(true);
    expect(t.admit('AssignPrivateIpAddresses', false)).toBe(true);
    expect(t.admit('AssignPrivateIpAddresses', false)).toBe(false);
    expect(t.admit('DescribeSubnets', false)).toBe(true);
    const s = t.snapshot();
    expect(s.throttled).toEqual({ AssignPrivateIpAddresses: 1 });
    expect(s.admitted.AssignPrivateIpAddresses).toBe(1);
    t.enabled = false;
    expect(t.admit('AssignPrivateIpAddresses', false)).toBe(true);
  });
});
