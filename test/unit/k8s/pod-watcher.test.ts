// Pod watcher over the in-memory KubeClient, with a fake clock driving the backoff.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeClock } from '../../../src/util/clock.ts';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { allocationsOfGonePods, PodWatcher } from '../../../src/k8s/pod-watcher.ts';

const logger = pino({ level: 'silent' });
const pod = (name: string, nodeName = 'node-a', uid = `uid-${name}`, annotations: Record<string, string> = {}) => ({
  namespace: 'default',
  name,
  uid,
  nodeName,
  hostNetwork: false,
  annotations,
});

async function settle(clock: FakeClock): Promise<void> {
  await clock.advance(0);
}

describe('PodWatcher', () => {
  it('is not synced and releases nothing until the first list succeeds', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.putPod(pod('a'));
    client.setDown(true);
    const w = new PodWatcher({ client, nodeName: 'node-a', clock, logger, backoff: { baseMs: 100, capMs: 1000, random: () => 0.5 } });
    w.start();
    await settle(clock);
    expect(w.synced).toBe(false);
    const allocs = [{ podNamespace: 'default', podName: 'gone', allocatedAt: 0 }];
    expect(allocationsOfGonePods(allocs, w, clock.now())).toEqual([]);
    // Retries with growing delays while the server is down.
    await clock.advance(50);
    await clock.advance(100);
    const callsWhileDown = client.calls;
    expect(callsWhileDown).toBeGreaterThanOrEqual(2);
    client.setDown(false);
    await clock.advance(1000);
    expect(w.synced).toBe(true);
    expect([...w.livePods().keys()]).toEqual(['default/a']);
    expect(allocationsOfGonePods(allocs, w, clock.now() + 120_000)).toEqual(allocs);
    await w.stop();
  });

  it('a broken watch relists after backoff and picks up what changed meanwhile', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.putPod(pod('a'));
    client.putPod(pod('b'));
    client.putPod(pod('other', 'node-b'));
    const w = new PodWatcher({ client, nodeName: 'node-a', clock, logger, backoff: { baseMs: 100, capMs: 1000, random: () => 0.5 } });
    w.start();
    await settle(clock);
    expect([...w.livePods().keys()].sort()).toEqual(['default/a', 'default/b']);
    client.setDown(true); // breaks the watch
    client.deletePod('default', 'a'); // missed while down
    await clock.advance(1000);
    expect(w.livePods().has('default/a')).toBe(true); // stale, never guessed
    client.setDown(false);
    await clock.advance(2000);
    expect([...w.livePods().keys()]).toEqual(['default/b']);
    expect(w.lists).toBeGreaterThanOrEqual(2);
    await w.stop();
  });
});

describe('allocationsOfGonePods', () => {
  const view = (pods: ReturnType<typeof pod>[]) => {
    const m = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    return {
      synced: true,
      isLive: (r: { podNamespace?: string; podName?: string; podUid?: string }) => {
        const p = m.get(`${r.podNamespace}/${r.podName}`);
        return !!p && (!r.podUid || p.uid === r.podUid || p.annotations['kubernetes.io/config.mirror'] === r.podUid);
      },
    };
  };

  it('keeps young allocations, unnamed ones and static pods known by their mirror hash', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.putPod(pod('static-etcd', 'node-a', 'mirror-uid', { 'kubernetes.io/config.mirror': 'hash-123' }));
    const w = new PodWatcher({ client, nodeName: 'node-a', clock, logger });
    w.start();
    await settle(clock);
    const now = 1_000_000;
    const allocs = [
      { id: 1, podNamespace: 'default', podName: 'static-etcd', podUid: 'hash-123', allocatedAt: 0 },
      { id: 2, podNamespace: 'default', podName: 'young', allocatedAt: now - 10_000 },
      { id: 3, allocatedAt: 0 },
      { id: 4, podNamespace: 'default', podName: 'old', allocatedAt: 0 },
    ];
    expect(allocationsOfGonePods(allocs, w, now).map((a) => a.id)).toEqual([4]);
    expect(allocationsOfGonePods(allocs, view([]), now).map((a) => a.id)).toEqual([1, 4]);
    await w.stop();
  });
});
