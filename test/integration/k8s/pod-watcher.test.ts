// The pod watcher through the agent's Kubernetes client against the fake API server.
import { afterEach, describe, expect, it } from '@jest/globals';
import { systemClock } from '../../../src/util/clock.ts';
import { allocationsOfGonePods, PodWatcher } from '../../../src/k8s/pod-watcher.ts';
import type { FakeApiServer } from '../../support/fake-apiserver/server.ts';
import { waitFor } from '../../support/fake-apiserver/wait.ts';
import type { HttpKubeClient, HttpKubeClientOptions } from '../../../src/k8s/http-kube-client.ts';
import { fastBackoff, podObj, silent, startApi } from './helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(clientOpts: HttpKubeClientOptions = {}): Promise<{ api: FakeApiServer; client: HttpKubeClient; watcher: PodWatcher }> {
  const { api, client } = await startApi({}, clientOpts);
  cleanups.push(() => api.stop());
  const watcher = new PodWatcher({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff });
  cleanups.push(() => watcher.stop());
  return { api, client, watcher };
}

const serverKeys = (api: FakeApiServer, node: string): string[] =>
  api
    .list('pods')
    .filter((p) => (p['spec'] as { nodeName?: string }).nodeName === node)
    .map((p) => {
      const m = p['metadata'] as { namespace: string; name: string; uid: string };
      return `${m.namespace}/${m.name}/${m.uid}`;
    })
    .sort();

