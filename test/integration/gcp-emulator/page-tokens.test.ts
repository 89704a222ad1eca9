// List page tokens as GCE's behave: opaque (a client cannot read or forge an offset in them) and
// naming the last item returned, so a route deleted between two page reads does not make the
// next page skip a route, as an offset token would.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AUTH, startDefaultProject, type DefaultProject } from './default-project.ts';

interface RouteList {
  items?: { name: string }[];
  nextPageToken?: string;
}

describe('GCE emulator: list page tokens', () => {
  let p: DefaultProject;
  beforeEach(async () => {
    p = await startDefaultProject({ operationDelayMs: 0 });
    for (const n of ['pt-1', 'pt-2', 'pt-3', 'pt-4']) {
      const res = await fetch(`${p.api}/global/routes`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ name: n, network: 'global/networks/vpc', destRange: `10.77.${n.slice(3)}.0/24`, nextHopIp: '10.128.0.9' }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterEach(() => p.emu.stop());

  const list = async (q: string): Promise<{ status: number; body: RouteList }> => {
    const res = await fetch(`${p.api}/global/routes?filter=${encodeURIComponent('name eq pt-.*')}&${q}`, { headers: AUTH });
    return { status: res.status, body: (await res.json()) as RouteList };
  };

  it('the next page starts after the last route returned, whatever was deleted meanwhile', async () => {
    const first = await list('maxResults=2');
    expect(first.body.items?.map((r) => r.name)).toEqual(['pt-1', 'pt-2']);
    const token = first.body.nextPageToken ?? '';
    expect(token).not.toBe('');
    const del = await fetch(`${p.api}/global/routes/pt-1`, { method: 'DELETE', headers: AUTH });
    expect(del.status).toBe(200);
    const second = await list(`maxResults=2&pageToken=${encodeURIComponent(token)}`);
    expect(second.body.items?.map((r) => r.name)).toEqual(['pt-3', 'pt-4']);
    expect(second.body.nextPageToken).toBeUndefined();
  });

  it('a token is not a readable offset, and a forged one is refused with 400', async () => {
    const first = await list('maxResults=1');
    const token = first.body.nextPageToken ?? '';
    expect(Number.isInteger(Number(Buffer.from(token, 'base64url').toString()))).toBe(false);
    const forged = await list(`maxResults=1&pageToken=${Buffer.from('1').toString('base64url')}`);
    expect(forged.status).toBe(400);
  });
});
