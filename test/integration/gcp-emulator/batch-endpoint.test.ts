// The batch endpoint gcloud sends its Compute calls to (`instances list --zones a,b`, and the
// get / updateNetworkInterface / operation wait of `network-interfaces update`): a raw request
// byte for byte as gcloud's apitools writes it (LF line ends, a quoted boundary, no blank line
// after the headers of a bodiless part), and a multipart/mixed answer apitools can read.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AUTH, PROJECT, startDefaultProject, type DefaultProject } from './default-project.ts';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** What apitools' BatchHttpRequest sends: Python's email generator output, one application/http part per call. */
function gcloudBatch(host: string, calls: Call[]): { contentType: string; body: string; base: string } {
  const boundary = `===============${String(Math.floor(Math.random() * 1e18)).padStart(19, '0')}==`;
  const base = randomUUID();
  const parts = calls.map((c, i) => {
    const json = c.body === undefined ? undefined : JSON.stringify(c.body);
    const headers = ['Content-Type: application/json', 'MIME-Version: 1.0', `content-length: ${json === undefined ? 0 : Buffer.byteLength(json)}`, 'user-agent: google-cloud-sdk gcloud/528.0.0 command/gcloud.compute.instances.list', `Host: ${host}`];
    const request = `${c.method} /compute/v1/projects/${PROJECT}${c.path} HTTP/1.1\n${headers.join('\n')}${json === undefined ? '' : `\n\n${json}`}`;
    return `--${boundary}\nContent-Type: application/http\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\nContent-ID: <${base}+${i}>\n\n${request}\n`;
  });
  return { contentType: `multipart/mixed; boundary="${boundary}"`, body: `${parts.join('')}--${boundary}--\n`, base };
}

/** Reads the answer the way apitools does: split on the boundary, Content-ID per part, status line, JSON body. */
function readBatch(contentType: string, text: string): { id: string; status: number; json: Record<string, unknown> }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  expect(contentType).toMatch(/^multipart\/mixed;/);
  expect(boundary).toBeDefined();
  return text
    .split(`--${boundary as string}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((part) => {
      const [head = '', response = ''] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n(?=HTTP\/)/);
      const id = /^Content-ID:\s*<(.+)>\s*$/im.exec(head)?.[1] ?? '';
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
      const json = JSON.parse(response.slice(response.search(/\r?\n\r?\n/)).trim()) as Record<string, unknown>;
      return { id, status, json };
    });
}

describe('GCE emulator: the batch endpoint as gcloud uses it', () => {
  let p: DefaultProject;
  beforeEach(async () => {
    p = await startDefaultProject({ operationDelayMs: 50 });
  });
  afterEach(() => p.emu.stop());

  async function batch(calls: Call[]): Promise<{ id: string; status: number; json: Record<string, unknown> }[]> {
    const b = gcloudBatch(new URL(p.endpoint).host, calls);
    const res = await fetch(`${p.endpoint}/batch/compute/v1`, { method: 'POST', headers: { ...AUTH, 'content-type': b.contentType }, body: b.body });
    expect(res.status).toBe(200);
    const parts = readBatch(res.headers.get('content-type') ?? '', await res.text());
    // each answer names its request: <response-BASE+N> for <BASE+N>
    expect(parts.map((x) => x.id)).toEqual(calls.map((_, i) => `response-${b.base}+${i}`));
    return parts;
  }

  it('instances list --zones a,b: one list per zone in one batch', async () => {
    const parts = await batch([
      { method: 'GET', path: '/zones/us-central1-a/instances?alt=json&maxResults=500' },
      { method: 'GET', path: '/zones/us-central1-b/instances?alt=json&maxResults=500' },
    ]);
    expect(parts.map((x) => [x.status, (x.json.items as { name: string }[]).map((i) => i.name)])).toEqual([
      [200, ['node-a']],
      [200, ['node-b']],
    ]);
  });

  it('instances list without --zones: the aggregated list, inside a batch', async () => {
    const [agg] = await batch([{ method: 'GET', path: '/aggregated/instances?alt=json&includeAllScopes=True&maxResults=500&returnPartialSuccess=True' }]);
    const items = agg!.json.items as Record<string, { instances?: { name: string }[] }>;
    expect(Object.entries(items).flatMap(([scope, l]) => (l.instances ?? []).map((i) => `${scope}/${i.name}`))).toEqual(['zones/us-central1-a/node-a', 'zones/us-central1-b/node-b', 'zones/us-central1-c/router-c']);
  });

  it('network-interfaces update --aliases: get, a URL-safe fingerprint, wait; errors stay per part', async () => {
    const [got] = await batch([{ method: 'GET', path: '/zones/us-central1-c/instances/router-c?alt=json' }]);
    const fp = ((got!.json.networkInterfaces as { fingerprint: string }[])[0]!.fingerprint).replace(/\+/g, '-').replace(/\//g, '_');
    const [patched, missing] = await batch([
      { method: 'PATCH', path: '/zones/us-central1-c/instances/router-c/updateNetworkInterface?alt=json&networkInterface=nic0', body: { aliasIpRanges: [{ ipCidrRange: '/24', subnetworkRangeName: 'pods' }], fingerprint: fp } },
      { method: 'GET', path: '/zones/us-central1-c/instances/nope?alt=json' },
    ]);
    expect(patched!.status).toBe(200);
    expect(missing!.status).toBe(404);
    expect((missing!.json.error as { code: number }).code).toBe(404);
    const [waited] = await batch([{ method: 'POST', path: `/zones/us-central1-c/operations/${patched!.json.name as string}/wait?alt=json` }]);
    expect([waited!.json.status, waited!.json.error]).toEqual(['DONE', undefined]);
  });

  it('a body that is not multipart is a 400 in the Compute error shape', async () => {
    const res = await fetch(`${p.endpoint}/batch/compute/v1`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(400);
  });
});
