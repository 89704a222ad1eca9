// One KubeClient contract, three implementations: the in-memory fake, the agent's own client
// (src/k8s/http-kube-client.ts) and @kubernetes/client-node (test/support/client-node-kube-client.ts),
// the last two against the fake API server. Then, over the wire only: ours and client-node side
// by side (same requests on the wire, same answers and error codes), as the EC2 wire tests hold
// our Query client to the SDK.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { HttpKubeClient } from '../../../src/k8s/http-kube-client.ts';
import type { KubeClient, KubeLease, KubePod, NodeEvent, WatchEvent } from '../../../src/k8s/kube-client.ts';
import { kubeconfigTarget } from '../../../src/k8s/kubeconfig.ts';
import { ClientNodeKubeClient, loadKubeConfig } from '../../support/client-node-kube-client.ts';
import { FakeApiServer, type Obj, type RecordedRequest } from '../../support/fake-apiserver/server.ts';
import { waitFor } from '../../support/fake-apiserver/wait.ts';
import { nodeObj, podObj } from './helpers.ts';

interface Subject {
  client: KubeClient;
  addNode(name: string, providerId: string): void;
  addPod(namespace: string, name: string, nodeName: string): void;
  deletePod(namespace: string, name: string): void;
  addConfig(name: string, subnetId: string, zone: string): void;
  eventCount(name: string): number | undefined;
  annotations(namespace: string, name: string): Record<string, string>;
  down(): Promise<void> | void;
}

type Make = () => Promise<Subject>;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function fakeSubject(): Promise<Subject> {
  const f = new FakeKubeClient();
  return Promise.resolve({
    client: f,
    addNode: (name, providerId) => void f.putNode({ name, uid: `uid-${name}`, providerId, labels: {}, annotations: {}, taints: [], conditions: [] }),
    addPod: (namespace, name, nodeName) => void f.putPod({ namespace, name, uid: `uid-${name}`, nodeName, hostNetwork: false, phase: 'Running', annotations: {} }),
    deletePod: (namespace, name) => f.deletePod(namespace, name),
    addConfig: (name, subnetId, zone) => f.putConfig({ name, spec: { subnetId, securityGroupIds: ['sg-1'], zone } }),
    eventCount: (name) => f.events.get(name)?.count,
    annotations: (ns, name) => f.pods.get(`${ns}/${name}`)?.annotations ?? {},
    down: () => f.setDown(true),
  });
}

type ClientOf = (api: FakeApiServer) => KubeClient;
const ours: ClientOf = (api) => new HttpKubeClient(kubeconfigTarget(api.kubeconfig(), '/fake/kubeconfig'), { requestTimeoutMs: 2000 });
const clientNode: ClientOf = (api) => new ClientNodeKubeClient(loadKubeConfig({ kubeconfigYaml: api.kubeconfig() }), { requestTimeoutMs: 2000 });

async function serverSubject(make: ClientOf): Promise<Subject & { api: FakeApiServer }> {
  const api = new FakeApiServer();
  await api.start();
  cleanups.push(() => api.stop());
  return {
    api,
    client: make(api),
    addNode: (name, providerID) => void api.upsert('nodes', nodeObj(name, { providerID })),
    addPod: (ns, name, node) => void api.upsert('pods', podObj(ns, name, node)),
    deletePod: (ns, name) => api.remove('pods', name, ns),
    addConfig: (name, subnetId, zone) => void api.upsert('nodenetworkconfigs', { metadata: { name }, spec: { subnetId, securityGroupIds: ['sg-1'], zone } }, 'vpcnet.io'),
    eventCount: (name) => api.get('events', name, 'default')?.['count'] as number | undefined,
    annotations: (ns, name) => ((api.get('pods', name, ns)?.['metadata'] as Obj | undefined)?.['annotations'] ?? {}) as Record<string, string>,
    down: () => api.down(),
  };
}

const SUBJECTS: [string, Make][] = [
  ['fake', fakeSubject],
  ['ours (node:http)', () => serverSubject(ours)],
  ['@kubernetes/client-node', () => serverSubject(clientNode)],
];

const event = (count: number): NodeEvent => ({
  nodeName: 'node-a',
  nodeUid: 'uid-node-a',
  type: 'Warning',
  reason: 'SubnetFull',
  message: `subnet full (${count})`,
  count,
  firstTimestamp: '2026-01-01T00:00:00Z',
  lastTimestamp: `2026-01-01T00:0${count}:00Z`,
  name: 'node-a.subnetfull',
});

