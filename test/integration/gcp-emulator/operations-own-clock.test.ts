// GCE finishes an operation whether or not anyone polls it: a PATCH whose operation nobody
// reads is applied after the modelled delay, and a metadata wait_for_change wakes for it.
// The emulator runs on a fake clock; only the HTTP round trips are real.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../src/util/clock.ts';
import { AUTH, startDefaultProject, type DefaultProject } from './default-project.ts';

const ZONE = 'us-central1-a';
const G = { 'Metadata-Flavor': 'Google' };

describe('GCE emulator: operations complete on their own clock', () => {
  let p: DefaultProject;
  let clock: FakeClock;
  beforeEach(async () => {
    clock = new FakeClock(Date.UTC(2026, 11, 1, 12, 0, 5));
    p = await startDefaultProject({ clock, operationDelayMs: 300 });
  });
  afterEach(() => p.emu.stop());

  async function nic0(): Promise<{ fingerprint: string; aliasIpRanges?: { ipCidrRange: string }[] }> {
    const vm = (await (await fetch(`${p.api}/zones/${ZONE}/instances/node-a`, { headers: AUTH })).json()) as { networkInterfaces: { fingerprint: string }[] };
    return vm.networkInterfaces[0]!;
  }
  async function fireAndForget(): Promise<string> {
    const res = await fetch(`${p.api}/zones/${ZONE}/instances/node-a/updateNetworkInterface?networkInterface=nic0`, {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ fingerprint: (await nic0()).fingerprint, aliasIpRanges: [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }] }),
    });
    const op = (await res.json()) as { status: string; name: string };
    expect(op.status).not.toBe('DONE');
    return op.name;
  }

  it('a PATCH whose operation nobody reads is applied after the modelled delay', async () => {
    await fireAndForget();
    await clock.advance(100);
    expect((await nic0()).aliasIpRanges).toBeUndefined(); // not before its time
    await clock.advance(200);
    expect((await nic0()).aliasIpRanges?.map((r) => r.ipCidrRange)).toEqual(['10.4.0.0/24']);
  });

  it('a metadata wait_for_change wakes for it, with the new alias range', async () => {
    const md = `${p.emu.metadataEndpoint(ZONE, 'node-a')}/computeMetadata/v1/instance/network-interfaces/0/ip-aliases/?recursive=true`;
    const first = await fetch(md, { headers: G });
    const etag = first.headers.get('etag') ?? '';
    const parked = clock.pending;
    const waiting = fetch(`${md}&wait_for_change=true&last_etag=${etag}&timeout_sec=60`, { headers: G });
    while (clock.pending === parked) await new Promise((r) => setTimeout(r, 5)); // the wait has parked on its timeout
    await fireAndForget();
    await clock.advance(300);
    // a server that never applies the change answers at the timeout, unchanged: let that happen rather than hang
    await clock.advance(60_000);
    const changed = await waiting;
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.json()).toEqual(['10.4.0.0/24']);
  });
});
