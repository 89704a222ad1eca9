// The node's VpcnetReady condition and not-ready taint follow the pool, and CNI STATUS agrees;
// pool conditions a user must act on become node events.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NOT_READY_TAINT_KEY, READY_CONDITION } from '../../../src/k8s/readiness.ts';
import { nodeConditions, nodeEvents, nodeObj, nodeTaints, startWorld, TestNode, waitFor, type World } from './harness.ts';

describe('node readiness and events', () => {
  let world: World;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    world = await startWorld({
      vpcs: [{ cidr: '10.60.0.0/16', subnets: [{ cidr: '10.60.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.60.0.0/20', count: 2 }],
    });
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await world?.close();
  });

  const ours = (name: string): { status: string; reason: string } | undefined => nodeConditions(world.api, name).find((c) => c.type === READY_CONDITION);
  const tainted = (name: string): boolean => nodeTaints(world.api, name).some((t) => t.key === NOT_READY_TAINT_KEY);

  it('flips the condition and removes the taint when the pool becomes ready; STATUS agrees both ways', async () => {
    const instanceId = world.instanceIds[0]!;
    world.api.upsert('nodes', nodeObj('node-r', instanceId, { taints: [{ key: NOT_READY_TAINT_KEY, effect: 'NoSchedule' }] }));
    // One NIC of 10 addresses: 9 pods use the pool up.
    const node = new TestNode(world, { name: 'node-r', instanceId, pool: { warmIps: 3, maxNics: 1, cooldownMs: 300 } });
    nodes.push(node);
    // A slow cloud keeps the pool filling long enough to see the node not ready.
    world.emulator.faults.setLatency('AssignPrivateIpAddresses', 1500);
    const agent = node.create();
    const starting = agent.start();
    await waitFor(() => ours('node-r')?.status === 'False', 'not-ready condition during start');
    expect(ours('node-r')?.reason).toBe('PoolStarting');
    expect(tainted('node-r')).toBe(true);
    await starting;
    world.emulator.faults.setLatency('AssignPrivateIpAddresses', 0);

    await waitFor(() => ours('node-r')?.status === 'True' && !tainted('node-r'), 'ready condition, taint removed');
    expect((await node.cni('STATUS', 'x')).code).toBe(0);

    // Use every address: not ready again (condition only; the taint stays off), STATUS says so.
    for (let i = 0; i < 9; i++) expect((await node.cni('ADD', `p-${i}`)).code).toBe(0);
    await waitFor(() => ours('node-r')?.status === 'False', 'not ready when the pool is used up');
    expect(ours('node-r')?.reason).toBe('PoolEmpty');
    expect(tainted('node-r')).toBe(false);
    const status = await node.cni('STATUS', 'x');
    expect(status.code).not.toBe(0);
    expect(status.json).toMatchObject({ code: 50 });

    // A pod leaves; after the cooldown its address serves again.
    expect((await node.cni('DEL', 'p-0')).code).toBe(0);
    await waitFor(() => ours('node-r')?.status === 'True', 'ready again');
    expect((await node.cni('STATUS', 'x')).code).toBe(0);
    await node.stop();
  });

  it('a full subnet is reported as a node event and as the not-ready reason', async () => {
    const instanceId = world.instanceIds[1]!;
    world.api.upsert('nodes', nodeObj('node-full', instanceId));
    const fault = world.emulator.faults.add({ action: 'AssignPrivateIpAddresses', code: 'InsufficientFreeAddressesInSubnet' });
    try {
      const node = new TestNode(world, { name: 'node-full', instanceId });
      nodes.push(node);
      await node.start();
      await waitFor(() => nodeEvents(world.api, 'node-full').some((e) => e.reason === 'SubnetFull' && e.type === 'Warning'), 'SubnetFull event');
      await waitFor(() => ours('node-full')?.reason === 'SubnetFull', 'not-ready reason');
      expect(ours('node-full')?.status).toBe('False');
      expect((await node.cni('STATUS', 'x')).code).not.toBe(0);
    } finally {
      world.emulator.faults.remove(fault);
    }
  });
});
