// The release path for runtimes that never send GC: an allocation whose netns (by identity) is
// gone, that no pod view claims and no CNI command holds, is released after the grace period.
import { describe, expect, it } from '@jest/globals';
import { NetnsSweeper, type NetnsCensus } from '../../../src/cni/netns-sweeper.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import type { Allocation, PodKey } from '../../../src/ipam/types.ts';

class FakeCensus implements NetnsCensus {
  ids = new Set<string>();
  async live(): Promise<Set<string>> {
    return new Set(this.ids);
  }
}

async function rig(opts: { claimed?: (a: Allocation) => boolean; busy?: (k: PodKey) => boolean } = {}) {
  const clock = new FakeClock();
  const ipam = new MemoryIpam({ addresses: ['10.0.0.20', '10.0.0.21', '10.0.0.22'], clock });
  const census = new FakeCensus();
  const metrics = new MemoryMetrics();
  const released: string[] = [];
  const sweeper = new NetnsSweeper({
    allocations: () => ipam.list(),
    release: async (k) => {
      released.push(k.containerId);
      await ipam.release(k);
    },
    busy: opts.busy ?? (() => false),
    ...(opts.claimed ? { claimed: opts.claimed } : {}),
    census,
    graceMs: 60_000,
    intervalMs: 1000,
    clock,
    metrics,
  });
  await ipam.allocate({ containerId: 'live', ifname: 'eth0', netnsId: '4:100' }, { deadlineMs: 0 });
  await ipam.allocate({ containerId: 'gone', ifname: 'eth0', netnsId: '4:200' }, { deadlineMs: 0 });
  await ipam.allocate({ containerId: 'legacy', ifname: 'eth0' }, { deadlineMs: 0 });
  census.ids.add('4:100');
  return { clock, ipam, census, metrics, released, sweeper };
}

describe('NetnsSweeper', () => {
  it('releases an allocation whose netns is gone only after it stayed gone for the grace period, with a metric', async () => {
    const r = await rig();
    expect(await r.sweeper.sweep()).toEqual([]);
    await r.clock.advance(59_000);
    expect(await r.sweeper.sweep()).toEqual([]);
    await r.clock.advance(2_000);
    expect(await r.sweeper.sweep()).toEqual([{ containerId: 'gone', ifname: 'eth0' }]);
    expect(r.ipam.list().map((a) => a.containerId).sort()).toEqual(['legacy', 'live']);
    expect(r.metrics.get('vpcnet_reconcile_total', { kind: 'netns-gone', outcome: 'released' })).toBe(1);
  });

  it('a netns that comes back resets the clock', async () => {
    const r = await rig();
    await r.sweeper.sweep();
    await r.clock.advance(50_000);
    r.census.ids.add('4:200');
    await r.sweeper.sweep();
    r.census.ids.delete('4:200');
    await r.clock.advance(20_000);
    expect(await r.sweeper.sweep()).toEqual([]);
  });

  it('spares attachments a pod view claims or a CNI command holds', async () => {
    const claimed = await rig({ claimed: (a) => a.containerId === 'gone' });
    await claimed.sweeper.sweep();
    await claimed.clock.advance(120_000);
    expect(await claimed.sweeper.sweep()).toEqual([]);
    const busy = await rig({ busy: (k) => k.containerId === 'gone' });
    await busy.sweeper.sweep();
    await busy.clock.advance(120_000);
    expect(await busy.sweeper.sweep()).toEqual([]);
  });
});
