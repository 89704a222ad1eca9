// One agent at a time sweeps leaked NICs: a coordination.k8s.io/v1 Lease through the real
// client against the fake API server, and the reconciler asking it before each sweep.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Reconciler } from '../../../src/agent/reconciler.ts';
import { LeaseLock } from '../../../src/k8s/lease-lock.ts';
import { noopMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import type { FakeApiServer } from '../../support/fake-apiserver/server.ts';
import { silent, startApi } from './helpers.ts';

describe('leaked-NIC sweep lease', () => {
  let api: FakeApiServer | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  it('one holder at a time; another takes over only after the lease expired', async () => {
    const started = await startApi();
    api = started.api;
    const clock = new FakeClock(Date.UTC(2026, 11, 1));
    const lock = (identity: string): LeaseLock =>
      new LeaseLock({ client: started.client, namespace: 'kube-system', name: 'vpcnet-leaked-nic-sweep', identity, durationMs: 60_000, clock });
    const a = lock('node-a');
    const b = lock('node-b');
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    await clock.advance(30_000);
    expect(await a.tryAcquire()).toBe(true); // renewed
    await clock.advance(59_000);
    expect(await b.tryAcquire()).toBe(false);
    await clock.advance(2_000);
    expect(await b.tryAcquire()).toBe(true); // a stopped renewing
    expect(await a.tryAcquire()).toBe(false);
    const stored = started.api.get('leases', 'vpcnet-leaked-nic-sweep', 'kube-system', 'coordination.k8s.io');
    expect(stored).toMatchObject({ spec: { holderIdentity: 'node-b', leaseDurationSeconds: 60 } });
  });

  it('only the holder of the lease sweeps (one cluster-wide describe per period, not one per node)', async () => {
    const started = await startApi();
    api = started.api;
    const clock = new FakeClock(Date.UTC(2026, 11, 1));
    const finds: string[] = [];
    const node = (name: string): Reconciler =>
      new Reconciler({
        datapath: { listPods: async () => [], teardownPod: async () => undefined },
        provider: {
          leakedNics: {
            findLeakedNics: async () => {
              finds.push(name);
              return [];
            },
            deleteNic: async () => undefined,
          },
        },
        allocations: () => [],
        mode: 'routed',
        intervalMs: 60_000,
        leakedNicGraceMs: 600_000,
        sweepLease: new LeaseLock({ client: started.client, namespace: 'kube-system', name: 'vpcnet-leaked-nic-sweep', identity: name, durationMs: 900_000, clock }),
        clock,
        metrics: noopMetrics,
        logger: silent,
        random: () => 0,
      });
    const nodes = ['n1', 'n2', 'n3'].map(node);
    for (const r of nodes) await r.start();
    for (let i = 0; i < 30; i++) {
      await clock.advance(60_000);
      for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
    }
    for (const r of nodes) await r.stop();
    // 30 minutes, a sweep every 5 minutes by one holder.
    expect(new Set(finds).size).toBe(1);
    expect(finds.length).toBeGreaterThanOrEqual(5);
    expect(finds.length).toBeLessThanOrEqual(7);
  });
});
