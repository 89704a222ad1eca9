// The shipped ClusterRole is enough for everything the agent does, and nothing more: the
// fake API server enforces deploy/base/rbac.yaml while the real client runs the agent's
// Kubernetes services through a node's life.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { systemClock } from '../../../src/util/clock.ts';
import { KubeServices } from '../../../src/k8s/kube-services.ts';
import { NOT_READY_TAINT_KEY } from '../../../src/k8s/readiness.ts';
import type { RequestAttributes } from '../../support/fake-apiserver/server.ts';
import { waitFor } from '../../support/fake-apiserver/wait.ts';
import { fastBackoff, nodeObj, podObj, silent, startApi } from './helpers.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const root = join(import.meta.dirname, '..', '..', '..');
const docs = yaml.loadAll(readFileSync(join(root, 'deploy/base/rbac.yaml'), 'utf8')) as { kind: string; rules?: Rule[] }[];
const rules = docs.find((d) => d.kind === 'ClusterRole')?.rules ?? [];

function allowedByRole(a: RequestAttributes): boolean {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return rules.some((r) => r.apiGroups.includes(a.apiGroup) && r.resources.includes(resource) && r.verbs.includes(a.verb));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('RBAC against the agent', () => {
  it('the shipped ClusterRole allows every call the agent makes', async () => {
    const { api, client } = await startApi({ authorize: allowedByRole });
    cleanups.push(() => api.stop());
    api.upsert(
      'nodes',
      nodeObj('node-a', {
        providerID: 'aws:///us-west-2a/i-0abc123def4567890',
        labels: { 'topology.kubernetes.io/zone': 'us-west-2a' },
        taints: [{ key: NOT_READY_TAINT_KEY, effect: 'NoSchedule' }],
      }),
    );
    api.upsert('nodenetworkconfigs', { metadata: { name: 'a' }, spec: { subnetId: 'subnet-0a1b2c3d', zone: 'us-west-2a' } }, 'vpcnet.io');
    api.upsert('pods', podObj('default', 'web', 'node-a'));
    const k = new KubeServices({ client, nodeName: 'node-a', clock: systemClock, logger: silent, backoff: fastBackoff, annotatePodIps: true });
    cleanups.push(() => k.stop());
    k.start();
    const id = await k.identity();
    expect(id.instanceId).toBe('i-0abc123def4567890');
    await waitFor(() => k.pods.synced && k.networkConfig.current() !== undefined, 'watchers synced');
    k.readiness.set(true, 'PoolReady', 'ok');
    await k.readiness.idle();
    k.warn('SUBNET_FULL', 'subnet-0a1b2c3d is full');
    await waitFor(() => api.list('events').length === 1, 'event recorded');
    expect(api.denied).toEqual([]);
    expect((api.get('nodes', 'node-a')?.['spec'] as { taints?: unknown[] }).taints).toBeUndefined();

    // Pod annotation is off in the shipped role: the server refuses it, the agent shrugs.
    k.annotator?.annotate('default', 'web', '10.0.1.5');
    await k.annotator?.idle();
    expect(api.denied).toEqual([{ verb: 'patch', apiGroup: '', resource: 'pods', namespace: 'default', name: 'web' }]);
  });
});
