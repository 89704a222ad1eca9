// The node's pod range from Node.spec.podCIDR (with Kubernetes), provider.podCidr as override
// and fallback, through the real SDK against the GCE emulator: the range requested exactly, a
// range outside the secondary range refused before any write, and a mismatch between the Node
// and what the cloud routes to the node raised as a condition naming both.
import { afterEach, describe, expect, it } from '@jest/globals';
import { VpcnetError } from '../../src/errors.ts';
import type { GcpCondition } from '../../providers/gcp/client/gcp-provider.ts';
import { startGcpEnv, type GcpEnv } from './gcp-emulator-setup.ts';

const ZONE = 'europe-west1-b';

function aliases(env: GcpEnv): string[] {
  return env.emulator.state.instance(ZONE, 'node-a').nics[0]!.aliasIpRanges.map((r) => r.ipCidrRange);
}

/** Node.spec.podCIDRs as the Kubernetes side would answer; `asked` records fresh reads. */
function nodeRanges(initial?: string[]): { set(v: string[] | undefined): void; fn: (o?: { fresh?: boolean }) => Promise<string[] | undefined>; fresh: number } {
  let value = initial;
  const r = {
    fresh: 0,
    set: (v: string[] | undefined) => void (value = v),
    fn: (o?: { fresh?: boolean }) => {
      if (o?.fresh) r.fresh++;
      return Promise.resolve(value);
    },
  };
  return r;
}

describe('GCE provider: the node pod range from Node.spec.podCIDR', () => {
  let env: GcpEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('alias-ip: the Node range (IPv4 one of a dual-stack pair) is requested exactly and sizes the node', async () => {
    const node = nodeRanges(['10.4.3.128/25', 'fd00:4:3::/64']);
    env = await startGcpEnv({ provider: { nodePodCidrs: node.fn } });
    const { limits } = await env.provider.discover();
    expect(limits.prefixLength).toBe(25);
    expect(limits.maxPods).toBe(64);
    const [block] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 25 });
    expect(block?.cidr).toBe('10.4.3.128/25');
    expect(aliases(env)).toEqual(['10.4.3.128/25']);
    expect(node.fresh).toBeGreaterThan(0);
  });

  it('provider.podCidr overrides the Node range', async () => {
    env = await startGcpEnv({ provider: { podCidr: '10.4.6.0/24', nodePodCidrs: nodeRanges(['10.4.3.0/24']).fn } });
    const [block] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(block?.cidr).toBe('10.4.6.0/24');
  });

  it('without a Node range (Kubernetes off or not assigned yet) GCE picks the block', async () => {
    env = await startGcpEnv({ provider: { nodePodCidrs: nodeRanges(undefined).fn } });
    const [block] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(block?.cidr).toBe('10.4.0.0/24');
  });

  it('a Node range outside the secondary range: CONFIG_INVALID naming both, nothing asked of nic0', async () => {
    env = await startGcpEnv({ provider: { nodePodCidrs: nodeRanges(['10.200.1.0/24']).fn } });
    const err = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VpcnetError);
    expect((err as VpcnetError).code).toBe('CONFIG_INVALID');
    expect((err as VpcnetError).message).toContain('Node.spec.podCIDR 10.200.1.0/24');
    expect((err as VpcnetError).message).toContain('pods (10.4.0.0/20)');
    expect(env.emulator.stats().calls['instances.updateNetworkInterface']).toBeUndefined();
    expect(aliases(env)).toEqual([]);
  });

  it('the Node range and the alias range nic0 holds disagree: PodCidrMismatch naming both; the routed range stays in use', async () => {
    const node = nodeRanges(undefined);
    const seen: GcpCondition[] = [];
    env = await startGcpEnv({ provider: { nodePodCidrs: node.fn, onCondition: (c) => seen.push(c) } });
    await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }); // GCE picks 10.4.0.0/24
    node.set(['10.4.5.0/24']);
    const [nic] = await env.provider.listNics();
    expect(nic?.blocks.map((b) => b.cidr)).toEqual(['10.4.0.0/24']);
    const [c] = env.provider.currentConditions();
    expect(c?.type).toBe('PodCidrMismatch');
    expect(c?.message).toContain('Node.spec.podCIDR is 10.4.5.0/24');
    expect(c?.message).toContain('10.4.0.0/24');
    expect(c?.notReady).toBeUndefined();
    expect(seen.map((x) => x.type)).toEqual(['PodCidrMismatch']);
    node.set(['10.4.0.0/24']);
    await env.provider.listNics();
    expect(env.provider.currentConditions()).toEqual([]);
  });

  it('route mode: the route carries the Node range; without any range the error says what to set', async () => {
    env = await startGcpEnv({ provider: { rangeMode: 'route', nodePodCidrs: nodeRanges(['10.64.9.0/24']).fn } });
    const [block] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(block?.cidr).toBe('10.64.9.0/24');
    expect([...env.emulator.state.routes.values()].map((r) => r.destRange)).toEqual(['10.64.9.0/24']);
    await env.cleanup();
    env = await startGcpEnv({ provider: { rangeMode: 'route', nodePodCidrs: nodeRanges(undefined).fn } });
    const err = (await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }).catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('Node.spec.podCIDR is not set');
    expect(env.emulator.state.routes.size).toBe(0);
  });
});
