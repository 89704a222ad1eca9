import { describe, expect, it } from '@jest/globals';
import { identityOf, parseProviderId } from '../../../src/k8s/node-identity.ts';

describe('parseProviderId', () => {
  it('reads AWS instance id and zone', () => {
    expect(parseProviderId('aws:///us-west-2a/i-0abc123def4567890')).toEqual({
      cloud: 'aws',
      instanceId: 'i-0abc123def4567890',
      zone: 'us-west-2a',
    });
    expect(parseProviderId('aws:///i-0abc1234')).toEqual({ cloud: 'aws', instanceId: 'i-0abc1234' });
  });

  it('reads GCE project, zone and instance name', () => {
    expect(parseProviderId('gce://my-project/us-central1-b/gke-pool-1-abcd')).toEqual({
      cloud: 'gcp',
      project: 'my-project',
      zone: 'us-central1-b',
      instanceId: 'gke-pool-1-abcd',
    });
  });

  it('reads Azure VMs and scale set instances', () => {
    const vm = '/subscriptions/sub-1/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachines/aks-node-0';
    expect(parseProviderId(`azure://${vm}`)).toEqual({ cloud: 'azure', resourceId: vm, instanceId: 'aks-node-0' });
    const vmss = '/subscriptions/sub-1/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool-123/virtualMachines/7';
    expect(parseProviderId(`azure://${vmss}`)).toEqual({ cloud: 'azure', resourceId: vmss, instanceId: 'aks-pool-123_7' });
  });

  it.each(['', 'aws:///us-west-2a/not-an-instance', 'kind://docker/kind/kind-worker', 'gce://p/z', 'azure:///foo'])(
    'rejects %p with CONFIG_INVALID',
    (raw) => {
      expect(() => parseProviderId(raw)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    },
  );

  it('takes the zone from the topology label when the providerID has none', () => {
    const id = identityOf({
      name: 'n',
      uid: 'u',
      resourceVersion: '1',
      providerId: 'azure:///subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm1',
      labels: { 'topology.kubernetes.io/zone': 'eastus-1' },
      annotations: {},
      taints: [],
      conditions: [],
    });
    expect(id).toMatchObject({ cloud: 'azure', instanceId: 'vm1', zone: 'eastus-1', nodeName: 'n' });
  });
});
