// Node identity, readiness (condition + taint, 409 retry), events, pod annotation and the
// NodeNetworkConfig watcher, through the agent's client against the fake API server.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock, systemClock } from '../../../src/util/clock.ts';
import { getNodeIdentity } from '../../../src/k8s/node-identity.ts';
import { NodeReadiness, NOT_READY_TAINT_KEY, READY_CONDITION } from '../../../src/k8s/readiness.ts';
import { NodeEventRecorder } from '../../../src/k8s/node-events.ts';
import { PodAddressAnnotator, POD_IP_ANNOTATION } from '../../../src/k8s/pod-annotator.ts';
import { NetworkConfigWatcher, type EffectiveNetworkConfig } from '../../../src/k8s/network-config.ts';
import type { FakeApiServer, Obj } from '../../support/fake-apiserver/server.ts';
import type { HttpKubeClient } from '../../../src/k8s/http-kube-client.ts';
import { waitFor } from '../../support/fake-apiserver/wait.ts';
import { fastBackoff, nodeObj, podObj, silent, startApi } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ api: FakeApiServer; client: HttpKubeClient }> {
  const r = await startApi();
  cleanups.push(() => r.api.stop());
  return r;
}

const conditionsOf = (n: Obj | undefined): { type: string; status: string; reason: string }[] =>
  ((n?.['status'] as { conditions?: [] } | undefined)?.conditions ?? []) as { type: string; status: string; reason: string }[];
const taintsOf = (n: Obj | undefined): { key: string }[] => ((n?.['spec'] as { taints?: [] } | undefined)?.taints ?? []) as { key: string }[];

describe('node identity', () => {
  it('reads instance id and zone from the node providerID', async () => {
    const { api, client } = await setup();
    api.upsert('nodes', nodeObj('ip-10-0-1-5.ec2.internal', { providerID: 'aws:///us-west-2a/i-0abc123def4567890' }));
    const id = await getNodeIdentity(client, 'ip-10-0-1-5.ec2.internal');
    expect(id).toMatchObject({ cloud: 'aws', instanceId: 'i-0abc123def4567890', zone: 'us-west-2a' });
    await expect(getNodeIdentity(client, 'missing')).rejects.toMatchObject({ code: 'K8S_NOT_FOUND' });
  });
});

