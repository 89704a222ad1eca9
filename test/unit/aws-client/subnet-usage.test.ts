// The node's view of a subnet for placement: one read per TTL, our own picks counted in
// between, and the free /28s published as a metric per subnet.
import { expect, test } from '@jest/globals';
import { SubnetUsage } from '../../../providers/aws/client/subnet-usage.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';

test('reads the subnet once per TTL, names addresses in broken /28s, publishes free /28s', async () => {
  const clock = new FakeClock();
  const metrics = new MemoryMetrics();
  let reads = 0;
  const usage = new SubnetUsage({
    clock,
    metrics,
    ttlMs: 60_000,
    describeSubnetNics: async () => {
      reads++;
      return [{ PrivateIpAddress: '10.0.0.100', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.100', Primary: true }], Ipv4Prefixes: [{ Ipv4Prefix: '10.0.0.16/28' }] }];
    },
  });
  // /24: 16 /28s; EC2's reservations break the first and last, .100 breaks #6, the prefix takes #1.
  expect(await usage.choose('subnet-1', '10.0.0.0/24', 3)).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.6']);
  expect(metrics.get('vpcnet_subnet_free_prefixes', { subnet: 'subnet-1' })).toBe(12);
  expect(await usage.choose('subnet-1', '10.0.0.0/24', 2)).toEqual(['10.0.0.7', '10.0.0.8']);
  expect(reads).toBe(1);
  await clock.advance(60_000);
  await usage.choose('subnet-1', '10.0.0.0/24', 1);
  expect(reads).toBe(2);
  expect(usage.report()).toEqual([expect.objectContaining({ subnetId: 'subnet-1', freePrefixes: 12, prefixes: 16 })]);
  // Not enough free addresses known: EC2 picks.
  expect(await usage.choose('subnet-1', '10.0.0.0/24', 500)).toBeUndefined();
});
