// Where the API server is and how to authenticate to it: the in-cluster service account or a
// kubeconfig (current-context; server, CA, insecure-skip-tls-verify, tls-server-name; client
// certificate, token, tokenFile, username/password, exec plugins). Parsed here with js-yaml,
// not with @kubernetes/client-node's KubeConfig: its exec support sends no KUBERNETES_EXEC_INFO
// and it ignores tokenFile (docs/kubernetes.md). Files (CA, client certificate and key, token)
// are re-read as they rotate. Any problem is one CONFIG_INVALID naming the field.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';
import { VpcnetError } from '../errors.ts';
import { execCredentials, type ExecConfig } from './kube-exec-credential.ts';
import type { KubeCredentials, RequestAuth } from './kube-credentials.ts';

export type { KubeCredentials, RequestAuth } from './kube-credentials.ts';

export interface KubeTarget {
  /** Base URL of the API server (may carry a path prefix, e.g. behind a proxy). */
  server: URL;
  ca?: string;
  rejectUnauthorized: boolean;
  servername?: string;
  credentials: KubeCredentials;
}

export interface InClusterSource {
  /** KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT as the kubelet sets them. */
  host: string;
  port: number;
  /** Where the service account is mounted (tests point it elsewhere). */
  serviceAccountDir?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound service account tokens rotate (the kubelet rewrites the file); client-go re-reads each minute. Certificate and CA files likewise. */
export const TOKEN_FILE_REREAD_MS = 60_000;

const invalid = (message: string, details: Record<string, unknown>, cause?: unknown): VpcnetError =>
  new VpcnetError('CONFIG_INVALID', message, { details, ...(cause !== undefined ? { cause } : {}) });

/** A file's text, re-read when older than TOKEN_FILE_REREAD_MS or after invalidate(); the last good text while it cannot be read. */
export function rereadFile(path: string, what: string, now: () => number = Date.now): { get(): Promise<string>; invalidate(): void } {
  let cached: { text: string; at: number } | undefined;
  return {
    async get() {
      if (!cached || now() - cached.at >= TOKEN_FILE_REREAD_MS) {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          // A file that cannot be read now may be mid-rotation: keep the last one if there is one.
          if (cached) return cached.text;
          throw invalid(`cannot read the Kubernetes ${what} ${path}`, { path }, err);
        }
        cached = { text, at: now() };
      }
      return cached.text;
    },
    invalidate() {
      if (cached) cached.at = -Infinity;
    },
  };
}

/** A token read from a file, re-read when older than TOKEN_FILE_REREAD_MS or after a 401. */
export function tokenFileCredentials(path: string, now?: () => number): KubeCredentials {
  const file = rereadFile(path, 'token file', now);
  return { get: async () => ({ token: (await file.get()).trim() }), invalidate: () => file.invalidate() };
}

const fixed = (auth: RequestAuth): KubeCredentials => ({ get: () => Promise.resolve(auth), invalidate: () => undefined });

export function inClusterTarget(src: InClusterSource, now?: () => number): KubeTarget {
  const dir = src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = src.host.includes(':') ? `[${src.host}]` : src.host;
  const caPath = join(dir, 'ca.crt');
  let ca: string;
  try {
    ca = readFileSync(caPath, 'utf8');
  } catch (err) {
    throw invalid(`cannot read the service account CA ${caPath}`, { path: caPath }, err);
  }
  // The projected CA (kube-root-ca.crt) rotates too: re-read like the token.
  const credentials = withFiles(tokenFileCredentials(join(dir, 'token'), now), { ca: { text: ca, file: rereadFile(caPath, 'service account CA', now) } });
  return { server: new URL(`https://${host}:${src.port}`), rejectUnauthorized: true, credentials };
}

type Doc = Record<string, unknown>;

interface Named {
  name?: unknown;
  [k: string]: unknown;
}

