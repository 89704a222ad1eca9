// Route mode at cluster scale: a node's reconcile lists only the routes whose next hop is its
// own instance (a server-side filter, so one page whatever the cluster's size); the cluster's
// whole route list is read for the stale-route sweep, and with a Lease only by its holder.
// Real SDK against the GCE emulator, which applies the filter as GCE does.
import { afterEach, describe, expect, it } from '@jest/globals';
import { routeName, type SweepGate } from '../../providers/gcp/client/gcp-provider.ts';
import { startGcpEnv, type GcpEnv } from './gcp-emulator-setup.ts';

const ZONE = 'europe-west1-b';

describe('GCE route mode: what a node lists', () => {
  let env: GcpEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  /** node-a with its route, plus `others` routes of the cluster to node-b (gone when `stale`). */
  async function cluster(gate: SweepGate | undefined, others: number, stale: boolean): Promise<{ env: GcpEnv; filters: string[]; mine: string }> {
    const e = await startGcpEnv({ provider: { rangeMode: 'route', clusterCidr: '10.64.0.0/16', routeSweepIntervalMs: 60_000, ...(gate ? { sweepGate: gate } : {}) } });
    const [block] = await e.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    const state = e.emulator.state;
    const dests = Array.from({ length: others + 1 }, (_, i) => `10.64.${100 + i}.0/24`).filter((d) => d !== block!.cidr).slice(0, others);
    for (const destRange of dests) {
      state
        .prepareRouteInsert({
          name: routeName('contract', 'vpc', destRange),
          network: state.networkLink('vpc'),
          destRange,
          nextHopInstance: `${e.emulator.endpoint}/compute/v1/${state.instancePath(ZONE, 'node-b')}`,
        })
        .apply();
    }
    if (stale) state.deleteInstance(ZONE, 'node-b');
    const filters: string[] = [];
    const list = e.api.listRoutes.bind(e.api);
    e.api.listRoutes = (filter: string) => {
      filters.push(filter);
      return list(filter);
    };
    return { env: e, filters, mine: block!.cidr };
  }

  const unfiltered = (filters: string[]): string[] => filters.filter((f) => !f.includes('nextHopInstance'));

  it("a node that does not hold the sweep lease lists only its own routes, however many the cluster has", async () => {
    const c = await cluster({ tryAcquire: () => Promise.resolve(false) }, 30, true);
    env = c.env;
    const [nic] = await env.provider.listNics();
    expect(nic?.blocks.map((b) => b.cidr)).toEqual([c.mine]);
    expect(c.filters).toHaveLength(1);
    expect(unfiltered(c.filters)).toEqual([]);
    expect(env.emulator.state.routes.size).toBe(31); // the stale routes are the holder's to delete
  });

  it('the lease holder reads the whole list once per sweep period and deletes the stale routes', async () => {
    const c = await cluster({ tryAcquire: () => Promise.resolve(true) }, 3, true);
    env = c.env;
    await env.provider.listNics();
    expect(unfiltered(c.filters)).toHaveLength(1);
    expect([...env.emulator.state.routes.values()].map((r) => r.destRange)).toEqual([c.mine]);
    await env.provider.listNics(); // within the period: its own routes only
    expect(unfiltered(c.filters)).toHaveLength(1);
  });

  it('without Kubernetes (no lease) the lowest live next hop sweeps, from the whole list', async () => {
    const c = await cluster(undefined, 2, true);
    env = c.env;
    const [nic] = await env.provider.listNics();
    expect(nic?.blocks.map((b) => b.cidr)).toEqual([c.mine]);
    expect(unfiltered(c.filters)).toHaveLength(1);
    expect(env.emulator.state.routes.size).toBe(1);
  });

  it("another node's live routes are never this node's blocks, and survive the sweep", async () => {
    const c = await cluster({ tryAcquire: () => Promise.resolve(true) }, 2, false);
    env = c.env;
    const [nic] = await env.provider.listNics();
    expect(nic?.blocks.map((b) => b.cidr)).toEqual([c.mine]);
    expect(env.emulator.state.routes.size).toBe(3);
  });
});
