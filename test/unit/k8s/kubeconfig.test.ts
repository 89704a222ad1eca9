// Kubeconfig parsing: what a user's file resolves to, and each mistake as one CONFIG_INVALID
// that names the file and the field (the agent reports it on every Kubernetes call).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { inClusterTarget, kubeconfigFileTarget, kubeconfigTarget, TOKEN_FILE_REREAD_MS } from '../../../src/k8s/kubeconfig.ts';
import { lazyKubeClient } from '../../../src/k8s/lazy-kube-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'k8l-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = (over: { cluster?: object; user?: object; context?: object; current?: string } = {}): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': over.current ?? 'ctx',
    contexts: [
      { name: 'other', context: { cluster: 'nowhere', user: 'nobody' } },
      { name: 'ctx', context: { cluster: 'c', user: 'u', ...over.context } },
    ],
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', ...over.cluster } }],
    users: [{ name: 'u', user: { token: 't0k', ...over.user } }],
  });

describe('kubeconfig', () => {
  it('resolves the current context: server, CA, TLS name, token', async () => {
    const t = kubeconfigTarget(doc({ cluster: { 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), 'tls-server-name': 'api.internal' } }), '/etc/kubeconfig');
    expect(t.server.href).toBe('https://10.0.0.1:6443/');
    expect(t).toMatchObject({ rejectUnauthorized: true, servername: 'api.internal' });
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'CA PEM', token: 't0k' });
  });

  it('reads tokenFile and certificate files relative to the kubeconfig, username/password as basic auth', async () => {
    writeFileSync(join(dir, 'token'), 'from-file\n');
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'c.key'), 'KEY');
    const t = kubeconfigTarget(doc({ user: { token: undefined, tokenFile: 'token', 'client-certificate': 'c.pem', 'client-key': 'c.key' } }), join(dir, 'config'));
    await expect(t.credentials.get()).resolves.toEqual({ token: 'from-file', cert: 'CERT', key: 'KEY' });
    const basic = kubeconfigTarget(doc({ user: { token: undefined, username: 'admin', password: 'pw' } }), '/x/config');
    await expect(basic.credentials.get()).resolves.toEqual({ basic: Buffer.from('admin:pw').toString('base64') });
  });

  it('in a pod: https to the service address (IPv6 in brackets), the mounted CA', async () => {
    writeFileSync(join(dir, 'ca.crt'), 'SA CA');
    writeFileSync(join(dir, 'token'), 'sa-token');
    const t = inClusterTarget({ host: 'fd00::1', port: 443, serviceAccountDir: dir });
    expect(t.server.href).toBe('https://[fd00::1]/');
    expect(t).toMatchObject({ rejectUnauthorized: true });
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'SA CA', token: 'sa-token' });
  });

  it('CA and client certificate files are re-read as they rotate: after the re-read period, and at once after a 401', async () => {
    const rot = mkdtempSync(join(dir, 'rotate-'));
    const put = (ca: string, cert: string, key: string): void => {
      writeFileSync(join(rot, 'ca.pem'), ca);
      writeFileSync(join(rot, 'c.pem'), cert);
      writeFileSync(join(rot, 'c.key'), key);
    };
    put('CA-1', 'CERT-1', 'KEY-1');
    let now = 0;
    const t = kubeconfigTarget(doc({ cluster: { 'certificate-authority': 'ca.pem' }, user: { token: undefined, 'client-certificate': 'c.pem', 'client-key': 'c.key' } }), join(rot, 'config'), () => now);
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'CA-1', cert: 'CERT-1', key: 'KEY-1' });
    put('CA-2', 'CERT-2', 'KEY-2');
    now += TOKEN_FILE_REREAD_MS - 1;
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'CA-1', cert: 'CERT-1', key: 'KEY-1' });
    now += 1;
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'CA-2', cert: 'CERT-2', key: 'KEY-2' });
    put('CA-3', 'CERT-3', 'KEY-3');
    t.credentials.invalidate();
    await expect(t.credentials.get()).resolves.toEqual({ ca: 'CA-3', cert: 'CERT-3', key: 'KEY-3' });
  });

  it.each([
    ['not YAML', 'clusters: [\n  - {', 'not valid YAML'],
    ['no current-context', doc({ current: '' }), 'no current-context'],
    ['a context that does not exist', doc({ current: 'gone' }), 'contexts has no entry "gone"'],
    ['a cluster without a server', doc({ cluster: { server: '' } }), 'has no server'],
    ['a server that is not a URL', doc({ cluster: { server: '10.0.0.1:6443/x y' } }), 'is not'],
    ['a certificate without its key', doc({ user: { 'client-certificate-data': 'Q0VSVA==' } }), 'without its key'],
    ['an unreadable CA file', doc({ cluster: { 'certificate-authority': 'missing-ca.pem' } }), 'cannot read certificate-authority'],
    ['a legacy auth-provider', doc({ user: { token: undefined, 'auth-provider': { name: 'gcp' } } }), 'auth-provider'],
    ['a proxy', doc({ cluster: { 'proxy-url': 'http://proxy:3128' } }), 'proxy-url'],
  ])('%s is one CONFIG_INVALID naming the file', (_what, text, says) => {
    const path = join(dir, 'bad-config');
    let err: unknown;
    try {
      kubeconfigTarget(text, path);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(says) });
    expect((err as Error).message).toContain(path);
  });

  it('a missing file fails every call of the agent client with that CONFIG_INVALID, never a crash', async () => {
    expect(() => kubeconfigFileTarget(join(dir, 'absent'))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const c = lazyKubeClient({ kubeconfig: join(dir, 'absent'), servicePort: 443, requestTimeoutMs: 1000 });
    await expect(c.getNode('n')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('absent') });
    await expect(c.listPods({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const nowhere = lazyKubeClient({ servicePort: 443, requestTimeoutMs: 1000 });
    await expect(nowhere.getNode('n')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('KUBERNETES_SERVICE_HOST') });
  });
});