function pick(doc: Doc, list: string, key: string, name: string, path: string): Doc {
  const items = doc[list];
  if (!Array.isArray(items)) throw invalid(`kubeconfig ${path}: no ${list}`, { path, field: list });
  const found = (items as Named[]).find((i) => i?.name === name);
  const inner = found?.[key];
  if (!found || typeof inner !== 'object' || inner === null) throw invalid(`kubeconfig ${path}: ${list} has no entry "${name}"`, { path, field: `${list}[${name}]` });
  return inner as Doc;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Parses a kubeconfig and resolves its current context. `path` resolves relative file names (as kubectl does). */
export function kubeconfigTarget(text: string, path: string, now?: () => number): KubeTarget {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.JSON_SCHEMA });
  } catch (err) {
    throw invalid(`kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { path }, err);
  }
  if (typeof doc !== 'object' || doc === null) throw invalid(`kubeconfig ${path} is empty or not a mapping`, { path });
  const d = doc as Doc;
  const contextName = str(d['current-context']);
  if (!contextName) throw invalid(`kubeconfig ${path} has no current-context`, { path, field: 'current-context' });
  const context = pick(d, 'contexts', 'context', contextName, path);
  const clusterName = str(context['cluster']);
  if (!clusterName) throw invalid(`kubeconfig ${path}: context "${contextName}" names no cluster`, { path, field: `contexts[${contextName}].cluster` });
  const cluster = pick(d, 'clusters', 'cluster', clusterName, path);
  const userName = str(context['user']);
  const user = userName ? pick(d, 'users', 'user', userName, path) : {};

  const base = dirname(path);
  const abs = (p: unknown): string => (isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const b64 = (v: unknown): string => Buffer.from(String(v), 'base64').toString('utf8');
  /** Inline -data, or a file checked once now (a typo fails at load) and re-read as it rotates. */
  const pem = (obj: Doc, dataKey: string, fileKey: string): PemSource | undefined => {
    if (str(obj[dataKey])) return { text: b64(obj[dataKey]) };
    if (!str(obj[fileKey])) return undefined;
    const full = abs(obj[fileKey]);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (err) {
      throw invalid(`kubeconfig ${path}: cannot read ${fileKey} ${full}`, { path, field: fileKey }, err);
    }
    return { text, file: rereadFile(full, fileKey, now) };
  };

  const serverText = str(cluster['server']);
  if (!serverText) throw invalid(`kubeconfig ${path}: cluster "${clusterName}" has no server`, { path, field: `clusters[${clusterName}].server` });
  let server: URL;
  try {
    server = new URL(serverText);
  } catch (err) {
    throw invalid(`kubeconfig ${path}: server ${serverText} is not a URL`, { path, field: `clusters[${clusterName}].server` }, err);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw invalid(`kubeconfig ${path}: server ${serverText} is not http(s)`, { path });
  if (str(cluster['proxy-url'])) throw invalid(`kubeconfig ${path}: proxy-url is not supported`, { path, field: `clusters[${clusterName}].proxy-url` });
  for (const k of ['auth-provider', 'impersonate']) {
    if (user[k] !== undefined) throw invalid(`kubeconfig ${path}: user "${userName}" uses ${k}, which vpcnet does not support (use exec or a token)`, { path, field: `users[${userName}].${k}` });
  }

  const ca = pem(cluster, 'certificate-authority-data', 'certificate-authority');
  const servername = str(cluster['tls-server-name']);
  const cert = pem(user, 'client-certificate-data', 'client-certificate');
  const key = pem(user, 'client-key-data', 'client-key');
  if ((cert === undefined) !== (key === undefined)) throw invalid(`kubeconfig ${path}: user "${userName}" has a client certificate without its key or the reverse`, { path });
  const files = { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };

  let credentials: KubeCredentials;
  if (user['exec'] !== undefined) {
    // spec.cluster of KUBERNETES_EXEC_INFO (client.authentication.k8s.io Cluster), for plugins that set provideClusterInfo.
    const clusterInfo = {
      server: serverText,
      ...(servername ? { 'tls-server-name': servername } : {}),
      ...(cluster['insecure-skip-tls-verify'] === true ? { 'insecure-skip-tls-verify': true } : {}),
      ...(ca ? { 'certificate-authority-data': Buffer.from(ca.text).toString('base64') } : {}),
      ...(execExtension(cluster) !== undefined ? { config: execExtension(cluster) } : {}),
    };
    credentials = execCredentials(user['exec'] as ExecConfig, { path, base, cluster: clusterInfo, ...(now ? { now } : {}) });
  } else if (str(user['token'])) {
    credentials = fixed({ token: String(user['token']) });
  } else if (str(user['tokenFile'])) {
    credentials = tokenFileCredentials(abs(user['tokenFile']), now);
  } else if (str(user['username'])) {
    credentials = fixed({ basic: Buffer.from(`${String(user['username'])}:${String(user['password'] ?? '')}`).toString('base64') });
  } else {
    credentials = fixed({});
  }
  return {
    server,
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(servername ? { servername } : {}),
    credentials: withFiles(credentials, files),
  };
}

interface PemSource {
  text: string;
  /** Set when the PEM came from a file: re-read as it rotates. */
  file?: { get(): Promise<string>; invalidate(): void };
}

/** The cluster's `client.authentication.k8s.io/exec` extension, handed to plugins as spec.cluster.config. */
function execExtension(cluster: Doc): unknown {
  const list = cluster['extensions'];
  return Array.isArray(list) ? (list as Named[]).find((e) => e?.name === 'client.authentication.k8s.io/exec')?.['extension'] : undefined;
}

/** Adds the CA and the kubeconfig's client certificate to each request, current as their files rotate; a plugin's own certificate wins. */
function withFiles(base: KubeCredentials, files: { ca?: PemSource; cert?: PemSource; key?: PemSource }): KubeCredentials {
  const read = async (s: PemSource | undefined): Promise<string | undefined> => (s ? ((await s.file?.get()) ?? s.text) : undefined);
  return {
    async get() {
      const [auth, ca, cert, key] = await Promise.all([base.get(), read(files.ca), read(files.cert), read(files.key)]);
      return { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined && key !== undefined ? { cert, key } : {}), ...auth };
    },
    invalidate() {
      base.invalidate();
      for (const s of [files.ca, files.cert, files.key]) s?.file?.invalidate();
    },
  };
}

export function kubeconfigFileTarget(path: string, now?: () => number): KubeTarget {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`cannot read kubeconfig ${path}`, { path }, err);
  }
  return kubeconfigTarget(text, path, now);
}
