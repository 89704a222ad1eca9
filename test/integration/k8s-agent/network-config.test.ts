// NodeNetworkConfig decides the subnet and security groups of NICs created afterwards; a node
// that names a config which does not exist gets no new NIC and a node event saying why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EniView } from '../../../providers/aws/emulator/model.ts';
import { NETWORK_CONFIG_KEY } from '../../../src/k8s/network-config.ts';
import type { Obj } from '../../support/fake-apiserver/server.ts';
import { nodeEvents, nodeObj, startWorld, TestNode, waitFor, type World } from './harness.ts';

const networkConfig = (name: string, subnetId: string, securityGroupIds: string[]): Obj => ({
  apiVersion: 'vpcnet.io/v1alpha1',
  kind: 'NodeNetworkConfig',
  metadata: { name },
  spec: { subnetId, securityGroupIds },
});

describe('NodeNetworkConfig', () => {
  let world: World;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    world = await startWorld({
      vpcs: [
        {
          cidr: '10.50.0.0/16',
          subnets: [
            { cidr: '10.50.0.0/20', az: 'us-west-2a' },
            { id: 'subnet-pods-a', cidr: '10.50.16.0/20', az: 'us-west-2a' },
            { id: 'subnet-pods-b', cidr: '10.50.32.0/20', az: 'us-west-2a' },
          ],
        },
      ],
      // t3.small: 3 NICs of 4 addresses, so a few pods need a new NIC.
      instances: [{ instanceType: 't3.small', subnet: '10.50.0.0/20', securityGroups: ['sg-node'], count: 2 }],
    });
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await world?.close();
  });

  const enisOf = (instanceId: string): EniView[] => world.emulator.listEnis().filter((e) => e.instanceId === instanceId);
  const eniAt = (instanceId: string, deviceIndex: number): EniView | undefined => enisOf(instanceId).find((e) => e.deviceIndex === deviceIndex);

  it('puts new NICs in the selected config subnet with its security groups, and follows changes', async () => {
    const instanceId = world.instanceIds[0]!;
    world.api.upsert('nodenetworkconfigs', networkConfig('pods', 'subnet-pods-a', ['sg-a1', 'sg-a2']), 'vpcnet.io');
    world.api.upsert('nodes', nodeObj('node-nnc', instanceId, { labels: { [NETWORK_CONFIG_KEY]: 'pods' } }));
    const node = new TestNode(world, { name: 'node-nnc', instanceId, pool: { warmIps: 5 } });
    nodes.push(node);
    const agent = await node.start();

    // Five warm addresses do not fit on the primary NIC: the start-up fill attaches one.
    await waitFor(() => eniAt(instanceId, 1) !== undefined, 'second NIC');
    expect(eniAt(instanceId, 0)).toMatchObject({ securityGroups: ['sg-node'] });
    expect(eniAt(instanceId, 1)).toMatchObject({ subnetId: 'subnet-pods-a', securityGroups: ['sg-a1', 'sg-a2'] });

    world.api.upsert('nodenetworkconfigs', networkConfig('pods', 'subnet-pods-b', ['sg-b']), 'vpcnet.io');
    await waitFor(() => {
      const c = agent.kube!.services.networkConfig.current();
      return c?.source === 'selected' && c.spec.subnetId === 'subnet-pods-b';
    }, 'config change seen');
    for (let i = 0; i < 8 && !eniAt(instanceId, 2); i++) {
      expect((await node.cni('ADD', `p-${i}`)).code).toBe(0);
    }
    await waitFor(() => eniAt(instanceId, 2) !== undefined, 'third NIC');
    expect(eniAt(instanceId, 2)).toMatchObject({ subnetId: 'subnet-pods-b', securityGroups: ['sg-b'] });
    // NICs created earlier stay as they were.
    expect(eniAt(instanceId, 1)).toMatchObject({ subnetId: 'subnet-pods-a', securityGroups: ['sg-a1', 'sg-a2'] });
  });

  it('a node that selects a missing config creates no NIC and gets an event', async () => {
    const instanceId = world.instanceIds[1]!;
    world.api.upsert('nodes', nodeObj('node-missing', instanceId, { labels: { [NETWORK_CONFIG_KEY]: 'no-such-config' } }));
    const node = new TestNode(world, { name: 'node-missing', instanceId, pool: { warmIps: 5 } });
    nodes.push(node);
    const agent = await node.start();
    await waitFor(() => nodeEvents(world.api, 'node-missing').some((e) => e.reason === 'InvalidConfig' && e.message.includes('no-such-config')), 'event');
    expect(enisOf(instanceId)).toHaveLength(1);
    // The primary NIC's addresses still serve pods.
    expect((await node.cni('ADD', 'm-1')).code).toBe(0);
    expect(agent.status().pool!.nics).toHaveLength(1);
  });
});
