// Pool gauges from one status snapshot; counters are incremented where things happen.
import type { Metrics } from '../metrics/metrics.ts';
import type { PoolConditionType, PoolStatus } from './types.ts';

const CONDITIONS: PoolConditionType[] = ['SubnetFull', 'CloudLimitReached', 'CloudPermissionDenied', 'CloudUnavailable', 'NodeAddressLimit'];

export function publishPoolGauges(metrics: Metrics, status: PoolStatus): void {
  const c = status.counts;
  metrics.set('vpcnet_pool_addresses', c.assigned, { state: 'assigned' });
  metrics.set('vpcnet_pool_addresses', c.available, { state: 'available' });
  metrics.set('vpcnet_pool_addresses', c.cooldown, { state: 'cooldown' });
  metrics.set('vpcnet_pool_addresses', c.total, { state: 'total' });
  const blocks = { ip: 0, prefix: 0, range: 0 };
  for (const nic of status.nics) for (const b of nic.blocks) blocks[b.kind]++;
  for (const [kind, n] of Object.entries(blocks)) metrics.set('vpcnet_pool_blocks', n, { kind });
  metrics.set('vpcnet_pool_nics', status.nics.length);
  const raised = new Set(status.conditions.map((x) => x.type));
  for (const type of CONDITIONS) metrics.set('vpcnet_pool_condition', raised.has(type) ? 1 : 0, { condition: type });
}
