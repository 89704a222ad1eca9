// How a real user authenticates the agent's Kubernetes client, each path against the fake API
// server on loopback: client certificates over TLS (a locally made CA), the in-cluster service
// account with a rotating token, and kubeconfig exec plugins (as `aws eks get-token`).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpKubeClient } from '../../../src/k8s/http-kube-client.ts';
import { inClusterTarget, kubeconfigFileTarget, TOKEN_FILE_REREAD_MS } from '../../../src/k8s/kubeconfig.ts';
import { FakeApiServer, type FakeApiServerOptions } from '../../support/fake-apiserver/server.ts';
import { makeKubeTls, type KubeTls } from '../../support/kube-tls.ts';
import { nodeObj } from './helpers.ts';

let tls: KubeTls;
let other: KubeTls;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => {
  tls = makeKubeTls();
  other = makeKubeTls();
});
afterAll(() => {
  for (const d of [tls?.dir, other?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(opts: FakeApiServerOptions): Promise<FakeApiServer> {
  const api = new FakeApiServer(opts);
  await api.start();
  api.upsert('nodes', nodeObj('node-a'));
  cleanups.push(() => api.stop());
  dir = mkdtempSync(join(tmpdir(), 'k8l-auth-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return api;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubeconfig in YAML (not JSON), as kubectl writes one. */
function writeKubeconfig(cluster: string, user: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context:
    cluster: c
    user: u
clusters:
- name: c
  cluster:
${cluster.replace(/^/gm, '    ')}
users:
- name: u
  user:
${user.replace(/^/gm, '    ')}
`,
  );
  return path;
}

const client = (path: string, now?: () => number): HttpKubeClient => new HttpKubeClient(kubeconfigFileTarget(path, now), { requestTimeoutMs: 5000 });

describe('client certificates over TLS', () => {
  it('files named relative to the kubeconfig, the server verified against the cluster CA', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca, clientCa: tls.ca } });
    const c = tls.client('system:node:node-a');
    writeFileSync(join(dir, 'ca.pem'), tls.ca);
    writeFileSync(join(dir, 'node.pem'), c.cert);
    writeFileSync(join(dir, 'node.key'), c.key);
    const path = writeKubeconfig(`server: ${api.url}\ncertificate-authority: ca.pem`, 'client-certificate: node.pem\nclient-key: node.key');
    await expect(client(path).getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(api.clientCertNames).toEqual(['system:node:node-a']);
  });

  it('rotated certificate files are used without a restart: the next connection presents the new certificate', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca, clientCa: tls.ca } });
    const put = (name: string): void => {
      const c = tls.client(name);
      writeFileSync(join(dir, 'node.pem'), c.cert);
      writeFileSync(join(dir, 'node.key'), c.key);
    };
    writeFileSync(join(dir, 'ca.pem'), tls.ca);
    put('system:node:node-a');
    let now = 0;
    const c = client(writeKubeconfig(`server: ${api.url}\ncertificate-authority: ca.pem`, 'client-certificate: node.pem\nclient-key: node.key'), () => now);
    await c.getNode('node-a');
    put('system:node:node-a-renewed');
    now += TOKEN_FILE_REREAD_MS;
    await c.getNode('node-a');
    expect(api.clientCertNames).toEqual(['system:node:node-a', 'system:node:node-a-renewed']);
  });

  it('inline -data fields work the same', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca, clientCa: tls.ca } });
    const c = tls.client('admin');
    const path = writeKubeconfig(`server: ${api.url}\ncertificate-authority-data: ${b64(tls.ca)}`, `client-certificate-data: ${b64(c.cert)}\nclient-key-data: ${b64(c.key)}`);
    await expect(client(path).getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(api.clientCertNames).toEqual(['admin']);
  });

  it('a server the CA did not sign is refused; insecure-skip-tls-verify accepts it', async () => {
    const api = await server({ tls: { key: other.key, cert: other.cert, ca: other.ca } });
    const wrong = writeKubeconfig(`server: ${api.url}\ncertificate-authority-data: ${b64(tls.ca)}`, 'token: fake-token');
    await expect(client(wrong).getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
    const insecure = writeKubeconfig(`server: ${api.url}\ninsecure-skip-tls-verify: true`, 'token: fake-token');
    await expect(client(insecure).getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
  });

  it('a client certificate the cluster CA did not sign is not a login (401 K8S_FORBIDDEN)', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca, clientCa: tls.ca } });
    const c = other.client('intruder');
    const path = writeKubeconfig(`server: ${api.url}\ncertificate-authority-data: ${b64(tls.ca)}`, `client-certificate-data: ${b64(c.cert)}\nclient-key-data: ${b64(c.key)}`);
    await expect(client(path).getNode('node-a')).rejects.toMatchObject({ code: 'K8S_FORBIDDEN', details: expect.objectContaining({ status: 401 }) });
  });
});

describe('in-cluster service account', () => {
  it('re-reads the rotated token: periodically, and at once after a 401', async () => {
    let accepted = ['tok-1'];
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca }, tokens: () => accepted });
    writeFileSync(join(dir, 'ca.crt'), tls.ca);
    writeFileSync(join(dir, 'token'), 'tok-1\n');
    let now = 1_000_000;
    const c = new HttpKubeClient(inClusterTarget({ host: '127.0.0.1', port: api.port, serviceAccountDir: dir }, () => now), { requestTimeoutMs: 5000 });
    await c.getNode('node-a');

    // The kubelet rotates the token and the old one stops working: one 401, re-read, success.
    writeFileSync(join(dir, 'token'), 'tok-2\n');
    accepted = ['tok-2'];
    await expect(c.getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(api.requests.map((r) => r.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);

    // Rotated again while the old one still works: picked up once the re-read period passed.
    writeFileSync(join(dir, 'token'), 'tok-3\n');
    accepted = ['tok-2', 'tok-3'];
    await c.getNode('node-a');
    now += TOKEN_FILE_REREAD_MS;
    await c.getNode('node-a');
    expect(api.requests.slice(3).map((r) => r.authorization)).toEqual(['Bearer tok-2', 'Bearer tok-3']);
  });

  it('a missing CA file is one CONFIG_INVALID naming it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'k8l-sa-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    expect(() => inClusterTarget({ host: '10.96.0.1', port: 443, serviceAccountDir: empty })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('ca.crt') }));
  });
});

describe('exec credential plugins', () => {
  /** A plugin script: counts its runs, saves KUBERNETES_EXEC_INFO, prints $OUT_FILE or a token credential. */
  function plugin(): string {
    const path = join(dir, 'get-token.sh');
    writeFileSync(
      path,
      `#!/bin/sh
echo run >> "$COUNT_FILE"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
if [ -n "$OUT_FILE" ]; then cat "$OUT_FILE"; exit 0; fi
if [ -n "$FAIL" ]; then echo "$FAIL" >&2; exit 3; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"%s}}' "$API" "$(cat "$TOKEN_FILE")" "$EXTRA"
`,
    );
    chmodSync(path, 0o755);
    return path;
  }
  const runs = (): number => readFileSync(join(dir, 'count'), 'utf8').split('\n').filter(Boolean).length;
  const execUser = (apiVersion: string, env: Record<string, string>, command = './get-token.sh'): string =>
    [
      'exec:',
      `  apiVersion: ${apiVersion}`,
      `  command: ${command}`,
      '  args: ["eks", "get-token"]',
      '  interactiveMode: Never',
      '  installHint: install the token helper',
      '  env:',
      ...Object.entries({ COUNT_FILE: join(dir, 'count'), INFO_FILE: join(dir, 'info'), TOKEN_FILE: join(dir, 'token'), ...env }).flatMap(([k, v]) => [`  - name: ${k}`, `    value: '${v}'`]),
    ].join('\n');

  it('v1: runs once, caches the token until shortly before expirationTimestamp, then runs again', async () => {
    let accepted = ['exec-1'];
    const api = await server({ tokens: () => accepted });
    plugin();
    writeFileSync(join(dir, 'token'), 'exec-1');
    let now = Date.parse('2026-01-01T00:00:00Z');
    const path = writeKubeconfig(`server: ${api.url}`, execUser('client.authentication.k8s.io/v1', { API: 'client.authentication.k8s.io/v1', EXTRA: ',"expirationTimestamp":"2026-01-01T00:15:00Z"' }));
    const c = client(path, () => now);
    await c.getNode('node-a');
    await c.getNode('node-a');
    expect(runs()).toBe(1);
    expect(JSON.parse(readFileSync(join(dir, 'info'), 'utf8'))).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
    writeFileSync(join(dir, 'token'), 'exec-2');
    accepted = ['exec-1', 'exec-2'];
    now = Date.parse('2026-01-01T00:14:55Z');
    await c.getNode('node-a');
    expect(runs()).toBe(2);
    expect(api.requests.map((r) => r.authorization)).toEqual(['Bearer exec-1', 'Bearer exec-1', 'Bearer exec-2']);
  });

  it('provideClusterInfo: the plugin is told the cluster (server, CA, TLS name, its exec extension) in KUBERNETES_EXEC_INFO', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca }, tokens: () => ['exec-1'] });
    plugin();
    writeFileSync(join(dir, 'token'), 'exec-1');
    writeFileSync(join(dir, 'ca.pem'), tls.ca);
    const user = `${execUser('client.authentication.k8s.io/v1', { API: 'client.authentication.k8s.io/v1', EXTRA: '' })}\n  provideClusterInfo: true`;
    const cluster = [`server: ${api.url}`, 'certificate-authority: ca.pem', 'tls-server-name: localhost', 'extensions:', '- name: client.authentication.k8s.io/exec', '  extension:', '    audience: vpcnet-tests'].join('\n');
    await expect(client(writeKubeconfig(cluster, user)).getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(JSON.parse(readFileSync(join(dir, 'info'), 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: { server: api.url, 'tls-server-name': 'localhost', 'certificate-authority-data': b64(tls.ca), config: { audience: 'vpcnet-tests' } },
      },
    });
  });

  it('v1beta1 without an expiry: cached until the server answers 401, then run again', async () => {
    let accepted = ['exec-1'];
    const api = await server({ tokens: () => accepted });
    plugin();
    writeFileSync(join(dir, 'token'), 'exec-1');
    const path = writeKubeconfig(`server: ${api.url}`, execUser('client.authentication.k8s.io/v1beta1', { API: 'client.authentication.k8s.io/v1beta1', EXTRA: '' }));
    const c = client(path);
    await Promise.all([c.getNode('node-a'), c.getNode('node-a'), c.listPods({})]);
    expect(runs()).toBe(1);
    writeFileSync(join(dir, 'token'), 'exec-2');
    accepted = ['exec-2'];
    await expect(c.getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(runs()).toBe(2);
  });

  it('a plugin may answer with a client certificate', async () => {
    const api = await server({ tls: { key: tls.key, cert: tls.cert, ca: tls.ca, clientCa: tls.ca } });
    plugin();
    const cert = tls.client('exec-user');
    writeFileSync(join(dir, 'out.json'), JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { clientCertificateData: cert.cert, clientKeyData: cert.key } }));
    const path = writeKubeconfig(`server: ${api.url}\ncertificate-authority-data: ${b64(tls.ca)}`, execUser('client.authentication.k8s.io/v1', { OUT_FILE: join(dir, 'out.json') }));
    await expect(client(path).getNode('node-a')).resolves.toMatchObject({ name: 'node-a' });
    expect(api.clientCertNames).toEqual(['exec-user']);
  });

  it('a failing or missing plugin is K8S_UNAVAILABLE naming it; an unknown apiVersion is CONFIG_INVALID', async () => {
    const api = await server({});
    plugin();
    const failing = writeKubeconfig(`server: ${api.url}`, execUser('client.authentication.k8s.io/v1', { FAIL: 'ExpiredToken: the security token included in the request is expired' }));
    await expect(client(failing).getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE', message: expect.stringContaining('ExpiredToken') });
    const missing = writeKubeconfig(`server: ${api.url}`, execUser('client.authentication.k8s.io/v1', {}, 'k8l-no-such-plugin'));
    await expect(client(missing).getNode('node-a')).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE', message: expect.stringContaining('install the token helper') });
    const old = writeKubeconfig(`server: ${api.url}`, execUser('client.authentication.k8s.io/v1alpha1', {}));
    expect(() => kubeconfigFileTarget(old)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('v1alpha1') }));
    expect(api.requests).toEqual([]);
  });
});
