// The NodeNetworkConfig decorator decorates by capability: it exposes exactly the capabilities
// of the provider it wraps, applies the config to new NICs where NICs can be attached, and
// reports (once) a config it cannot apply on a node that cannot attach NICs.
import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { fakeShape } from '../../../providers/fake/shapes.ts';
import { capabilitiesOf } from '../../../providers/provider.ts';
import { NetworkConfigProvider, type NetworkConfigSource } from '../../../src/agent/network-config-provider.ts';
import type { VpcnetError } from '../../../src/errors.ts';
import type { EffectiveNetworkConfig } from '../../../src/k8s/network-config.ts';

function source(cfg: EffectiveNetworkConfig): NetworkConfigSource & { refused: VpcnetError[] } {
  const refused: VpcnetError[] = [];
  return { refused, forNextNic: async () => cfg, current: () => cfg, onRefused: (e) => refused.push(e) };
}

const OTHER_SUBNET: EffectiveNetworkConfig = { source: 'selected', name: 'pods-b', spec: { subnetId: 'subnet-other', securityGroupIds: ['sg-1'] } };

describe('NetworkConfigProvider', () => {
  it.each(['aws', 'azure', 'gce'] as const)('has exactly the capabilities of the %s-shaped provider it wraps', async (shape) => {
    const inner = new FakeCloudProvider(fakeShape(shape));
    const wrapped = new NetworkConfigProvider(inner, source({ source: 'none' }));
    const { limits } = await wrapped.discover();
    expect(capabilitiesOf(wrapped, limits)).toEqual(capabilitiesOf(inner, limits));
    expect(wrapped.name).toBe(inner.name);
  });

  it('with NIC lifecycle: new NICs go to the configured subnet and security groups', async () => {
    const inner = new FakeCloudProvider({ hook: (op, args) => void (op === 'attachNic' && calls.push(args)) });
    const calls: unknown[] = [];
    const wrapped = new NetworkConfigProvider(inner, source({ ...OTHER_SUBNET, spec: { subnetId: 'subnet-fake', securityGroupIds: ['sg-1'] } } as EffectiveNetworkConfig));
    await wrapped.nicLifecycle?.attachNic({ deviceIndex: 1 });
    expect(calls).toEqual([{ deviceIndex: 1, subnetId: 'subnet-fake', securityGroups: ['sg-1'] }]);
  });

  it('without NIC lifecycle: assigns go on, and a config naming another subnet is reported once', async () => {
    const inner = new FakeCloudProvider(fakeShape('azure'));
    const src = source(OTHER_SUBNET);
    const wrapped = new NetworkConfigProvider(inner, src);
    const nicId = inner.primaryNic.id;
    expect(await wrapped.assign({ nicId, kind: 'ip', count: 2 })).toHaveLength(2);
    expect(await wrapped.assign({ nicId, kind: 'ip', count: 1 })).toHaveLength(1);
    expect(src.refused).toHaveLength(1);
    expect(src.refused[0]).toMatchObject({ code: 'CONFIG_INVALID', details: { networkConfig: 'pods-b', subnetId: 'subnet-other' } });
  });

  it('without NIC lifecycle: a config naming the node subnet is nothing to report', async () => {
    const inner = new FakeCloudProvider(fakeShape('azure'));
    const src = source({ ...OTHER_SUBNET, spec: { subnetId: 'subnet-fake', securityGroupIds: [] } } as EffectiveNetworkConfig);
    await new NetworkConfigProvider(inner, src).assign({ nicId: inner.primaryNic.id, kind: 'ip', count: 1 });
    expect(src.refused).toEqual([]);
  });
});
