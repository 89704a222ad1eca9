import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeClock } from '../../../src/util/clock.ts';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { NodeReadiness, NOT_READY_TAINT_KEY, READY_CONDITION } from '../../../src/k8s/readiness.ts';
import { NodeEventRecorder } from '../../../src/k8s/node-events.ts';
import { PodAddressAnnotator, POD_IP_ANNOTATION } from '../../../src/k8s/pod-annotator.ts';

const logger = pino({ level: 'silent' });

function nodeClient(): FakeKubeClient {
  const client = new FakeKubeClient();
  client.putNode({
    name: 'node-a',
    uid: 'uid-a',
    labels: {},
    annotations: {},
    taints: [{ key: NOT_READY_TAINT_KEY, effect: 'NoSchedule' }],
    conditions: [],
  });
  return client;
}

describe('NodeReadiness', () => {
  it('never blocks the caller and applies the latest state once the API server is back', async () => {
    const client = nodeClient();
    const clock = new FakeClock();
    client.setDown(true);
    const r = new NodeReadiness({ client, nodeName: 'node-a', clock, logger, backoff: { baseMs: 100, capMs: 1000, random: () => 0.5 } });
    r.set(false, 'PoolFilling', 'filling'); // returns at once although the server is down
    r.set(true, 'PoolReady', 'ready');
    await clock.advance(500);
    expect(client.nodes.get('node-a')?.conditions).toEqual([]);
    client.setDown(false);
    await clock.advance(2000);
    await r.idle();
    const node = client.nodes.get('node-a');
    expect(node?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([[READY_CONDITION, 'True', 'PoolReady']]);
    expect(node?.taints).toEqual([]);
  });

  it('keeps lastTransitionTime while the status stays the same and never re-adds the taint', async () => {
    const client = nodeClient();
    const clock = new FakeClock();
    const r = new NodeReadiness({ client, nodeName: 'node-a', clock, logger });
    r.set(true, 'PoolReady', 'ready');
    await r.idle();
    const first = client.nodes.get('node-a')?.conditions[0]?.lastTransitionTime;
    expect(first).toEqual(expect.any(String));
    await clock.advance(60_000);
    r.set(true, 'PoolReady', 'ready, 3 NICs');
    await r.idle();
    expect(client.nodes.get('node-a')?.conditions[0]?.lastTransitionTime).toBe(first);
    await clock.advance(60_000);
    r.set(false, 'SubnetFull', 'no free addresses');
    await r.idle();
    const node = client.nodes.get('node-a');
    expect(node?.conditions[0]).toMatchObject({ status: 'False', reason: 'SubnetFull' });
    expect(node?.conditions[0]?.lastTransitionTime).not.toBe(first);
    expect(node?.taints).toEqual([]);
  });
});

describe('NodeEventRecorder', () => {
  it('deduplicates within the window and rate limits across events', async () => {
    const client = nodeClient();
    const clock = new FakeClock();
    const ev = new NodeEventRecorder({ client, nodeName: 'node-a', nodeUid: 'uid-a', clock, logger, dedupWindowMs: 60_000, maxPerMinute: 3 });
    for (let i = 0; i < 10; i++) ev.warning('SubnetFull', 'subnet-1 full');
    await ev.flush();
    expect(client.events.size).toBe(1);
    for (let i = 0; i < 5; i++) ev.warning('CloudPermissionDenied', `denied ${i}`);
    await ev.flush();
    expect(client.events.size).toBe(3); // 1 + 2 more within the per-minute budget
    expect(ev.dropped).toBe(3);
    await clock.advance(61_000);
    ev.warning('SubnetFull', 'subnet-1 full');
    await ev.flush();
    const subnet = [...client.events.values()].find((e) => e.reason === 'SubnetFull');
    expect(subnet?.count).toBe(11);
  });

  it('a failing API server never throws to the caller', async () => {
    const client = nodeClient();
    client.setDown(true);
    const ev = new NodeEventRecorder({ client, nodeName: 'node-a', nodeUid: 'uid-a', clock: new FakeClock(), logger });
    expect(() => ev.warnForError('SUBNET_FULL', 'full')).not.toThrow();
    await ev.flush();
    expect(client.events.size).toBe(0);
  });
});

describe('PodAddressAnnotator', () => {
  it('keeps only the latest wish per pod', async () => {
    const client = new FakeKubeClient();
    client.putPod({ namespace: 'default', name: 'web', uid: 'u', nodeName: 'node-a', hostNetwork: false, annotations: {} });
    const clock = new FakeClock();
    const a = new PodAddressAnnotator({ client, clock, logger });
    client.setDown(true);
    a.annotate('default', 'web', '10.0.0.1');
    a.annotate('default', 'web', '10.0.0.2');
    client.setDown(false);
    await clock.advance(60_000);
    await a.idle();
    expect(client.pods.get('default/web')?.annotations[POD_IP_ANNOTATION]).toBe('10.0.0.2');
  });
});
