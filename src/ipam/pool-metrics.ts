// Pool gauges from one status snapshot; counters are incremented where things happen.
import type { Metrics } from '../metrics/metrics.ts';
import type { PoolConditionType, PoolStatus } from './types.ts';

const CONDITIONS: PoolConditionType[] = ['SubnetFull', 'CloudLimitReached', 'CloudPermissionDenied', 'CloudUnavailable', 'NodeAddressLimit'];

/** The values last set per metrics sink: a pod's ADD or DEL changes two of the 13 series, and only those are set again. */
const published = new WeakMap<Metrics, number[]>();

export function publishPoolGauges(metrics: Metrics, status: PoolStatus): void {
  const c = status.counts;
  const blocks = { ip: 0, prefix: 0, range: 0 };
  for (const nic of status.nics) for (const b of nic.blocks) blocks[b.kind]++;
  const raised = new Set(status.conditions.map((x) => x.type));
  const values = [c.assigned, c.available, c.cooldown, c.total, blocks.ip, blocks.prefix, blocks.range, status.nics.length, ...CONDITIONS.map((t) => (raised.has(t) ? 1 : 0))];
  const last = published.get(metrics);
  published.set(metrics, values);
  const changed = (i: number): boolean => last?.[i] !== values[i];
  (['assigned', 'available', 'cooldown', 'total'] as const).forEach((state, i) => changed(i) && metrics.set('vpcnet_pool_addresses', values[i]!, { state }));
  (['ip', 'prefix', 'range'] as const).forEach((kind, i) => changed(4 + i) && metrics.set('vpcnet_pool_blocks', values[4 + i]!, { kind }));
  if (changed(7)) metrics.set('vpcnet_pool_nics', values[7]!);
  CONDITIONS.forEach((condition, i) => changed(8 + i) && metrics.set('vpcnet_pool_condition', values[8 + i]!, { condition }));
}