describe('pod watcher (the agent client, fake API server)', () => {
  it('lists then watches only this node pods, with adds and deletes', async () => {
    const { api, watcher } = await setup();
    api.upsert('pods', podObj('default', 'a1', 'node-a'));
    api.upsert('pods', podObj('kube-system', 'a2', 'node-a'));
    api.upsert('pods', podObj('default', 'b1', 'node-b'));
    expect(watcher.synced).toBe(false);
    watcher.start();
    await waitFor(() => watcher.synced, 'first list');
    expect([...watcher.livePods().keys()].sort()).toEqual(['default/a1', 'kube-system/a2']);
    await waitFor(() => api.openWatches === 1, 'watch open');
    const watchReq = api.requests.find((r) => r.query['watch'] === 'true');
    expect(watchReq?.query['fieldSelector']).toBe('spec.nodeName=node-a');
    expect(watchReq?.query['allowWatchBookmarks']).toBe('true');

    api.upsert('pods', podObj('default', 'a3', 'node-a'));
    api.remove('pods', 'a1', 'default');
    api.upsert('pods', podObj('default', 'b2', 'node-b'));
    await waitFor(() => watcher.livePods().has('default/a3') && !watcher.livePods().has('default/a1'), 'watch events');
    expect([...watcher.livePodKeys()].sort()).toEqual(serverKeys(api, 'node-a'));
    expect(watcher.lists).toBe(1);
  });

  it('bookmarks keep the resourceVersion fresh so a reconnect needs no relist', async () => {
    const { api, watcher } = await setup();
    api.upsert('pods', podObj('default', 'a1', 'node-a'));
    watcher.start();
    await waitFor(() => api.openWatches === 1, 'watch open');
    for (let i = 0; i < 5; i++) api.upsert('pods', podObj('default', `b${i}`, 'node-b')); // not ours
    api.sendBookmarks();
    await waitFor(() => watcher.resourceVersion === String(api.resourceVersion), 'bookmark applied');
    api.compact(); // history before now is gone
    api.closeWatches(); // the server's watch timeout
    await waitFor(() => api.requests.filter((r) => r.query['watch'] === 'true').length === 2, 'rewatch');
    await waitFor(() => api.openWatches === 1, 'rewatch open');
    api.upsert('pods', podObj('default', 'a2', 'node-a'));
    await waitFor(() => watcher.livePods().has('default/a2'), 'event after rewatch');
    expect(watcher.lists).toBe(1);
  });

  it('relists on 410 Gone without losing or inventing pods', async () => {
    const { api, watcher } = await setup();
    api.upsert('pods', podObj('default', 'keep', 'node-a'));
    api.upsert('pods', podObj('default', 'deleted-in-gap', 'node-a'));
    watcher.start();
    await waitFor(() => api.openWatches === 1, 'watch open');
    api.holdWatches();
    api.closeWatches();
    await waitFor(() => api.parkedWatches === 1, 'rewatch parked');
    api.remove('pods', 'deleted-in-gap', 'default');
    api.upsert('pods', podObj('default', 'added-in-gap', 'node-a'));
    api.compact();
    api.releaseWatches(); // the parked watch asks for a compacted resourceVersion: 410
    await waitFor(() => watcher.lists === 2, 'relist');
    expect([...watcher.livePods().keys()].sort()).toEqual(['default/added-in-gap', 'default/keep']);
    expect([...watcher.livePodKeys()].sort()).toEqual(serverKeys(api, 'node-a'));
  });

  it('survives an API server outage: keeps its view, fails calls fast, resyncs when back', async () => {
    const { api, client, watcher } = await setup();
    api.upsert('pods', podObj('default', 'p1', 'node-a'));
    api.upsert('pods', podObj('default', 'p2', 'node-a'));
    watcher.start();
    await waitFor(() => api.openWatches === 1, 'watch open');
    await api.down();
    await expect(client.getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
    // The view is stale but still a view: nothing is released because the server is away.
    expect(watcher.synced).toBe(true);
    expect(watcher.isLive({ podNamespace: 'default', podName: 'p1' })).toBe(true);
    api.remove('pods', 'p1', 'default');
    api.upsert('pods', podObj('default', 'p3', 'node-a'));
    await api.up();
    await waitFor(() => watcher.lists >= 2 && watcher.livePods().has('default/p3'), 'resync after outage');
    expect([...watcher.livePodKeys()].sort()).toEqual(serverKeys(api, 'node-a'));
  });

  it('after a restart, the first list reveals pods deleted while the agent was down', async () => {
    const { api, client } = await setup();
    const gone = api.upsert('pods', podObj('default', 'gone', 'node-a'));
    const stays = api.upsert('pods', podObj('default', 'stays', 'node-a'));
    const uid = (o: typeof gone): string => (o['metadata'] as { uid: string }).uid;
    const allocations = [
      { ip: '10.0.1.10', podNamespace: 'default', podName: 'gone', podUid: uid(gone), allocatedAt: 0 },
      { ip: '10.0.1.11', podNamespace: 'default', podName: 'stays', podUid: uid(stays), allocatedAt: 0 },
      // Same name, new incarnation: the old uid's address must go.
      { ip: '10.0.1.12', podNamespace: 'default', podName: 'stays', podUid: 'old-uid', allocatedAt: 0 },
    ];
    api.remove('pods', 'gone', 'default'); // while the agent is down
    const restarted = new PodWatcher({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff });
    cleanups.push(() => restarted.stop());
    const now = 10 * 60_000;
    expect(allocationsOfGonePods(allocations, restarted, now)).toEqual([]); // never before the first list
    restarted.start();
    await waitFor(() => restarted.synced, 'first list after restart');
    expect(allocationsOfGonePods(allocations, restarted, now).map((a) => a.ip)).toEqual(['10.0.1.10', '10.0.1.12']);
  });
});

describe('quiet watches', () => {
  it('a watch the client drops for silence resumes from its resourceVersion without a relist', async () => {
    // The client's 30 s inactivity limit, shortened so the test need not wait for it.
    const { api, watcher } = await setup({ watchIdleMs: 100 });
    api.upsert('pods', podObj('default', 'a1', 'node-a'));
    watcher.start();
    await waitFor(() => api.requests.filter((r) => r.query['watch'] === 'true').length >= 3, 'several silent watches');
    api.upsert('pods', podObj('default', 'a2', 'node-a'));
    await waitFor(() => watcher.livePods().has('default/a2'), 'event after quiet period');
    expect(watcher.lists).toBe(1);
  });
});
