// Route mode: routes whose next-hop instance is gone are deleted by ONE agent at a time, the
// holder of the Lease kube-system/vpcnet-gcp-route-sweep (real Kubernetes client against the
// fake API server; GCE provider built as the agent builds it, real SDK against the emulator).
import { afterEach, describe, expect, it } from '@jest/globals';
import { ROUTE_SWEEP_LEASE, routeSweepLeaseMs, type GcpProvider } from '../../../providers/gcp/client/gcp-provider.ts';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';
import { createProvider } from '../../../providers/gcp/provider-entry.ts';
import { KubeWiring } from '../../../src/agent/kube-wiring.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { noopMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock, systemClock } from '../../../src/util/clock.ts';
import type { FakeApiServer } from '../../support/fake-apiserver/server.ts';
import { silent, startApi } from './helpers.ts';

const ZONE = 'europe-west1-b';
const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];
const INTERVAL = 60_000;

describe('GCE stale-route sweep under a Lease', () => {
  let api: FakeApiServer | undefined;
  let emulator: GcpEmulator | undefined;
  afterEach(async () => {
    await api?.stop();
    await emulator?.stop();
    api = emulator = undefined;
  });

  it('one holder sweeps, whichever node it is; another takes over only once the lease expired', async () => {
    const started = await startApi();
    api = started.api;
    emulator = new GcpEmulator({ project: 'g2-sweep', operationDelayMs: 10, auth: 'issued' });
    emulator.applyScenario({
      subnets: [{ name: 'nodes', region: 'europe-west1', network: 'vpc', ipCidrRange: '10.128.0.0/20' }],
      instances: NODES.map((name) => ({ name, zone: ZONE, subnet: 'nodes', canIpForward: true })),
    });
    await emulator.start();
    const leaseClock = new FakeClock(Date.UTC(2026, 11, 1, 12));
    const settings = configSchema.parse({ kubernetes: { enabled: true } }).kubernetes;
    const node = (name: string): GcpProvider => {
      const config = configSchema.parse({
        clusterName: 'g2',
        reconcile: { intervalMs: INTERVAL },
        provider: { name: 'gcp', rangeMode: 'route', clusterCidr: '10.64.0.0/16', apiEndpoint: emulator!.endpoint, metadataEndpoint: emulator!.metadataEndpoint(ZONE, name) },
      });
      // the lease half as the agent wires it (KubeWiring.cluster), on a clock the test moves
      const wiring = new KubeWiring({ settings, nodeName: name, clock: leaseClock, metrics: noopMetrics, logger: silent, client: started.client });
      return createProvider(config, { clock: systemClock, metrics: noopMetrics, logger: silent, cluster: wiring.cluster }) as GcpProvider;
    };
    const [a, b, c, d] = NODES.map(node) as [GcpProvider, GcpProvider, GcpProvider, GcpProvider];
    for (const p of [a, b, c, d]) await p.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    const routed = (): string[] => [...emulator!.state.routes.values()].map((r) => (r.nextHopInstance ?? '').split('/').pop() as string).sort();
    expect(routed()).toEqual(NODES);

    // node-d is deleted; node-b (not the lowest-named live next hop) sweeps first: it holds the lease, it deletes
    emulator.state.deleteInstance(ZONE, 'node-d');
    await b.sweepStaleRoutes();
    expect(routed()).toEqual(['node-a', 'node-b', 'node-c']);
    const lease = (): unknown => started.api.get('leases', ROUTE_SWEEP_LEASE, 'kube-system', 'coordination.k8s.io');
    expect(lease()).toMatchObject({ spec: { holderIdentity: 'node-b', leaseDurationSeconds: routeSweepLeaseMs(INTERVAL) / 1000 } });

    // node-c goes: node-a sees the stale route but node-b's lease is live, so only node-b deletes it
    emulator.state.deleteInstance(ZONE, 'node-c');
    await leaseClock.advance(INTERVAL);
    await a.sweepStaleRoutes();
    expect(routed()).toEqual(['node-a', 'node-b', 'node-c']);
    await b.sweepStaleRoutes();
    expect(routed()).toEqual(['node-a', 'node-b']);
    const deletes = emulator.stats().calls['routes.delete'];
    expect(deletes).toBe(2);

    // node-b itself goes (its agent with it): after the lease expired node-a takes over
    emulator.state.deleteInstance(ZONE, 'node-b');
    await a.sweepStaleRoutes();
    expect(routed()).toEqual(['node-a', 'node-b']);
    await leaseClock.advance(routeSweepLeaseMs(INTERVAL) + 1000);
    await a.sweepStaleRoutes();
    expect(routed()).toEqual(['node-a']);
    expect(lease()).toMatchObject({ spec: { holderIdentity: 'node-a' } });
  });
});
