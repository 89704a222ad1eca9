// The calls the Google SDKs (and gcloud) make by default, through the real @google-cloud/compute
// clients: aggregated lists of instances, subnetworks and operations, networks, zones, zone
// operations; the metadata server's instance/tags. A call the emulator does not model is an
// error the SDK surfaces (501 UNIMPLEMENTED), never an empty success.
import compute from '@google-cloud/compute';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUTH, PROJECT, startDefaultProject, type DefaultProject } from './default-project.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('GCE emulator: the SDKs’ default calls', () => {
  let p: DefaultProject;
  beforeAll(async () => {
    p = await startDefaultProject({ operationDelayMs: 0 });
  });
  afterAll(() => p.emu.stop());

  it('instances aggregatedList lists every instance under its zone, across pages', async () => {
    const client = new compute.InstancesClient(p.sdk);
    const scopes = await collect(client.aggregatedListAsync({ project: PROJECT, maxResults: 2 }));
    const found = scopes.flatMap(([scope, list]) => (list.instances ?? []).map((i) => `${scope}/${i.name ?? ''}`)).sort();
    expect(found).toEqual(['zones/us-central1-a/node-a', 'zones/us-central1-b/node-b', 'zones/us-central1-c/router-c']);
  });

  it('subnetworks aggregatedList, networks list/get, zones list/get', async () => {
    const subnets = await collect(new compute.SubnetworksClient(p.sdk).aggregatedListAsync({ project: PROJECT }));
    const named = subnets.flatMap(([scope, list]) => (list.subnetworks ?? []).map((s) => `${scope}/${s.name ?? ''} ${s.ipCidrRange ?? ''}`));
    expect(named).toEqual(['regions/us-central1/nodes 10.128.0.0/20']);

    const networks = new compute.NetworksClient(p.sdk);
    const [list] = await networks.list({ project: PROJECT });
    expect(list.map((n) => n.name)).toEqual(['vpc']);
    const [vpc] = await networks.get({ project: PROJECT, network: 'vpc' });
    expect(vpc.subnetworks).toEqual([expect.stringMatching(/\/regions\/us-central1\/subnetworks\/nodes$/)]);
    await expect(networks.get({ project: PROJECT, network: 'nope' })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND

    const zones = new compute.ZonesClient(p.sdk);
    const [zl] = await zones.list({ project: PROJECT });
    expect(zl.map((z) => z.name)).toEqual(expect.arrayContaining(['us-central1-a', 'us-central1-b', 'us-central1-c']));
    const [za] = await zones.get({ project: PROJECT, zone: 'us-central1-a' });
    expect(za.status).toBe('UP');
    expect(za.region).toMatch(/\/regions\/us-central1$/);
    await expect(zones.get({ project: PROJECT, zone: 'mars-north1-a' })).rejects.toMatchObject({ code: 5 });
  });

  it('zone operations list and the aggregated operations list show an update', async () => {
    const instances = new compute.InstancesClient(p.sdk);
    const [vm] = await instances.get({ project: PROJECT, zone: 'us-central1-b', instance: 'node-b' });
    const [lro] = await instances.updateNetworkInterface({
      project: PROJECT,
      zone: 'us-central1-b',
      instance: 'node-b',
      networkInterface: 'nic0',
      networkInterfaceResource: { fingerprint: vm.networkInterfaces![0]!.fingerprint!, aliasIpRanges: [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }] },
    });
    const name = (lro.latestResponse as { name: string }).name;
    const [ops] = await new compute.ZoneOperationsClient(p.sdk).list({ project: PROJECT, zone: 'us-central1-b' });
    expect(ops.map((o) => [o.name, o.operationType, o.status])).toEqual([[name, 'updateNetworkInterface', 'DONE']]);
    const all = await collect(new compute.GlobalOperationsClient(p.sdk).aggregatedListAsync({ project: PROJECT }));
    expect(all.flatMap(([scope, l]) => (l.operations ?? []).map((o) => `${scope} ${o.name ?? ''}`))).toEqual([`zones/us-central1-b ${name}`]);
  });

  it('a Compute call the emulator does not model is an error, not an empty list', async () => {
    await expect(new compute.FirewallsClient(p.sdk).list({ project: PROJECT })).rejects.toMatchObject({ code: 12 }); // UNIMPLEMENTED
    const res = await fetch(`${p.api}/global/firewalls`, { headers: AUTH });
    expect(res.status).toBe(501);
    expect(((await res.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason).toBe('notImplemented');
    expect((await fetch(`${p.endpoint}/compute/v1/nothing/here`, { headers: AUTH })).status).toBe(404);
  });

  it('the metadata server always serves instance/tags as a JSON array', async () => {
    const md = `${p.emu.metadataEndpoint('us-central1-a', 'node-a')}/computeMetadata/v1/instance`;
    const res = await fetch(`${md}/tags`, { headers: { 'Metadata-Flavor': 'Google' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    const tree = (await (await fetch(`${md}/?recursive=true`, { headers: { 'Metadata-Flavor': 'Google' } })).json()) as { tags: unknown };
    expect(tree.tags).toEqual([]);
    p.emu.state.createInstance({ name: 'tagged', zone: 'us-central1-a', machineType: 'e2-standard-4', subnet: 'nodes', tags: ['web', 'pods'] });
    const tagged = await fetch(`${p.emu.metadataEndpoint('us-central1-a', 'tagged')}/computeMetadata/v1/instance/tags?alt=text`, { headers: { 'Metadata-Flavor': 'Google' } });
    expect(await tagged.json()).toEqual(['web', 'pods']);
    const [vm] = await new compute.InstancesClient(p.sdk).get({ project: PROJECT, zone: 'us-central1-a', instance: 'tagged' });
    expect(vm.tags?.items).toEqual(['web', 'pods']);
  });

  it('the metadata paths gcloud and google-auth-library read on a VM', async () => {
    const md = `${p.emu.metadataEndpoint('us-central1-a', 'node-a')}/computeMetadata/v1`;
    const read = async (path: string): Promise<string> => {
      const res = await fetch(`${md}/${path}`, { headers: { 'Metadata-Flavor': 'Google' } });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return res.text();
    };
    expect(await read('project/numeric-project-id')).toMatch(/^\d+$/); // gcloud's "am I on GCE" probe
    expect(await read('project/project-id')).toBe(PROJECT);
    expect(await read('instance/zone')).toBe('projects/383030834456/zones/us-central1-a');
    const accounts = (await read('instance/service-accounts/')).split('\n').filter(Boolean);
    expect(accounts).toContain('default/');
    for (const a of accounts) expect(await read(`instance/service-accounts/${a}email`)).toMatch(/@/);
    // scopes are one value, a scope a line (not a directory of indexes)
    expect((await read('instance/service-accounts/default/scopes')).split('\n').filter(Boolean)).toEqual(['https://www.googleapis.com/auth/compute']);
    expect(await read('universe/universe-domain')).toBe('googleapis.com');
  });
});
