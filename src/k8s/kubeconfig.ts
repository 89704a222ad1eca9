// Where the API server is and how to authenticate to it: the in-cluster service account or a
// kubeconfig (current-context; server, CA, insecure-skip-tls-verify, tls-server-name; client
// certificate, token, tokenFile, username/password, exec plugins). Parsed here with js-yaml
// rather than @kubernetes/client-node's KubeConfig, whose module pulls the whole generated API
// (docs/architecture.md, "A lean agent"). Any problem is one CONFIG_INVALID naming the field.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';
import { VpcnetError } from '../errors.ts';
import { execCredentials, type ExecConfig } from './kube-exec-credential.ts';

/** What one request carries: a bearer token and/or a client certificate (PEM). */
export interface RequestAuth {
  token?: string;
  basic?: string;
  cert?: string;
  key?: string;
}

export interface KubeCredentials {
  get(): Promise<RequestAuth>;
  /** The server answered 401: forget cached credentials so the next get() fetches new ones. */
  invalidate(): void;
}

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
/** Bound service account tokens rotate (the kubelet rewrites the file); client-go re-reads each minute. */
export const TOKEN_FILE_REREAD_MS = 60_000;

const invalid = (message: string, details: Record<string, unknown>, cause?: unknown): VpcnetError =>
  new VpcnetError('CONFIG_INVALID', message, { details, ...(cause !== undefined ? { cause } : {}) });

/** A token read from a file, re-read when older than TOKEN_FILE_REREAD_MS or after a 401. */
export function tokenFileCredentials(path: string, now: () => number = Date.now): KubeCredentials {
  let cached: { token: string; at: number } | undefined;
  return {
    async get() {
      if (!cached || now() - cached.at >= TOKEN_FILE_REREAD_MS) {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          // A token that cannot be read now may be mid-rotation: keep the last one if there is one.
          if (cached) return { token: cached.token };
          throw invalid(`cannot read the Kubernetes token file ${path}`, { path }, err);
        }
        cached = { token: text.trim(), at: now() };
      }
      return { token: cached.token };
    },
    invalidate() {
      if (cached) cached.at = -Infinity;
    },
  };
}

const fixed = (auth: RequestAuth): KubeCredentials => ({ get: () => Promise.resolve(auth), invalidate: () => undefined });

export function inClusterTarget(src: InClusterSource, now?: () => number): KubeTarget {
  const dir = src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = src.host.includes(':') ? `[${src.host}]` : src.host;
  let ca: string;
  try {
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch (err) {
    throw invalid(`cannot read the service account CA ${join(dir, 'ca.crt')}`, { path: join(dir, 'ca.crt') }, err);
  }
  return { server: new URL(`https://${host}:${src.port}`), ca, rejectUnauthorized: true, credentials: tokenFileCredentials(join(dir, 'token'), now) };
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
  const file = (field: string, v: unknown): string => {
    const p = String(v);
    const full = isAbsolute(p) ? p : join(base, p);
    try {
      return readFileSync(full, 'utf8');
    } catch (err) {
      throw invalid(`kubeconfig ${path}: cannot read ${field} ${full}`, { path, field }, err);
    }
  };
  const b64 = (v: unknown): string => Buffer.from(String(v), 'base64').toString('utf8');
  const pem = (obj: Doc, dataKey: string, fileKey: string): string | undefined =>
    str(obj[dataKey]) ? b64(obj[dataKey]) : str(obj[fileKey]) ? file(fileKey, obj[fileKey]) : undefined;

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
  const certPart = cert !== undefined && key !== undefined ? { cert, key } : {};

  let credentials: KubeCredentials;
  if (user['exec'] !== undefined) {
    credentials = execCredentials(user['exec'] as ExecConfig, { path, base, ...(now ? { now } : {}) }, certPart);
  } else if (str(user['token'])) {
    credentials = fixed({ token: String(user['token']), ...certPart });
  } else if (str(user['tokenFile'])) {
    const tf = String(user['tokenFile']);
    const tokens = tokenFileCredentials(isAbsolute(tf) ? tf : join(base, tf), now);
    credentials = { get: async () => ({ ...(await tokens.get()), ...certPart }), invalidate: () => tokens.invalidate() };
  } else if (str(user['username'])) {
    credentials = fixed({ basic: Buffer.from(`${String(user['username'])}:${String(user['password'] ?? '')}`).toString('base64'), ...certPart });
  } else {
    credentials = fixed(certPart);
  }
  return {
    server,
    ...(ca !== undefined ? { ca } : {}),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(servername ? { servername } : {}),
    credentials,
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
