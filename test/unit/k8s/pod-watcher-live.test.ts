// `live`: the pod view is current only while listed and watching; an outage makes it stale
// (synced stays true) until the relist.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { PodWatcher } from '../../../src/k8s/pod-watcher.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('PodWatcher.live', () => {
  it('is true after the list, false while the watch is broken, true again after the relist', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const w = new PodWatcher({ client, nodeName: 'node-a', clock, logger: pino({ level: 'silent' }), backoff: { baseMs: 100, capMs: 100, random: () => 0.5 } });
    expect(w.live).toBe(false);
    w.start();
    await clock.advance(0);
    expect(w.live).toBe(true);
    client.setDown(true);
    await clock.advance(0);
    expect(w.live).toBe(false);
    expect(w.synced).toBe(true);
    await clock.advance(500);
    expect(w.live).toBe(false);
    client.setDown(false);
    await clock.advance(100);
    expect(w.live).toBe(true);
    await w.stop();
  });
});
