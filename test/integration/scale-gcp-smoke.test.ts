// The GCE scale run, small: 24 nodes against one emulated project through the real SDK. The bar
// is behaviour, not time: one cloud write per node at boot, none during pod churn, no pod that
// failed, no address given twice, no range left behind once the nodes give theirs back.
import { describe, expect, it } from '@jest/globals';
import { runScaleGcp } from '../bench/scale-gcp.ts';

describe('GCE scale smoke (24 nodes, alias-ip)', () => {
  it('boots with one write per node, churns pods with none, leaves nothing behind', async () => {
    const r = await runScaleGcp({ nodes: 24, seed: 3, speed: 20, podsPerNode: 30, phaseWindowMs: 60_000 });
    expect(r.writesPerNodeMean).toBe(1);
    expect(r.callsPerNode.churn['instances.updateNetworkInterface'] ?? 0).toBe(0);
    expect(r.pods.failures).toBe(0);
    expect(r.bootFailures).toBe(0);
    expect(r.pods.allocations).toBe(24 * 30 + 24 * 15);
    expect(r.doubleAssigned).toBe(0);
    expect(r.leaks).toEqual({ aliasRangesLeft: 0, routesLeft: 0, rangesNotHeldByAPool: 0 });
  }, 120_000);
});
