// NIC fingerprints are bytes: a client may send them back in the URL-safe base64 alphabet, with
// or without padding (gcloud's apitools writes `_`/`-` for `/`/`+`), and the update is accepted;
// only other bytes are a 412, and a value that is not base64 at all a 400.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AUTH, startDefaultProject, type DefaultProject } from './default-project.ts';

const INSTANCES = [
  ['us-central1-a', 'node-a'],
  ['us-central1-b', 'node-b'],
  ['us-central1-c', 'router-c'],
] as const;

describe('GCE emulator: fingerprints compared as bytes', () => {
  let p: DefaultProject;
  beforeEach(async () => {
    p = await startDefaultProject({ operationDelayMs: 0 });
  });
  afterEach(() => p.emu.stop());

  async function fingerprint(zone: string, name: string): Promise<string> {
    const vm = (await (await fetch(`${p.api}/zones/${zone}/instances/${name}`, { headers: AUTH })).json()) as { networkInterfaces: { fingerprint: string }[] };
    return vm.networkInterfaces[0]!.fingerprint;
  }
  /** The PATCH gcloud sends for `network-interfaces update --aliases`. */
  function update(zone: string, name: string, fingerprint: string, aliases: string): Promise<Response> {
    return fetch(`${p.api}/zones/${zone}/instances/${name}/updateNetworkInterface?alt=json&networkInterface=nic0`, {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ aliasIpRanges: [{ ipCidrRange: aliases, subnetworkRangeName: 'pods' }], fingerprint }),
    });
  }
  const urlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');

  it('every instance of the default project takes its fingerprint back URL-safe, padded or not', async () => {
    const seen: string[] = [];
    for (const [zone, name] of INSTANCES) {
      const fp = await fingerprint(zone, name);
      seen.push(fp);
      const res = await update(zone, name, urlSafe(fp), '/24');
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const op = (await res.json()) as { status: string; error?: unknown };
      expect(op.error).toBeUndefined();
      const again = await update(zone, name, urlSafe(await fingerprint(zone, name)).replace(/=+$/, ''), '/23');
      expect({ name, status: again.status }).toEqual({ name, status: 200 });
    }
    // the test means something only if some fingerprint has a character the alphabets disagree on
    expect(seen.some((fp) => /[+/]/.test(fp))).toBe(true);
    const vm = (await (await fetch(`${p.api}/zones/us-central1-b/instances/node-b`, { headers: AUTH })).json()) as { networkInterfaces: { aliasIpRanges?: { ipCidrRange: string }[] }[] };
    expect(vm.networkInterfaces[0]!.aliasIpRanges?.[0]?.ipCidrRange).toMatch(/\/23$/);
  });

  it('other bytes are 412 conditionNotMet; a value that is not base64 is 400', async () => {
    const fp = await fingerprint('us-central1-b', 'node-b');
    const bytes = Buffer.from(fp, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    const stale = await update('us-central1-b', 'node-b', bytes.toString('base64url'), '/24');
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason).toBe('conditionNotMet');
    const junk = await update('us-central1-b', 'node-b', 'not base64!', '/24');
    expect(junk.status).toBe(400);
  });
});