const lease = (holder: string, resourceVersion = ''): KubeLease => ({
  namespace: 'kube-system',
  name: 'vpcnet-sweep',
  resourceVersion,
  holderIdentity: holder,
  leaseDurationSeconds: 60,
  renewTime: '2026-01-01T00:00:00.000Z',
});

describe.each(SUBJECTS)('KubeClient contract: %s', (_name, make) => {
  it('reads a node and answers K8S_NOT_FOUND for a missing one', async () => {
    const s = await make();
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    const n = await s.client.getNode('node-a');
    expect(n).toMatchObject({ name: 'node-a', providerId: 'aws:///us-west-2a/i-0abc', taints: [] });
    expect(n.resourceVersion).not.toBe('');
    await expect(s.client.getNode('missing')).rejects.toMatchObject({ code: 'K8S_NOT_FOUND' });
  });

  it('replaces conditions and taints at the read resourceVersion; a stale one is K8S_CONFLICT', async () => {
    const s = await make();
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    const n = await s.client.getNode('node-a');
    const cond = { type: 'VpcnetReady', status: 'True' as const, reason: 'PoolReady', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const after = await s.client.replaceNodeConditions('node-a', n.resourceVersion, [cond]);
    expect(after.conditions).toEqual([cond]);
    await expect(s.client.replaceNodeConditions('node-a', n.resourceVersion, [])).rejects.toMatchObject({ code: 'K8S_CONFLICT' });
    const tainted = await s.client.replaceNodeTaints('node-a', after.resourceVersion, [{ key: 'vpcnet.io/not-ready', effect: 'NoSchedule' }]);
    expect(tainted.taints).toEqual([{ key: 'vpcnet.io/not-ready', effect: 'NoSchedule' }]);
    expect((await s.client.replaceNodeTaints('node-a', tainted.resourceVersion, [])).taints).toEqual([]);
  });

  it("lists this node's pods, then watches adds and deletes from the list's resourceVersion until stopped", async () => {
    const s = await make();
    s.addPod('default', 'a1', 'node-a');
    s.addPod('default', 'b1', 'node-b');
    const list = await s.client.listPods({ fieldSelector: 'spec.nodeName=node-a' });
    expect(list.items.map((p) => p.name)).toEqual(['a1']);
    expect(list.items[0]).toMatchObject({ namespace: 'default', nodeName: 'node-a', hostNetwork: false, phase: 'Running' });
    const seen: WatchEvent<KubePod>[] = [];
    const w = await s.client.watchPods({ fieldSelector: 'spec.nodeName=node-a', resourceVersion: list.resourceVersion, allowBookmarks: true, timeoutSeconds: 300 }, (e) => seen.push(e));
    s.addPod('default', 'a2', 'node-a');
    s.addPod('default', 'b2', 'node-b');
    s.deletePod('default', 'a1');
    await waitFor(() => seen.length >= 2, 'two events');
    expect(seen.map((e) => (e.type === 'ADDED' || e.type === 'DELETED' ? `${e.type} ${e.object.name}` : e.type))).toEqual(['ADDED a2', 'DELETED a1']);
    w.stop();
    await expect(w.done).resolves.toBeUndefined();
  });

  it('an outage breaks an open watch (done rejects K8S_UNAVAILABLE) and fails calls with K8S_UNAVAILABLE', async () => {
    const s = await make();
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    const list = await s.client.listPods({});
    const w = await s.client.watchPods({ resourceVersion: list.resourceVersion }, () => undefined);
    await s.down();
    await expect(w.done).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
    await expect(s.client.getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
  });

  it('merge-patches node annotations (null removes a key)', async () => {
    const s = await make();
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    await s.client.patchNodeAnnotations('node-a', { 'vpcnet.io/max-pods': '110', other: 'x' });
    await s.client.patchNodeAnnotations('node-a', { other: null });
    expect((await s.client.getNode('node-a')).annotations).toEqual({ 'vpcnet.io/max-pods': '110' });
    await expect(s.client.patchNodeAnnotations('gone', { a: 'b' })).rejects.toMatchObject({ code: 'K8S_NOT_FOUND' });
  });

  it('merge-patches pod annotations (null removes a key)', async () => {
    const s = await make();
    s.addPod('default', 'a1', 'node-a');
    await s.client.patchPodAnnotations('default', 'a1', { 'vpcnet.io/pod-ip': '10.0.1.5', other: 'x' });
    await s.client.patchPodAnnotations('default', 'a1', { other: null });
    expect(s.annotations('default', 'a1')).toEqual({ 'vpcnet.io/pod-ip': '10.0.1.5' });
    await expect(s.client.patchPodAnnotations('default', 'gone', { a: 'b' })).rejects.toMatchObject({ code: 'K8S_NOT_FOUND' });
  });

  it('records a node event and bumps the same one on a repeat', async () => {
    const s = await make();
    await s.client.recordNodeEvent(event(1));
    await s.client.recordNodeEvent(event(2));
    expect(s.eventCount('node-a.subnetfull')).toBe(2);
  });

  it('lists and watches NodeNetworkConfigs', async () => {
    const s = await make();
    s.addConfig('zone-a', 'subnet-a', 'us-west-2a');
    const list = await s.client.listNetworkConfigs();
    expect(list.items).toEqual([expect.objectContaining({ name: 'zone-a', spec: { subnetId: 'subnet-a', securityGroupIds: ['sg-1'], zone: 'us-west-2a' } })]);
    const seen: string[] = [];
    const w = await s.client.watchNetworkConfigs({ resourceVersion: list.resourceVersion }, (e) => {
      if (e.type === 'ADDED' || e.type === 'MODIFIED') seen.push(`${e.type} ${e.object.name} ${e.object.spec.subnetId}`);
    });
    s.addConfig('zone-b', 'subnet-b', 'us-west-2b');
    await waitFor(() => seen.length >= 1, 'config event');
    expect(seen).toEqual(['ADDED zone-b subnet-b']);
    w.stop();
    await w.done;
  });

  it('Leases: missing is undefined, create once (then K8S_CONFLICT), replace only at the current resourceVersion', async () => {
    const s = await make();
    expect(await s.client.getLease('kube-system', 'vpcnet-sweep')).toBeUndefined();
    const created = await s.client.createLease(lease('node-a'));
    expect(created).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 60 });
    expect(Date.parse(created.renewTime)).toBe(Date.parse('2026-01-01T00:00:00Z'));
    await expect(s.client.createLease(lease('node-b'))).rejects.toMatchObject({ code: 'K8S_CONFLICT' });
    const taken = await s.client.replaceLease({ ...lease('node-b', created.resourceVersion), renewTime: '2026-01-01T00:01:00.000Z' });
    expect(taken.holderIdentity).toBe('node-b');
    await expect(s.client.replaceLease(lease('node-c', created.resourceVersion))).rejects.toMatchObject({ code: 'K8S_CONFLICT' });
    expect(await s.client.getLease('kube-system', 'vpcnet-sweep')).toMatchObject({ holderIdentity: 'node-b', resourceVersion: taken.resourceVersion });
  });
});