describe('unreachable API server', () => {
  it('a hung server fails a call at the client deadline instead of holding it', async () => {
    const { api, client } = await setup();
    api.upsert('nodes', nodeObj('node-a'));
    api.stall(true);
    // The client was built with a 2 s deadline; without it this would wait for jest's timeout.
    await expect(client.getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
    api.stall(false);
    await expect(client.getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
  });
});

describe('node readiness', () => {
  it('sets VpcnetReady, keeps other conditions, removes only our taint', async () => {
    const { api, client } = await setup();
    api.upsert(
      'nodes',
      nodeObj('node-a', {
        taints: [
          { key: NOT_READY_TAINT_KEY, effect: 'NoSchedule' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        ],
      }),
    );
    const readiness = new NodeReadiness({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff });
    cleanups.push(() => readiness.stop());
    readiness.set(false, 'PoolFilling', 'warm pool not yet filled');
    await readiness.idle();
    let node = api.get('nodes', 'node-a');
    expect(conditionsOf(node).map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', `${READY_CONDITION}=False`]);
    expect(taintsOf(node).map((t) => t.key)).toEqual([NOT_READY_TAINT_KEY, 'dedicated']);

    readiness.set(true, 'PoolReady', 'warm pool can serve pods');
    await readiness.idle();
    node = api.get('nodes', 'node-a');
    expect(conditionsOf(node).find((c) => c.type === READY_CONDITION)?.status).toBe('True');
    expect(taintsOf(node).map((t) => t.key)).toEqual(['dedicated']);
    const statusPatch = api.requests.find((r) => r.path === '/api/v1/nodes/node-a/status' && r.method === 'PATCH');
    expect(statusPatch?.contentType).toContain('application/merge-patch+json');
  });

  it('retries after 409 Conflict and after the server was down', async () => {
    const { api, client } = await setup();
    api.upsert('nodes', nodeObj('node-a'));
    api.failNext('/api/v1/nodes/node-a/status', 409, 2, 'PATCH');
    const readiness = new NodeReadiness({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff });
    cleanups.push(() => readiness.stop());
    readiness.set(true, 'PoolReady', 'ok');
    await readiness.idle();
    expect(conditionsOf(api.get('nodes', 'node-a')).find((c) => c.type === READY_CONDITION)?.status).toBe('True');
    expect(api.requests.filter((r) => r.path.endsWith('/status')).length).toBe(3);

    await api.down();
    readiness.set(false, 'SubnetFull', 'subnet subnet-1 has no free addresses');
    await api.up();
    await readiness.idle();
    expect(conditionsOf(api.get('nodes', 'node-a')).find((c) => c.type === READY_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'SubnetFull',
    });
  });

  it('a write with a stale resourceVersion is a K8S_CONFLICT', async () => {
    const { api, client } = await setup();
    api.upsert('nodes', nodeObj('node-a'));
    const stale = await client.getNode('node-a');
    api.upsert('nodes', nodeObj('node-a', { labels: { changed: 'yes' } }));
    await expect(client.replaceNodeConditions('node-a', stale.resourceVersion, [])).rejects.toMatchObject({ code: 'K8S_CONFLICT' });
    await expect(client.replaceNodeTaints('node-a', stale.resourceVersion, [])).rejects.toMatchObject({ code: 'K8S_CONFLICT' });
  });
});

describe('node events', () => {
  it('records a Warning on the node, deduplicates repeats and bumps the count later', async () => {
    const { api, client } = await setup();
    const clock = new FakeClock();
    const events = new NodeEventRecorder({ client, nodeName: 'node-a', nodeUid: 'uid-a', clock, logger: silent, dedupWindowMs: 60_000 });
    for (let i = 0; i < 5; i++) events.warnForError('CLOUD_PERMISSION_DENIED', 'ec2:AssignPrivateIpAddresses denied');
    await events.flush();
    let stored = api.list('events');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      reason: 'CloudPermissionDenied',
      type: 'Warning',
      count: 1,
      involvedObject: { kind: 'Node', name: 'node-a' },
    });
    await clock.advance(61_000);
    events.warnForError('CLOUD_PERMISSION_DENIED', 'ec2:AssignPrivateIpAddresses denied');
    await events.flush();
    stored = api.list('events');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.['count']).toBe(6);
    expect(events.warnForError('INTERNAL', 'not for users')).toBe(false);
  });
});

describe('pod address annotation', () => {
  it('patches the annotation in the background and drops pods that are gone', async () => {
    const { api, client } = await setup();
    api.upsert('pods', podObj('default', 'web', 'node-a'));
    const annotator = new PodAddressAnnotator({ client, clock: systemClock, logger: silent, backoff: fastBackoff });
    cleanups.push(() => annotator.stop());
    api.failNext('/pods/web', 503, 1);
    annotator.annotate('default', 'web', '10.0.1.20');
    annotator.annotate('default', 'ghost', '10.0.1.21');
    await annotator.idle();
    const pod = api.get('pods', 'web', 'default');
    expect((pod?.['metadata'] as { annotations: Record<string, string> }).annotations[POD_IP_ANNOTATION]).toBe('10.0.1.20');
    expect(api.requests.filter((r) => r.path.endsWith('/pods/ghost')).length).toBe(1);
  });
});

describe('NodeNetworkConfig watcher', () => {
  const cfg = (name: string, spec: Obj): Obj => ({ metadata: { name }, spec });

  it('resolves by label, falls back to zone, and notifies on change', async () => {
    const { api, client } = await setup();
    api.upsert('nodenetworkconfigs', cfg('us-west-2a', { subnetId: 'subnet-aaa', securityGroupIds: ['sg-1'], zone: 'us-west-2a' }), 'vpcnet.io');
    const seen: EffectiveNetworkConfig[] = [];
    const watcher = new NetworkConfigWatcher({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff });
    cleanups.push(() => watcher.stop());
    watcher.onChange((c) => seen.push(c));
    watcher.start({ labels: { 'topology.kubernetes.io/zone': 'us-west-2a' }, annotations: {} });
    await waitFor(() => seen.length === 1, 'first resolution');
    expect(seen[0]).toMatchObject({ source: 'zone', name: 'us-west-2a', spec: { subnetId: 'subnet-aaa' } });

    await waitFor(() => api.openWatches === 1, 'watch open');
    api.upsert('nodenetworkconfigs', cfg('us-west-2a', { subnetId: 'subnet-bbb', securityGroupIds: ['sg-1'], zone: 'us-west-2a' }), 'vpcnet.io');
    await waitFor(() => seen.length === 2, 'change notified');
    expect(seen[1]).toMatchObject({ source: 'zone', spec: { subnetId: 'subnet-bbb' } });

    watcher.setNode({ labels: { 'topology.kubernetes.io/zone': 'us-west-2a', 'vpcnet.io/network-config': 'pods-big' }, annotations: {} });
    expect(watcher.current()).toEqual({ source: 'missing', name: 'pods-big' });
    api.upsert('nodenetworkconfigs', cfg('pods-big', { subnetId: 'subnet-ccc', securityGroupIds: ['sg-2', 'sg-3'] }), 'vpcnet.io');
    await waitFor(() => watcher.current()?.source === 'selected', 'selected config appears');
    expect(watcher.current()).toMatchObject({ name: 'pods-big', spec: { subnetId: 'subnet-ccc', securityGroupIds: ['sg-2', 'sg-3'] } });
  });
});
