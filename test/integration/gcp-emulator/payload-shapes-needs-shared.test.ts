// The emulator's JSON has the shapes of the vendor payloads in ../shared/cloud-payloads/gce:
// every key of a vendor sample (recursively, arrays by their first item) is in the emulator's
// answer with the same JSON type, except fixture details outside the model (listed).
// Needs ../shared: fails with one line when it is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'cloud-payloads', 'gce');
const PROJECT = 'vc10-shapes';

function vendor(file: string): unknown {
  if (!existsSync(dir)) throw new Error(`needs ../shared/cloud-payloads/gce (not found at ${dir})`);
  const v = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  delete v._assembled;
  delete v._source;
  return v;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Paths the vendor sample has that our answer lacks or types differently. */
function missing(sample: unknown, ours: unknown, skip: string[], path = ''): string[] {
  if (skip.includes(path)) return [];
  if (typeOf(sample) !== typeOf(ours)) return [`${path || '.'}: ${typeOf(sample)} vs ${typeOf(ours)}`];
  if (Array.isArray(sample)) return sample.length && Array.isArray(ours) && ours.length ? missing(sample[0], ours[0], skip, `${path}[]`) : [];
  if (sample && typeof sample === 'object') {
    return Object.entries(sample as Record<string, Json>).flatMap(([k, v]) => {
      const p = path ? `${path}.${k}` : k;
      if (skip.includes(p)) return [];
      if (!(k in (ours as Record<string, unknown>))) return [`${p}: absent`];
      return missing(v, (ours as Record<string, unknown>)[k], skip, p);
    });
  }
  return [];
}

describe('GCE emulator payload shapes (needs ../shared)', () => {
  const emu = new GcpEmulator({ project: PROJECT, operationDelayMs: 50, auth: 'none' });
  let base = '';
  beforeAll(async () => {
    if (!existsSync(dir)) throw new Error(`needs ../shared/cloud-payloads/gce (not found at ${dir})`);
    emu.applyScenario({
      subnets: [{ name: 'nodes', region: 'us-central1', network: 'default', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '192.168.0.0/16' }] }],
      instances: [{ name: 'node-a', zone: 'us-central1-a', subnet: 'nodes', aliasIpRanges: [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }] }],
    });
    emu.state.instances.get('us-central1-a/node-a')!.nics[0]!.externalIp = '203.0.113.7';
    base = `${await emu.start()}/compute/v1/projects/${PROJECT}`;
  });
  afterAll(() => emu.stop());

  const get = async (path: string, init?: RequestInit): Promise<unknown> => (await fetch(`${base}${path}`, init)).json();

  it('instances.get has the shape of instances.get with aliasIpRanges', async () => {
    const ours = await get('/zones/us-central1-a/instances/node-a');
    expect(missing(vendor('instances-get-nic-with-aliasIpRanges.ASSEMBLED.json'), ours, ['disks[]'])).toEqual([]);
    expect(missing(vendor('instances-get.libcloud-sn-node-name.json'), ours, ['disks[]'])).toEqual([]);
    expect(typeof (ours as { id: unknown }).id).toBe('string');
  });

  it('subnetworks.get has the shape of the vendor sample (its status field is a fixture artifact)', async () => {
    expect(missing(vendor('subnetworks-get-secondaryIpRanges.libcloud.json'), await get('/regions/us-central1/subnetworks/nodes'), ['status', 'description'])).toEqual([]);
  });

  it('operations PENDING, DONE, DONE with an error; a route with a warning; the 404 envelope', async () => {
    const inst = (await get('/zones/us-central1-a/instances/node-a')) as { networkInterfaces: { fingerprint: string }[] };
    const op = (await get('/zones/us-central1-a/instances/node-a/updateNetworkInterface?networkInterface=nic0', {
      method: 'PATCH',
      body: JSON.stringify({ fingerprint: inst.networkInterfaces[0]?.fingerprint, aliasIpRanges: [] }),
    })) as { name: string; status: string };
    expect(op.status).toBe('PENDING');
    expect(missing(vendor('zoneOperation-PENDING.libcloud.json'), op, ['endTime', 'startTime', 'targetId'])).toEqual([]);
    const done = await get(`/zones/us-central1-a/operations/${op.name}/wait`, { method: 'POST' });
    expect(missing(vendor('zoneOperation-DONE.libcloud.json'), done, [])).toEqual([]);

    emu.faults.add({ method: 'routes.insert', kind: 'operation', reason: 'RESOURCE_NOT_READY', status: 400, count: 1 });
    const rop = (await get('/global/routes', { method: 'POST', body: JSON.stringify({ name: 'r1', network: 'global/networks/default', destRange: '192.168.25.0/24', nextHopInstance: `zones/us-central1-a/instances/node-a` }) })) as { name: string };
    const failed = await get(`/global/operations/${rop.name}/wait`, { method: 'POST' });
    expect(missing(vendor('zoneOperation-DONE-with-error.libcloud.json'), failed, ['zone', 'targetId'])).toEqual([]);
    expect(missing(vendor('routes-insert-operation-PENDING.libcloud.json'), rop, [])).toEqual([]);

    const ok = (await get('/global/routes', { method: 'POST', body: JSON.stringify({ name: 'lcdemoroute', network: 'global/networks/default', destRange: '192.168.25.0/24', nextHopInstance: `zones/us-central1-a/instances/node-a`, tags: ['tag1'] }) })) as { name: string };
    expect(missing(vendor('routes-insert-operation-DONE.libcloud.json'), await get(`/global/operations/${ok.name}/wait`, { method: 'POST' }), [])).toEqual([]);
    const dup = (await get('/global/routes', { method: 'POST', body: JSON.stringify({ name: 'lcdemoroute', network: 'global/networks/default', destRange: '192.168.26.0/24', nextHopInstance: `zones/us-central1-a/instances/node-a` }) })) as { name: string };
    const conflict = (await get(`/global/operations/${dup.name}/wait`, { method: 'POST' })) as { httpErrorStatusCode: number };
    expect(missing(vendor('zoneOperation-DONE-409-conflict.libcloud.json'), conflict, ['zone', 'targetId'])).toEqual([]);
    expect(conflict.httpErrorStatusCode).toBe(409);
    expect(missing(vendor('routes-get.libcloud-lcdemoroute.json'), await get('/global/routes/lcdemoroute'), [])).toEqual([]);
    expect(missing(vendor('error-404-notFound.libcloud.json'), await get('/zones/us-central1-a/instances/nope'), [])).toEqual([]);
  });

  it('the metadata server recursive instance tree has the shape of a real capture', async () => {
    const res = await fetch(`${emu.metadataEndpoint('us-central1-a', 'node-a')}/computeMetadata/v1/instance/?recursive=true`, { headers: { 'Metadata-Flavor': 'Google' } });
    const text = await res.text();
    expect(text).toMatch(/"id":\d{19}/); // a bare integer beyond float precision, as the real server
    const sample = vendor('metadata-instance-recursive-2nics.glouton-capture.json') as { networkInterfaces: unknown[] };
    sample.networkInterfaces = sample.networkInterfaces.slice(0, 1);
    expect(missing(sample, JSON.parse(text), [])).toEqual([]);
  });
});