/** The two clients' requests with times compared as instants (Date vs string serialisations differ). */
function wire(reqs: RecordedRequest[]): unknown[] {
  const norm = (v: unknown): unknown => {
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v)) return Date.parse(v);
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'apiVersion' && k !== 'kind').map(([k, x]) => [k, norm(x)]));
    return v;
  };
  return reqs.map((r) => norm({ method: r.method, path: r.path, query: r.query, contentType: r.contentType ?? '', body: r.body }));
}

describe.each([
  ['ours (node:http)', ours],
  ['@kubernetes/client-node', clientNode],
])('over the wire: %s', (_name, make) => {
  it('bookmarks carry the resourceVersion; an expired one is an in-band ERROR 410', async () => {
    const s = await serverSubject(make);
    const list = await s.client.listPods({});
    const seen: WatchEvent<KubePod>[] = [];
    const w = await s.client.watchPods({ resourceVersion: list.resourceVersion, allowBookmarks: true }, (e) => seen.push(e));
    s.addPod('default', 'a1', 'node-a');
    await waitFor(() => seen.length === 1, 'added');
    s.api.sendBookmarks();
    await waitFor(() => seen.length === 2, 'bookmark');
    expect(seen[1]).toEqual({ type: 'BOOKMARK', resourceVersion: String(s.api.resourceVersion) });
    w.stop();
    await w.done;
    s.addPod('default', 'a2', 'node-a');
    s.api.compact();
    const errors: WatchEvent<KubePod>[] = [];
    const old = await s.client.watchPods({ resourceVersion: list.resourceVersion }, (e) => errors.push(e));
    await waitFor(() => errors.length === 1, 'in-band error');
    expect(errors[0]).toMatchObject({ type: 'ERROR', code: 410 });
    old.stop();
    await old.done.catch(() => undefined);
  });

  it.each([
    [403, 'K8S_FORBIDDEN'],
    [404, 'K8S_NOT_FOUND'],
    [409, 'K8S_CONFLICT'],
    [422, 'K8S_INVALID'],
    [429, 'K8S_UNAVAILABLE'],
    [503, 'K8S_UNAVAILABLE'],
  ])('HTTP %i is %s, for calls and for a watch that cannot start', async (status, code) => {
    const s = await serverSubject(make);
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    s.api.failNext('/api/v1/nodes/node-a', status);
    await expect(s.client.getNode('node-a')).rejects.toMatchObject({ code, details: expect.objectContaining({ status }) });
    s.api.failNext('/api/v1/pods', status, 1, 'GET');
    const w = await s.client.watchPods({ resourceVersion: '1' }, () => undefined);
    await expect(w.done).rejects.toMatchObject({ code });
  });

  it('a hung server fails the call at the deadline (K8S_UNAVAILABLE)', async () => {
    const s = await serverSubject(make);
    s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
    s.api.stall(true);
    await expect(s.client.getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
  });
});

describe('side by side', () => {
  it('ours sends what @kubernetes/client-node sends, call for call', async () => {
    const run = async (make: ClientOf): Promise<unknown[]> => {
      const s = await serverSubject(make);
      s.addNode('node-a', 'aws:///us-west-2a/i-0abc');
      s.addPod('default', 'a1', 'node-a');
      const c = s.client;
      const n = await c.getNode('node-a');
      const cond = { type: 'VpcnetReady', status: 'False' as const, reason: 'PoolStarting', message: 'filling', lastTransitionTime: '2026-01-01T00:00:00Z' };
      const n2 = await c.replaceNodeConditions('node-a', n.resourceVersion, [cond]);
      await c.replaceNodeTaints('node-a', n2.resourceVersion, []);
      const pods = await c.listPods({ fieldSelector: 'spec.nodeName=node-a', labelSelector: 'app=a1' });
      const w = await c.watchPods({ fieldSelector: 'spec.nodeName=node-a', resourceVersion: pods.resourceVersion, allowBookmarks: true, timeoutSeconds: 290 }, () => undefined);
      w.stop();
      await w.done;
      await c.patchPodAnnotations('default', 'a1', { 'vpcnet.io/pod-ip': '10.0.1.5', gone: null });
      await c.patchNodeAnnotations('node-a', { 'vpcnet.io/max-pods': '110' });
      await c.recordNodeEvent(event(1));
      await c.recordNodeEvent(event(2));
      const configs = await c.listNetworkConfigs();
      const cw = await c.watchNetworkConfigs({ resourceVersion: configs.resourceVersion }, () => undefined);
      cw.stop();
      await cw.done;
      await c.getLease('kube-system', 'vpcnet-sweep');
      const l = await c.createLease(lease('node-a'));
      await c.replaceLease({ ...lease('node-a', l.resourceVersion), renewTime: '2026-01-01T00:00:10.000Z' });
      // Resource versions are the server's own counter: equal on both runs.
      return wire(s.api.requests);
    };
    const a = await run(ours);
    const b = await run(clientNode);
    expect(a.length).toBe(15);
    expect(a).toEqual(b);
  });
});

describe('ours: kept-alive connections', () => {
  it('a request on a reused connection the server had closed is sent again once, on a new one', async () => {
    const { createServer } = await import('node:http');
    const perSocket = new WeakMap<object, number>();
    let answered = 0;
    const srv = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // The second request on a connection: the server has "closed it while idle".
      if (n === 2) return void req.socket.destroy();
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(nodeObj('node-a')));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as { port: number }).port;
    const kc = JSON.stringify({
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'u', user: { token: 't' } }],
    });
    const c = new HttpKubeClient(kubeconfigTarget(kc, '/fake/kubeconfig'), { requestTimeoutMs: 2000 });
    await c.getNode('node-a');
    await expect(c.getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(answered).toBe(2);
  });
});
