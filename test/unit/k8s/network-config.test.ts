import { describe, expect, it } from '@jest/globals';
import { resolveNetworkConfig } from '../../../src/k8s/network-config.ts';
import type { NodeNetworkConfig } from '../../../src/k8s/kube-client.ts';

const cfg = (name: string, subnetId: string, zone?: string): NodeNetworkConfig => ({
  name,
  resourceVersion: '1',
  spec: { subnetId, securityGroupIds: [], ...(zone ? { zone } : {}) },
});
const configs = [cfg('zone-a', 'subnet-a', 'us-west-2a'), cfg('zone-b', 'subnet-b', 'us-west-2b'), cfg('big', 'subnet-big')];
const node = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({ labels, annotations });

describe('resolveNetworkConfig', () => {
  it('prefers the config named by label, then by annotation, over the zone', () => {
    const zoneLabel = { 'topology.kubernetes.io/zone': 'us-west-2a' };
    expect(resolveNetworkConfig(node({ ...zoneLabel, 'vpcnet.io/network-config': 'big' }), configs)).toMatchObject({
      source: 'selected',
      name: 'big',
    });
    expect(resolveNetworkConfig(node(zoneLabel, { 'vpcnet.io/network-config': 'big' }), configs)).toMatchObject({ name: 'big' });
    expect(resolveNetworkConfig(node(zoneLabel), configs)).toMatchObject({ source: 'zone', name: 'zone-a', spec: { subnetId: 'subnet-a' } });
  });

  it('reports a named config that does not exist instead of falling back', () => {
    expect(resolveNetworkConfig(node({ 'vpcnet.io/network-config': 'nope', 'topology.kubernetes.io/zone': 'us-west-2a' }), configs)).toEqual({
      source: 'missing',
      name: 'nope',
    });
  });

  it('uses none when nothing matches, and is deterministic when two configs share a zone', () => {
    expect(resolveNetworkConfig(node({ 'topology.kubernetes.io/zone': 'eu-west-1a' }), configs)).toEqual({ source: 'none' });
    const dup = [cfg('z2', 'subnet-2', 'us-west-2a'), cfg('z1', 'subnet-1', 'us-west-2a')];
    expect(resolveNetworkConfig(node({ 'topology.kubernetes.io/zone': 'us-west-2a' }), dup)).toMatchObject({ name: 'z1' });
    expect(resolveNetworkConfig(node({ 'topology.kubernetes.io/zone': 'us-west-2a' }), [...dup].reverse())).toMatchObject({ name: 'z1' });
  });
});
