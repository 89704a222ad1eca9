// The GCE metadata server of one instance: /computeMetadata/v1/... with the Metadata-Flavor
// header checked on the way in and set on the way out, recursive=true JSON trees (camelCase
// keys; paths are dashed), alt=json|text, directory listings, wait_for_change with ETags, and
// the service account token endpoint.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GceState, Instance } from './state.ts';

/**
 * A list the server answers as one value, not as a directory: `json` always as a JSON array
 * whatever `alt` says (instance/tags), `lines` as text one item a line (service account scopes).
 */
class Leaf {
  readonly value: string[];
  readonly as: 'json' | 'lines';
  constructor(value: string[], as: 'json' | 'lines') {
    this.value = value;
    this.as = as;
  }
  toJSON(): unknown {
    return this.value;
  }
  text(): string {
    return this.as === 'json' ? JSON.stringify(this.value) : this.value.map((v) => `${v}\n`).join('');
  }
}

type Tree = { [k: string]: Tree | Tree[] | string | number | boolean | Leaf } | Tree[] | string | number | boolean | Leaf;

export interface TokenIssuer {
  issue(instance: string): { token: string; expiresIn: number };
}

export class TokenStore implements TokenIssuer {
  private readonly tokens = new Map<string, string>();

  issue(instance: string): { token: string; expiresIn: number } {
    const token = `ya29.emu-${randomBytes(18).toString('base64url')}`;
    this.tokens.set(token, instance);
    return { token, expiresIn: 3599 };
  }

  /** The instance a token was issued to, if we issued it. */
  holder(token: string): string | undefined {
    return this.tokens.get(token);
  }
}

function maskOf(prefixLength: number): string {
  const v = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

export function instanceTree(s: GceState, inst: Instance): Tree {
  return {
    attributes: {},
    hostname: `${inst.name}.${inst.zone}.c.${s.project}.internal`,
    id: inst.id,
    machineType: `projects/${s.projectNumber}/machineTypes/${inst.machineType}`,
    name: inst.name,
    networkInterfaces: inst.nics.map((n) => ({
      accessConfigs: n.externalIp ? [{ externalIp: n.externalIp, type: 'ONE_TO_ONE_NAT' }] : [],
      dnsServers: ['169.254.169.254'],
      forwardedIps: [],
      gateway: n.subnet.gatewayAddress,
      ip: n.networkIP,
      ipAliases: n.aliasIpRanges.map((r) => r.ipCidrRange),
      mac: n.mac,
      mtu: n.mtu,
      network: `projects/${s.projectNumber}/networks/${n.network}`,
      subnetmask: maskOf(Number(n.subnet.ipCidrRange.split('/')[1])),
      targetInstanceIps: [],
    })),
    tags: new Leaf([...inst.tags], 'json'),
    // listed under "default" and under its email, as GCE does (gcloud reads <account>/email of each)
    serviceAccounts: { default: serviceAccount(s), [serviceAccountEmail(s)]: serviceAccount(s) },
    zone: `projects/${s.projectNumber}/zones/${inst.zone}`,
  };
}

function serviceAccountEmail(s: GceState): string {
  return `vpcnet@${s.project}.iam.gserviceaccount.com`;
}

function serviceAccount(s: GceState): Tree {
  return { aliases: new Leaf(['default'], 'lines'), email: serviceAccountEmail(s), scopes: new Leaf(['https://www.googleapis.com/auth/compute'], 'lines') };
}

function rootTree(s: GceState, inst: Instance): Tree {
  return {
    instance: instanceTree(s, inst),
    project: { attributes: {}, numericProjectId: s.projectNumber, projectId: s.project },
    universe: { universeDomain: 'googleapis.com' },
  };
}

const dashed = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function child(node: Tree, seg: string): Tree | undefined {
  if (Array.isArray(node)) return /^\d+$/.test(seg) ? node[Number(seg)] : undefined;
  if (node === null || typeof node !== 'object' || node instanceof Leaf) return undefined;
  for (const [k, v] of Object.entries(node)) if (dashed(k) === seg) return v;
  return undefined;
}

function isDir(node: Tree): boolean {
  return typeof node === 'object' && node !== null && !(node instanceof Leaf);
}

function listing(node: Tree): string {
  const keys = Array.isArray(node) ? node.map((v, i) => ({ k: String(i), v })) : Object.entries(node as Record<string, Tree>).map(([k, v]) => ({ k: dashed(k), v }));
  return keys.map(({ k, v }) => (isDir(v) ? `${k}/` : k)).join('\n') + (keys.length ? '\n' : '');
}

function textOf(node: Tree, prefix = ''): string {
  if (node instanceof Leaf) return `${prefix}${node.text()}`;
  if (!isDir(node)) return `${prefix}${String(node)}`;
  const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node as Record<string, Tree>).map(([k, v]) => [dashed(k), v] as const);
  return entries.map(([k, v]) => (isDir(v) ? textOf(v, `${prefix}${k}/`) : `${prefix}${k} ${v instanceof Leaf ? v.text().trimEnd() : String(v)}`)).join('\n');
}

