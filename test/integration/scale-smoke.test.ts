// The scale benchmark at small N: 20 nodes boot at once against one emulated EC2 account,
// churn pods and shut down. Asserts correctness and call counts, never time.
import { describe, expect, it } from '@jest/globals';
import { runScale } from '../bench/scale-run.ts';

/**
 * Boot budget documented in docs/benchmarks.md: with the default targets (WARM_ENI_TARGET=1)
 * a node's boot makes one mutating call, the AssignPrivateIpAddresses that fills its primary ENI.
 */
const BOOT_MUTATING_CALLS_PER_NODE = 1;

describe('scale smoke (20 nodes, one emulated account)', () => {
  it('secondary IPs: boots, churns and stops with no pod-visible failure, no leak, no double assignment', async () => {
    // Virtual time: the emulated figures do not depend on how busy the test machine is.
    const r = await runScale({ nodes: 20, seed: 7, churnCycles: 2, phaseWindowMs: 30_000, prefixDelegation: false });
    expect(r.time).toBe('virtual');

    expect(r.warm.notWarm).toBe(0);
    expect(r.bootRestarts).toBe(0);
    expect(r.bootFailures).toBe(0);
    expect(r.failureCodes).toEqual({});
    expect(r.failures).toBe(0);
    expect(r.leaks).toEqual({
      unattachedNics: 0,
      unknownNics: 0,
      unknownAddresses: 0,
      phantomAddresses: 0,
      lostPods: 0,
      doubleAssigned: 0,
      afterTermination: 0,
      leakFinderFound: 0,
    });
    expect(r.leakTotal).toBe(0);
    // Pods really churned: every node filled, released half and filled again, twice.
    expect(r.pods.releases).toBeGreaterThan(0);
    expect(r.pods.allocations).toBeGreaterThan(r.pods.releases);
    expect(r.mutatingPerNode.boot.max).toBeLessThanOrEqual(BOOT_MUTATING_CALLS_PER_NODE);
    // Every call a client counted reached the emulator (nothing bypassed the account's buckets).
    for (const a of r.actions) expect(a.total).toBeGreaterThanOrEqual(Math.round(a.perNodeMean * r.nodes));
    // Steady state: node state from metadata, EC2 described at most twice per node per hour.
    expect(r.steady.describesPerNodeHourMax).toBeLessThanOrEqual(2);
  }, 180_000);

  it('with prefix delegation (the default) grows by assigning prefixes only, with no failure and no leak', async () => {
    const r = await runScale({ nodes: 20, seed: 7, churnCycles: 2, phaseWindowMs: 30_000 });
    expect(r.prefixDelegation).toBe(true);
    expect(r.steady.describesPerNodeHourMax).toBeLessThanOrEqual(2);

    expect(r.failures).toBe(0);
    expect(r.leakTotal).toBe(0);
    expect(r.leaks.leakFinderFound).toBe(0);
    expect(r.pods.peakPerNode).toBeGreaterThan(16);
    expect(r.mutatingPerNode.boot.max).toBeLessThanOrEqual(BOOT_MUTATING_CALLS_PER_NODE);
    // Every node's pods fit in /28s on its primary ENI: no ENI is ever created.
    expect(r.actions.find((a) => a.action === 'CreateNetworkInterface')).toBeUndefined();
  }, 180_000);
});
