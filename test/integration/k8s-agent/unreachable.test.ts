// The API server is away (refusing connections, or hung): the agent still starts, serves warm
// ADDs and STATUS, and releases nothing until its pod view has been listed once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { READY_CONDITION } from '../../../src/k8s/readiness.ts';
import { ipOf, nodeConditions, nodeObj, podObj, startWorld, TestNode, waitFor, type PodSpec, type World } from './harness.ts';

describe('API server unreachable', () => {
  let world: World;
  const nodes: TestNode[] = [];
  const a: PodSpec = { namespace: 'default', name: 'a', uid: 'uid-a' };
  const b: PodSpec = { namespace: 'default', name: 'b', uid: 'uid-b' };

  beforeAll(async () => {
    world = await startWorld({
      vpcs: [{ cidr: '10.40.0.0/16', subnets: [{ cidr: '10.40.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.40.0.0/20', count: 2 }],
    });
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await world?.close();
  });

  it('refusing connections: start, warm ADDs and STATUS succeed; no release before the first list', async () => {
    const instanceId = world.instanceIds[0]!;
    world.api.upsert('nodes', nodeObj('node-down', instanceId));
    for (const p of [a, b]) world.api.upsert('pods', podObj(p.namespace, p.name, 'node-down', p.uid));
    await world.api.down();
    const node = new TestNode(world, { name: 'node-down', instanceId, kubernetes: { goneGraceMs: 0, podReconcileIntervalMs: 100 } });
    nodes.push(node);

    await node.start();
    const ips = new Map<string, string>();
    for (const [id, pod] of [['c-a', a], ['c-b', b]] as const) {
      const run = await node.cni('ADD', id, pod);
      expect(run.code).toBe(0);
      ips.set(id, ipOf(run));
    }
    expect((await node.cni('STATUS', 'x')).code).toBe(0);

    // b is deleted while the API server is unreachable; a restart with no view keeps its address.
    world.api.remove('pods', 'b', 'default');
    await node.stop();
    const agent = await node.start();
    await agent.kube!.releaseGonePods();
    expect(agent.poolManager.pool.allocations().map((x) => x.containerId).sort()).toEqual(['c-a', 'c-b']);
    expect(ipOf(await node.cni('ADD', 'c-b', b))).toBe(ips.get('c-b'));

    // The API server returns: the view syncs, b's address is released, a keeps its own,
    // and the node gets its readiness condition.
    await world.api.up();
    await waitFor(() => !agent.poolManager.pool.allocations().some((x) => x.containerId === 'c-b'), 'b released after the first list');
    expect(agent.poolManager.pool.allocations().map((x) => x.containerId)).toEqual(['c-a']);
    await waitFor(() => nodeConditions(world.api, 'node-down').some((c) => c.type === READY_CONDITION && c.status === 'True'), 'readiness written');
  });

  it('hung API server: start and ADDs do not wait for it', async () => {
    const instanceId = world.instanceIds[1]!;
    world.api.upsert('nodes', nodeObj('node-hung', instanceId));
    world.api.stall(true);
    try {
      const node = new TestNode(world, { name: 'node-hung', instanceId, kubernetes: { requestTimeoutMs: 20_000 } });
      nodes.push(node);
      await node.start();
      for (const id of ['h-1', 'h-2', 'h-3']) {
        const run = await node.cni('ADD', id, { namespace: 'default', name: id, uid: `uid-${id}` });
        expect(run.code).toBe(0);
      }
      expect(node.running.ready()).toBe(true);
      expect(node.running.status().kubernetes).toMatchObject({ nodeVerified: false, podsSynced: false });
    } finally {
      // Cut the hung connections so shutdown need not wait for the 20 s client deadline.
      world.api.stall(false);
      await world.api.down();
      await world.api.up();
    }
  });
});