/** The real server writes ids as bare JSON integers beyond float precision; so do we. */
function rawIds(json: string): string {
  return json.replace(/"(id|numericProjectId)":"(\d+)"/g, '"$1":$2');
}

export function etagOf(node: Tree | undefined): string {
  return createHash('sha256').update(JSON.stringify(node ?? null)).digest('hex').slice(0, 16);
}

function send(res: ServerResponse, status: number, body: string, type: string, etag?: string): void {
  res.writeHead(status, {
    'Metadata-Flavor': 'Google',
    'Content-Type': type,
    Server: 'Metadata Server for VM',
    ...(etag ? { ETag: etag } : {}),
  });
  res.end(body);
}

export interface MetadataDeps {
  state: GceState;
  tokens: TokenIssuer;
  /** Sleeps emulated ms (wait_for_change timeouts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Serves one request; `path` starts at /computeMetadata/... */
export async function serveMetadata(deps: MetadataDeps, zoneAndName: { zone: string; name: string } | undefined, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
  if (req.headers['x-forwarded-for'] !== undefined) {
    return send(res, 403, '<html><body>Request had an X-Forwarded-For header and was rejected.</body></html>\n', 'text/html; charset=UTF-8');
  }
  if (req.headers['metadata-flavor'] !== 'Google') {
    return send(res, 403, '<html><body>Missing Metadata-Flavor:Google header.</body></html>\n', 'text/html; charset=UTF-8');
  }
  if (path === '/' || path === '') return send(res, 200, 'computeMetadata/\n', 'application/text');
  if (path === '/computeMetadata/' || path === '/computeMetadata') return send(res, 200, 'v1/\n', 'application/text');
  if (!path.startsWith('/computeMetadata/v1')) return send(res, 404, '<html><body>Not found</body></html>', 'text/html; charset=UTF-8');
  const find = (): Instance | undefined => (zoneAndName ? deps.state.instances.get(`${zoneAndName.zone}/${zoneAndName.name}`) : undefined);
  const inst = find();
  if (!inst) return send(res, 404, '<html><body>Not found: no such instance</body></html>', 'text/html; charset=UTF-8');
  const segs = path.slice('/computeMetadata/v1'.length).split('/').filter(Boolean);

  if (segs.join('/') === 'instance/service-accounts/default/token' || /^instance\/service-accounts\/[^/]+\/token$/.test(segs.join('/'))) {
    const t = deps.tokens.issue(inst.name);
    return send(res, 200, JSON.stringify({ access_token: t.token, expires_in: t.expiresIn, token_type: 'Bearer' }), 'application/json');
  }

  const lookup = (i: Instance): Tree | undefined => {
    let node: Tree | undefined = rootTree(deps.state, i);
    for (const seg of segs) {
      node = node === undefined ? undefined : child(node, seg);
    }
    return node;
  };

  let node = lookup(inst);
  if (node === undefined) return send(res, 404, '<html><body>Not found</body></html>', 'text/html; charset=UTF-8');
  if (query.get('wait_for_change') === 'true') {
    const last = query.get('last_etag') ?? undefined;
    const timeoutSec = Number(query.get('timeout_sec') ?? '300');
    const deadline = new AbortController();
    const timer = deps.sleep(Math.max(0, timeoutSec) * 1000, deadline.signal).then(
      () => 'timeout' as const,
      () => 'aborted' as const,
    );
    try {
      // no last_etag: wait for the next change of this value
      const initial = last ?? etagOf(node);
      while (etagOf(node) === initial) {
        const changed = new Promise<'change'>((resolve) => deps.state.events.once('change', () => resolve('change')));
        const closed = new Promise<'closed'>((resolve) => req.once('close', () => resolve('closed')));
        const why = await Promise.race([changed, timer, closed]);
        if (why === 'closed') return;
        const cur = find();
        node = cur ? lookup(cur) : undefined;
        if (node === undefined) return send(res, 404, '<html><body>Not found</body></html>', 'text/html; charset=UTF-8');
        if (why === 'timeout') break;
      }
    } finally {
      deadline.abort();
    }
  }
  const etag = etagOf(node);
  const recursive = query.get('recursive') === 'true';
  const alt = query.get('alt') ?? (recursive ? 'json' : 'text');
  if (isDir(node) && !recursive) {
    if (alt === 'json') return send(res, 200, JSON.stringify(Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node).map((k) => dashed(k))), 'application/json', etag);
    return send(res, 200, listing(node), 'application/text', etag);
  }
  if (alt === 'json' || (node instanceof Leaf && node.as === 'json')) return send(res, 200, rawIds(JSON.stringify(node)), 'application/json', etag);
  return send(res, 200, textOf(node), 'application/text', etag);
}
