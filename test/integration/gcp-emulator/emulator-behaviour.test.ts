// The GCE emulator as any Compute REST client sees it (plain fetch, no SDK): the metadata
// server's header check both ways, listings, alt, wait_for_change with ETags, tokens; NIC
// fingerprints (400 missing, 412 stale, a new one per change, refused fields); secondary
// ranges that fill and fragment; rate quotas; latency-free faults.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';

const P = 'vc10-behaviour';
const ZONE = 'europe-west1-b';

describe('GCE emulator', () => {
  let emu: GcpEmulator;
  let api = '';
  let md = '';
  beforeEach(async () => {
    emu = new GcpEmulator({ project: P, operationDelayMs: 20, auth: 'issued' });
    emu.applyScenario({
      subnets: [{ name: 'nodes', region: 'europe-west1', network: 'vpc', ipCidrRange: '10.128.0.0/24', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/22' }] }],
      instances: [
        { name: 'a', zone: ZONE, subnet: 'nodes' },
        { name: 'b', zone: ZONE, subnet: 'nodes' },
      ],
    });
    api = `${await emu.start()}/compute/v1/projects/${P}`;
    md = `${emu.metadataEndpoint(ZONE, 'a')}/computeMetadata/v1`;
  });
  afterEach(() => emu.stop());

  const G = { 'Metadata-Flavor': 'Google' };
  async function token(): Promise<string> {
    const t = (await (await fetch(`${md}/instance/service-accounts/default/token`, { headers: G })).json()) as { access_token: string; token_type: string };
    expect(t.token_type).toBe('Bearer');
    return t.access_token;
  }
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${await token()}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }
  async function nic0(name = 'a'): Promise<{ fingerprint: string; aliasIpRanges?: { ipCidrRange: string }[] }> {
    const r = await call('GET', `/zones/${ZONE}/instances/${name}`);
    return (r.json.networkInterfaces as { fingerprint: string }[])[0] as { fingerprint: string };
  }
  async function setAliases(name: string, fingerprint: string | undefined, ranges: unknown[]): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await call('PATCH', `/zones/${ZONE}/instances/${name}/updateNetworkInterface?networkInterface=nic0`, { ...(fingerprint ? { fingerprint } : {}), aliasIpRanges: ranges });
    if (r.status !== 200) return r;
    return call('POST', `/zones/${ZONE}/operations/${r.json.name as string}/wait`);
  }

  it('metadata: the header is required on requests and sent on answers; X-Forwarded-For is refused', async () => {
    const bare = await fetch(`${md}/instance/id`);
    expect(bare.status).toBe(403);
    expect(bare.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${md}/instance/id`, { headers: { 'Metadata-Flavor': 'Other' } })).status).toBe(403);
    expect((await fetch(`${md}/instance/id`, { headers: { ...G, 'X-Forwarded-For': '1.2.3.4' } })).status).toBe(403);
    const ok = await fetch(`${md}/instance/id`, { headers: G });
    expect(ok.headers.get('metadata-flavor')).toBe('Google');
    expect(await ok.text()).toMatch(/^\d{19}$/);
  });

  it('metadata: listings, alt=json/text, recursive trees and one ETag for both renderings', async () => {
    const list = await (await fetch(`${md}/instance/network-interfaces/0/`, { headers: G })).text();
    expect(list.split('\n')).toEqual(expect.arrayContaining(['ip', 'mac', 'mtu', 'gateway', 'subnetmask', 'network', 'ip-aliases/', 'dns-servers/']));
    const text = await fetch(`${md}/instance/network-interfaces/0/mtu`, { headers: G });
    const json = await fetch(`${md}/instance/network-interfaces/0/mtu?alt=json`, { headers: G });
    expect(await text.text()).toBe('1460');
    expect(await json.json()).toBe(1460);
    expect(text.headers.get('etag')).toMatch(/^[0-9a-f]{16}$/);
    expect(text.headers.get('etag')).toBe(json.headers.get('etag'));
    const tree = (await (await fetch(`${md}/instance/network-interfaces/?recursive=true`, { headers: G })).json()) as { ip: string; network: string; ipAliases: string[] }[];
    expect(tree[0]?.network).toMatch(/^projects\/\d+\/networks\/vpc$/);
    expect(tree[0]?.ipAliases).toEqual([]);
  });

  it('metadata: wait_for_change returns when the alias ranges change, with a new ETag', async () => {
    const first = await fetch(`${md}/instance/network-interfaces/0/ip-aliases/?recursive=true`, { headers: G });
    const etag = first.headers.get('etag') ?? '';
    const waiting = fetch(`${md}/instance/network-interfaces/0/ip-aliases/?recursive=true&wait_for_change=true&last_etag=${etag}&timeout_sec=30`, { headers: G });
    const fp = (await nic0()).fingerprint;
    expect((await setAliases('a', fp, [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }])).json.status).toBe('DONE');
    const changed = await waiting;
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.json()).toEqual(['10.4.0.0/24']);
    // an ETag that is already stale answers at once
    const stale = await fetch(`${md}/instance/network-interfaces/0/ip-aliases/?recursive=true&wait_for_change=true&last_etag=${etag}`, { headers: G });
    expect(await stale.json()).toEqual(['10.4.0.0/24']);
  });

  it('compute: a token is required (auth=issued); tokens from the metadata server work', async () => {
    expect((await fetch(`${api}/zones/${ZONE}/instances/a`)).status).toBe(401);
    expect((await fetch(`${api}/zones/${ZONE}/instances/a`, { headers: { authorization: 'Bearer made-up' } })).status).toBe(401);
    expect((await call('GET', `/zones/${ZONE}/instances/a`)).status).toBe(200);
  });

  it('fingerprints: missing 400, stale 412, a new one per change; fields the method cannot update are refused', async () => {
    const fp = (await nic0()).fingerprint;
    expect((await setAliases('a', undefined, [])).status).toBe(400);
    expect((await setAliases('a', 'c3RhbGU=', [])).status).toBe(412);
    const refused = await call('PATCH', `/zones/${ZONE}/instances/a/updateNetworkInterface?networkInterface=nic0`, { fingerprint: fp, accessConfigs: [] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('Updating this field is not supported');
    await setAliases('a', fp, [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }]);
    const fp2 = (await nic0()).fingerprint;
    expect(fp2).not.toBe(fp);
    expect((await setAliases('a', fp, [])).status).toBe(412);
    // an explicit empty list removes the last range
    expect((await setAliases('a', fp2, [])).json.error).toBeUndefined();
    expect((await nic0()).aliasIpRanges).toBeUndefined();
  });

  it('secondary ranges fill and fragment in aligned blocks; exhaustion is an error inside DONE', async () => {
    const grab = async (name: string, mask: string): Promise<Record<string, unknown>> => setAliases(name, (await nic0(name)).fingerprint, [...((await nic0(name)).aliasIpRanges ?? []), { ipCidrRange: mask, subnetworkRangeName: 'pods' }]).then((r) => r.json);
    await grab('a', '/24'); // 10.4.0.0/24
    await grab('b', '/23'); // aligned: 10.4.2.0/23, leaving 10.4.1.0/24 as a hole
    expect((await nic0('b')).aliasIpRanges?.map((r) => r.ipCidrRange)).toEqual(['10.4.2.0/23']);
    const full = await grab('a', '/23');
    expect(full.status).toBe('DONE');
    expect((full.error as { errors: { code: string }[] }).errors[0]?.code).toBe('IP_SPACE_EXHAUSTED');
    expect((await nic0('a')).aliasIpRanges?.map((r) => r.ipCidrRange)).toEqual(['10.4.0.0/24']); // nothing half-applied
    await grab('a', '/24'); // the hole fits a /24
    expect((await nic0('a')).aliasIpRanges?.map((r) => r.ipCidrRange)).toEqual(['10.4.0.0/24', '10.4.1.0/24']);
  });

  it('routes: name conflicts end DONE with RESOURCE_ALREADY_EXISTS; next hops without canIpForward carry a warning', async () => {
    const body = { name: 'r1', network: `projects/${P}/global/networks/vpc`, destRange: '10.64.0.0/24', nextHopInstance: `projects/${P}/zones/${ZONE}/instances/a` };
    const op = await call('POST', '/global/routes', body);
    expect((await call('POST', `/global/operations/${op.json.name as string}/wait`)).json.error).toBeUndefined();
    const again = await call('POST', '/global/routes', body);
    const done = await call('POST', `/global/operations/${again.json.name as string}/wait`);
    expect((done.json.error as { errors: { code: string }[] }).errors[0]?.code).toBe('RESOURCE_ALREADY_EXISTS');
    const route = await call('GET', '/global/routes/r1');
    expect((route.json.warnings as { code: string }[])[0]?.code).toBe('NEXT_HOP_CANNOT_IP_FORWARD');
    emu.state.setCanIpForward(ZONE, 'a', true);
    expect((await call('GET', '/global/routes/r1')).json.warnings).toBeUndefined();
    const filtered = await call('GET', `/global/routes?filter=${encodeURIComponent('name eq "r.*"')}`);
    expect((filtered.json.items as unknown[]).length).toBe(1);
    expect((await call('GET', `/global/routes?filter=${encodeURIComponent('name eq "x.*"')}`)).json.items).toEqual([]);
    expect((await call('GET', `/global/routes?filter=${encodeURIComponent('bogus ~ 1')}`)).status).toBe(400);
  });

  it('rate quotas: 403 rateLimitExceeded once a group has spent its minute, other groups unaffected', async () => {
    emu.quotas.setLimit('read', 2);
    expect((await call('GET', `/zones/${ZONE}/instances/a`)).status).toBe(200);
    expect((await call('GET', `/zones/${ZONE}/instances/a`)).status).toBe(200);
    const over = await call('GET', `/zones/${ZONE}/instances/a`);
    expect(over.status).toBe(403);
    expect(JSON.stringify(over.json)).toContain('rateLimitExceeded');
    expect((await call('GET', '/global/routes')).status).toBe(200); // the list group
    expect(emu.stats().throttled['instances.get']).toBe(1);
  });
});
