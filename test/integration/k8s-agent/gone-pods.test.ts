// A pod deleted while the agent is down gets its address back after the restart (once the pod
// watcher has listed and the grace period has passed); pods that still exist, and attachments
// without a pod name, keep theirs. Optional pod IP annotation happens after ADD.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { renderStatus } from '../../../src/cli/status-table.ts';
import { POD_IP_ANNOTATION } from '../../../src/k8s/pod-annotator.ts';
import type { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { ipOf, nodeObj, podObj, startWorld, TestNode, waitFor, type PodSpec, type World } from './harness.ts';

describe('gone pods', () => {
  let world: World;
  let node: TestNode;
  const keep: PodSpec = { namespace: 'default', name: 'keep', uid: 'uid-keep' };
  const gone: PodSpec = { namespace: 'default', name: 'gone', uid: 'uid-gone' };
  const ips = new Map<string, string>();

  beforeAll(async () => {
    world = await startWorld({
      vpcs: [{ cidr: '10.30.0.0/16', subnets: [{ cidr: '10.30.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.30.0.0/20' }],
    });
    const instanceId = world.instanceIds[0]!;
    world.api.upsert('nodes', nodeObj('node-gone', instanceId));
    for (const p of [keep, gone]) world.api.upsert('pods', podObj(p.namespace, p.name, 'node-gone', p.uid));
    node = new TestNode(world, {
      name: 'node-gone',
      instanceId,
      kubernetes: { goneGraceMs: 300, podReconcileIntervalMs: 200, annotatePodIps: true },
    });
  });

  afterAll(async () => {
    await node?.stop();
    await world?.close();
  });

  it('pods get addresses; their IP annotation is written after ADD', async () => {
    await node.start();
    for (const [id, pod] of [['c-keep', keep], ['c-gone', gone], ['c-noargs', undefined]] as const) {
      const run = await node.cni('ADD', id, pod);
      expect(run.code).toBe(0);
      ips.set(id, ipOf(run));
    }
    const annotation = (name: string): unknown =>
      ((world.api.get('pods', name, 'default')?.['metadata'] as { annotations?: Record<string, string> } | undefined)?.annotations ?? {})[POD_IP_ANNOTATION];
    await waitFor(() => annotation('keep') === ips.get('c-keep') && annotation('gone') === ips.get('c-gone'), 'pod IP annotations');
  });

  it('releases the address of a pod deleted while the agent was down, and only that one', async () => {
    const agent = node.running;
    await waitFor(() => agent.status().kubernetes?.nodeVerified === true, 'node verified');
    expect(agent.status().kubernetes).toMatchObject({ nodeName: 'node-gone', podsSynced: true, podsSeen: 2, networkConfig: { source: 'none' } });
    expect(renderStatus('node', agent.status())).toContain('kubernetes: node node-gone verified=true pods-synced=true pods=2 network-config=none');
    // Running pods keep their addresses across reconcile passes.
    await agent.kube!.releaseGonePods();
    expect(agent.poolManager.pool.allocations()).toHaveLength(3);

    await node.stop();
    world.api.remove('pods', 'gone', 'default');
    const second = await node.start();
    const goneIp = ips.get('c-gone')!;
    // Durable: the checkpoint no longer holds it.
    await waitFor(() => !node.checkpointText().includes('c-gone'), 'gone pod released');

    const left = second.poolManager.pool.allocations().map((a) => a.containerId).sort();
    expect(left).toEqual(['c-keep', 'c-noargs']);
    // Host-side state of the gone pod was removed with what the allocation knew.
    const teardowns = (second.datapath as FakeDatapath).calls('teardownPod').map((c) => c.req);
    expect(teardowns).toEqual([expect.objectContaining({ containerId: 'c-gone', ifname: 'eth0', ip: goneIp })]);
    // The kept pod's repeat ADD returns its address.
    expect(ipOf(await node.cni('ADD', 'c-keep', keep))).toBe(ips.get('c-keep'));

    // After the cooldown the address is free again and is handed out to a new pod.
    const blockOf = (): { available: number; cooldown: number } | undefined =>
      second.status().pool!.nics.flatMap((n) => n.blocks).find((b) => b.cidr === `${goneIp}/32`);
    await waitFor(() => blockOf()?.available === 1, 'released address out of cooldown');
    let reused = false;
    for (let i = 0; i < 12 && !reused; i++) {
      const run = await node.cni('ADD', `c-new-${i}`);
      expect(run.code).toBe(0);
      reused = ipOf(run) === goneIp;
    }
    expect(reused).toBe(true);
  });
});
