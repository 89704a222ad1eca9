// Renders each overlay with `kubectl kustomize` and checks every object against the API
// models shipped in @kubernetes/client-node, plus the promises docs/kubernetes.md makes:
// no RBAC wildcards, exactly the documented capabilities, the host mounts, the CRD schema.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
// Raw YAML on purpose: the client's loadYaml maps objects onto its models and drops unknown fields.
import yaml from 'js-yaml';
import { validateObject } from '../../unit/k8s/support/model-validate.ts';
import { validateAgainst, type Schema } from '../../unit/k8s/support/openapi-validate.ts';

const root = join(import.meta.dirname, '..', '..', '..');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function render(dir: string): Obj[] {
  const res = spawnSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' });
  if (res.error) {
    throw new Error(`kubectl is needed to render deploy/ (kustomize v4+, kubectl >= 1.21): ${res.error.message}`);
  }
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${res.stderr}`);
  return yaml.loadAll(res.stdout) as Obj[];
}

const CLOUDS = ['aws', 'azure', 'gcp'] as const;
const AGENT_CAPS = ['NET_ADMIN', 'SYS_ADMIN'];
const RBAC = {
  'nodes': ['get', 'patch'],
  'nodes/status': ['patch'],
  'pods': ['list', 'watch'],
  'events': ['create', 'patch'],
  'vpcnet.io/nodenetworkconfigs': ['list', 'watch'],
  'coordination.k8s.io/leases': ['create', 'get', 'update'],
};

describe.each(CLOUDS)('deploy/overlays/%s', (cloud) => {
  const objects = render(`deploy/overlays/${cloud}`);
  const find = (kind: string): Obj => {
    const o = objects.find((x) => x['kind'] === kind);
    if (!o) throw new Error(`no ${kind} rendered`);
    return o;
  };

  it('renders the expected objects and each one is valid against the Kubernetes API model', () => {
    expect(objects.map((o) => o['kind']).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'DaemonSet', 'ServiceAccount'].sort(),
    );
    for (const o of objects) expect({ kind: o['kind'], errors: validateObject(o) }).toEqual({ kind: o['kind'], errors: [] });
  });

  it('configures the provider', () => {
    expect(find('ConfigMap')['data']['VPCNET_PROVIDER']).toBe(cloud);
    const sa = find('ServiceAccount');
    if (cloud === 'aws') expect(sa['metadata']['annotations']['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\//);
    if (cloud === 'azure') expect(sa['metadata']['annotations']['azure.workload.identity/client-id']).toBeDefined();
  });

  it('grants exactly the documented RBAC, with no wildcards', () => {
    const role = find('ClusterRole');
    const granted: Record<string, string[]> = {};
    for (const rule of role['rules'] as Obj[]) {
      for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field]).not.toContain('*');
      expect(rule['resourceNames']).toBeUndefined();
      for (const group of rule['apiGroups'] as string[]) {
        for (const res of rule['resources'] as string[]) {
          const key = group ? `${group}/${res}` : res;
          granted[key] = [...(granted[key] ?? []), ...(rule['verbs'] as string[])].sort();
        }
      }
    }
    expect(granted).toEqual(RBAC);
    const binding = find('ClusterRoleBinding');
    expect(binding['roleRef']['name']).toBe(role['metadata']['name']);
    expect(binding['subjects']).toEqual([
      { kind: 'ServiceAccount', name: find('ServiceAccount')['metadata']['name'], namespace: 'kube-system' },
    ]);
  });

  it('runs the agent unprivileged with exactly the documented capabilities and host mounts', () => {
    const ds = find('DaemonSet');
    const pod = ds['spec']['template']['spec'];
    expect(pod['hostNetwork']).toBe(true);
    expect(pod['dnsPolicy']).toBe('Default'); // cluster DNS needs pod networking: no chicken and egg
    expect(pod['priorityClassName']).toBe('system-node-critical');
    expect(pod['tolerations']).toContainEqual({ operator: 'Exists' });
    expect(pod['serviceAccountName']).toBe(find('ServiceAccount')['metadata']['name']);
    const [agent] = pod['containers'] as Obj[];
    const sc = agent?.['securityContext'];
    expect(sc['privileged']).toBe(false);
    expect(sc['allowPrivilegeEscalation']).toBe(false);
    expect(sc['capabilities']['drop']).toEqual(['ALL']);
    expect([...sc['capabilities']['add']].sort()).toEqual(AGENT_CAPS);
    for (const init of pod['initContainers'] as Obj[]) expect(init['securityContext']['capabilities']['add']).toBeUndefined();

    const volumes = new Map((pod['volumes'] as Obj[]).map((v) => [v['name'], v['hostPath']?.['path']]));
    const mounts = new Map((agent?.['volumeMounts'] as Obj[]).map((m) => [volumes.get(m['name']), m]));
    for (const p of ['/opt/cni/bin', '/etc/cni/net.d', '/var/run/netns', '/run/vpcnet', '/var/lib/vpcnet']) {
      expect(mounts.get(p)?.['mountPath']).toBe(p);
    }
    expect(mounts.get('/var/run/netns')?.['mountPropagation']).toBe('HostToContainer');
    expect(agent?.['readinessProbe']['httpGet']).toMatchObject({ host: '127.0.0.1', path: '/readyz' });
    expect(agent?.['livenessProbe']['httpGet']).toMatchObject({ host: '127.0.0.1', path: '/healthz' });
    expect(agent?.['envFrom']).toEqual([{ configMapRef: { name: find('ConfigMap')['metadata']['name'] } }]);
    expect(agent?.['env']).toContainEqual({ name: 'VPCNET_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  });
});

describe('NodeNetworkConfig CRD schema', () => {
  const crd = yaml.load(readFileSync(join(root, 'deploy/crd/nodenetworkconfigs.vpcnet.io.yaml'), 'utf8')) as Obj;
  const schema = crd['spec']['versions'][0]['schema']['openAPIV3Schema'] as Schema;
  const valid = { apiVersion: 'vpcnet.io/v1alpha1', kind: 'NodeNetworkConfig', metadata: { name: 'x' } };

  it('accepts the shipped examples and the three clouds subnet forms', () => {
    const dir = join(root, 'deploy/crd/examples');
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(validateAgainst(schema, yaml.load(readFileSync(join(dir, f), 'utf8')))).toEqual([]);
    for (const subnetId of [
      'subnet-0a1b2c3d',
      '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pods',
      'projects/p-1/regions/us-central1/subnetworks/pods',
      'pods-subnet',
    ]) {
      expect(validateAgainst(schema, { ...valid, spec: { subnetId } })).toEqual([]);
    }
  });

  it.each([
    ['missing spec', {}],
    ['missing subnet', { spec: { zone: 'us-west-2a' } }],
    ['malformed subnet', { spec: { subnetId: 'subnet-XYZ' } }],
    ['unknown field', { spec: { subnetId: 'subnet-0a1b2c3d', subnet: 'typo' } }],
    ['security groups not a list', { spec: { subnetId: 'subnet-0a1b2c3d', securityGroupIds: 'sg-1' } }],
    ['duplicate security groups', { spec: { subnetId: 'subnet-0a1b2c3d', securityGroupIds: ['sg-1', 'sg-1'] } }],
    ['bad zone', { spec: { subnetId: 'subnet-0a1b2c3d', zone: 'US West' } }],
  ])('rejects %s', (_name, extra) => {
    expect(validateAgainst(schema, { ...valid, ...extra }).length).toBeGreaterThan(0);
  });

  it('is itself a valid CustomResourceDefinition', () => {
    expect(validateObject(crd)).toEqual([]);
  });
});

describe('cloud permission policies', () => {
  it('AWS: no wildcard actions; tagging and destructive actions are conditioned', () => {
    const policy = JSON.parse(readFileSync(join(root, 'deploy/iam/aws-iam-policy.json'), 'utf8')) as { Statement: Obj[] };
    const actionsOf = (s: Obj): string[] => [s['Action']].flat();
    for (const s of policy.Statement) {
      expect(s['Effect']).toBe('Allow');
      for (const a of actionsOf(s)) expect(a).toMatch(/^ec2:[A-Z][A-Za-z]+$/);
      const mutating = actionsOf(s).some((a) => !a.startsWith('ec2:Describe'));
      if (mutating) expect(s['Condition']).toBeDefined();
      else expect(s['Resource']).toBe('*');
    }
    const tagging = policy.Statement.filter((s) => actionsOf(s).includes('ec2:CreateTags'));
    expect(tagging.some((s) => s['Condition']['StringEquals']?.['ec2:CreateAction'] === 'CreateNetworkInterface')).toBe(true);
    for (const s of tagging) {
      const c = s['Condition'];
      expect(c['StringEquals']['ec2:CreateAction'] === 'CreateNetworkInterface' || c['ForAllValues:StringEquals']?.['aws:TagKeys']).toBeTruthy();
    }
    for (const action of ['ec2:DeleteNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute']) {
      const onNics = policy.Statement.filter((s) => actionsOf(s).includes(action) && String(s['Resource']).includes('network-interface'));
      expect(onNics.length).toBe(1);
      expect(onNics[0]?.['Condition']['StringEquals']['aws:ResourceTag/vpcnet.io/cluster-name']).toBe('CLUSTER_NAME');
    }
  });

  it('Azure and GCP roles list explicit permissions only', () => {
    // Both Azure variants: explicit actions only (test/contract/azure-faults.test.ts runs the agent's calls under each).
    for (const file of ['deploy/iam/azure-role.json', 'deploy/iam/azure-role-vmss.json']) {
      const azure = JSON.parse(readFileSync(join(root, file), 'utf8')) as Obj;
      expect(azure['Actions']).toContain('Microsoft.Network/virtualNetworks/subnets/join/action');
      for (const a of azure['Actions'] as string[]) expect(a).not.toContain('*');
    }
    const gcp = yaml.load(readFileSync(join(root, 'deploy/iam/gcp-role.yaml'), 'utf8')) as Obj;
    expect(gcp['includedPermissions']).toContain('compute.instances.updateNetworkInterface');
    for (const p of gcp['includedPermissions'] as string[]) expect(p).toMatch(/^compute\.[a-zA-Z]+\.[a-zA-Z]+$/);
  });
});
