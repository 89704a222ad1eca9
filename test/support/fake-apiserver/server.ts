// A small but faithful Kubernetes API server for tests: real HTTP, real JSON, real watch
// streams, resourceVersion semantics (410 Gone after compaction, 409 on stale writes),
// the status subresource, three patch formats, and an outage switch. The real
// agent's client (and @kubernetes/client-node, its reference) talk to it through kubeconfig().
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError, type Matcher } from './selectors.ts';

export type Obj = Record<string, unknown>;

interface ResourceDef {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  hasStatus: boolean;
}

export const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, hasStatus: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, hasStatus: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, hasStatus: false },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, hasStatus: false },
  { group: 'vpcnet.io', version: 'v1alpha1', plural: 'nodenetworkconfigs', kind: 'NodeNetworkConfig', namespaced: false, hasStatus: false },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true, hasStatus: false },
];

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEntry {
  rv: number;
  res: string;
  type: EventType;
  obj: Obj;
  prev?: Obj;
}

interface Watcher {
  res: string;
  namespace?: string;
  match: Matcher;
  bookmarks: boolean;
  res_: ServerResponse;
  def: ResourceDef;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
  /** The Authorization header as sent. */
  authorization?: string;
}

interface Fault {
  method?: string;
  pathIncludes: string;
  status: number;
  remaining: number;
}

const resKey = (d: ResourceDef): string => `${d.group}/${d.version}/${d.plural}`;
const objKey = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;
const meta = (o: Obj): Obj => (o['metadata'] ??= {}) as Obj;
const apiVersionOf = (d: ResourceDef): string => (d.group ? `${d.group}/${d.version}` : d.version);

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

class HttpError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

/** What RBAC decides on, as the API server's authorizer sees a request. */
export interface RequestAttributes {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface FakeApiServerOptions {
  /** When set, requests it refuses get 403 Forbidden (e.g. the shipped ClusterRole's rules). */
  authorize?: (attrs: RequestAttributes) => boolean;
  /** Send a BOOKMARK to bookmark-enabled watches this often (0: only when sendBookmarks() is called). */
  bookmarkIntervalMs?: number;
  /** Keep at most this many history entries; older watch resourceVersions get 410 Gone. */
  historyLimit?: number;
  /** Serve HTTPS with this certificate; with clientCa, a client certificate it signed authenticates. */
  tls?: { key: string; cert: string; ca: string; clientCa?: string };
  /** Bearer tokens accepted right now (default: fake-token); asked on every request, so a test can rotate them. */
  tokens?: () => string[];
}

export class FakeApiServer {
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: HistoryEntry[] = [];
  private rv = 100;
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly faults: Fault[] = [];
  private holding = false;
  private stalling = false;
  private parked: (() => void)[] = [];
  private server: Server | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private portValue = 0;
  readonly requests: RecordedRequest[] = [];
  private readonly opts: Required<Omit<FakeApiServerOptions, 'authorize' | 'tls' | 'tokens'>> & FakeApiServerOptions;
  readonly denied: RequestAttributes[] = [];

  constructor(opts: FakeApiServerOptions = {}) {
    this.opts = { bookmarkIntervalMs: 0, historyLimit: 10_000, ...opts };
    for (const d of RESOURCES) this.objects.set(resKey(d), new Map());
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.portValue}`;
  }

  /** A kubeconfig (YAML is a superset of JSON) pointing at this server. */
  kubeconfig(user: Record<string, unknown> = { token: 'fake-token' }): string {
    const tls = this.opts.tls;
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP on loopback; client-node demands this flag to allow it.
      clusters: [
        {
          name: 'fake',
          cluster: tls ? { server: this.url, 'certificate-authority-data': Buffer.from(tls.ca).toString('base64') } : { server: this.url, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'vpcnet', user }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'vpcnet' } }],
      'current-context': 'fake',
    });
  }

  async start(port = 0): Promise<void> {
    const tls = this.opts.tls;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) }, handler)
      : createServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address();
    if (addr && typeof addr === 'object') this.portValue = addr.port;
    if (this.opts.bookmarkIntervalMs > 0) {
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.opts.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
  }

  /** Outage: stop listening and cut every connection, watches included. State is kept. */
  async down(): Promise<void> {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    const server = this.server;
    this.server = undefined;
    this.parked = [];
    for (const w of this.watchers) w.res_.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Back after an outage, on the same port. */
  async up(): Promise<void> {
    await this.start(this.portValue);
  }

  async stop(): Promise<void> {
    await this.down();
  }

  /** Client CNs seen on verified client certificates, in order. */
  readonly clientCertNames: string[] = [];

  private authenticated(req: IncomingMessage): boolean {
    const sock = req.socket as TLSSocket;
    if (this.opts.tls?.clientCa && sock.authorized) {
      const cn = sock.getPeerCertificate().subject?.CN;
      this.clientCertNames.push(String(cn));
      return true;
    }
    const tokens = this.opts.tokens?.() ?? ['fake-token'];
    const auth = req.headers['authorization'] ?? '';
    return tokens.some((t) => auth === `Bearer ${t}`);
  }

  // ---- test controls ----

  /** The next `count` requests whose path includes `pathIncludes` fail with `status`. */
  failNext(pathIncludes: string, statusCode: number, count = 1, method?: string): void {
    this.faults.push({ pathIncludes, status: statusCode, remaining: count, ...(method ? { method } : {}) });
  }

  /** A hung server: while stalled, requests are read but never answered. */
  stall(on: boolean): void {
    this.stalling = on;
  }

  /** While held, new watch requests wait unanswered; release() serves them with the state then. */
  holdWatches(): void {
    this.holding = true;
  }

  releaseWatches(): void {
    this.holding = false;
    for (const serve of this.parked.splice(0)) serve();
  }

  get parkedWatches(): number {
    return this.parked.length;
  }

  /** Forget history: watches from any older resourceVersion now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Ends every open watch stream cleanly, as the server does at its timeout. */
  closeWatches(): void {
    for (const w of this.watchers) w.res_.end();
    this.watchers.clear();
  }

  sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      this.writeEvent(w, 'BOOKMARK', {
        kind: w.def.kind,
        apiVersion: apiVersionOf(w.def),
        metadata: { resourceVersion: String(this.rv) },
      });
    }
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  list(plural: string, group = ''): Obj[] {
    const d = this.def(group, plural);
    return [...(this.objects.get(resKey(d))?.values() ?? [])].map((o) => structuredClone(o));
  }

  get(plural: string, name: string, namespace?: string, group = ''): Obj | undefined {
    const d = this.def(group, plural);
    const o = this.objects.get(resKey(d))?.get(objKey(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Creates or replaces an object as a controller would (emits watch events). */
  upsert(plural: string, obj: Obj, group = ''): Obj {
    const d = this.def(group, plural);
    const m = meta(obj);
    const key = objKey(d.namespaced ? String(m['namespace'] ?? 'default') : undefined, String(m['name']));
    const prev = this.objects.get(resKey(d))?.get(key);
    return prev ? this.commitUpdate(d, key, { ...obj, metadata: { ...meta(prev), ...m } }, prev) : this.create(d, obj);
  }

  remove(plural: string, name: string, namespace?: string, group = ''): void {
    const d = this.def(group, plural);
    this.delete(d, objKey(d.namespaced ? (namespace ?? 'default') : undefined, name));
  }

  // ---- storage ----

  private def(group: string, plural: string): ResourceDef {
    const d = RESOURCES.find((r) => r.group === group && r.plural === plural);
    if (!d) throw new Error(`unknown resource ${group}/${plural}`);
    return d;
  }

  private record(d: ResourceDef, type: EventType, obj: Obj, prev?: Obj): void {
    const entry: HistoryEntry = { rv: this.rv, res: resKey(d), type, obj, ...(prev ? { prev } : {}) };
    this.history.push(entry);
    if (this.history.length > this.opts.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.compactedRv = dropped.rv;
    }
    for (const w of this.watchers) if (w.res === entry.res) this.deliver(w, entry);
  }

  private create(d: ResourceDef, input: Obj): Obj {
    const obj = structuredClone(input);
    const m = meta(obj);
    if (!m['name']) throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
    if (d.namespaced) m['namespace'] ??= 'default';
    const key = objKey(d.namespaced ? String(m['namespace']) : undefined, String(m['name']));
    const store = this.objects.get(resKey(d)) as Map<string, Obj>;
    if (store.has(key)) throw new HttpError(409, 'AlreadyExists', `${d.plural} "${String(m['name'])}" already exists`);
    this.rv++;
    m['uid'] ??= randomUUID();
    m['resourceVersion'] = String(this.rv);
    m['creationTimestamp'] ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    obj['kind'] = d.kind;
    obj['apiVersion'] = apiVersionOf(d);
    store.set(key, obj);
    this.record(d, 'ADDED', structuredClone(obj));
    return structuredClone(obj);
  }

  private commitUpdate(d: ResourceDef, key: string, next: Obj, prev: Obj): Obj {
    const m = meta(next);
    const pm = meta(prev);
    if (m['resourceVersion'] !== undefined && m['resourceVersion'] !== pm['resourceVersion']) {
      throw new HttpError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${d.plural} "${String(pm['name'])}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    // Identity fields are the server's.
    m['name'] = pm['name'];
    m['uid'] = pm['uid'];
    m['creationTimestamp'] = pm['creationTimestamp'];
    if (d.namespaced) m['namespace'] = pm['namespace'];
    next['kind'] = d.kind;
    next['apiVersion'] = apiVersionOf(d);
    if (JSON.stringify(next) === JSON.stringify(prev)) return structuredClone(prev); // no-op write
    this.rv++;
    m['resourceVersion'] = String(this.rv);
    (this.objects.get(resKey(d)) as Map<string, Obj>).set(key, next);
    this.record(d, 'MODIFIED', structuredClone(next), structuredClone(prev));
    return structuredClone(next);
  }

  private delete(d: ResourceDef, key: string): Obj {
    const store = this.objects.get(resKey(d)) as Map<string, Obj>;
    const prev = store.get(key);
    if (!prev) throw new HttpError(404, 'NotFound', `${d.plural} "${key.split('/')[1] ?? ''}" not found`);
    store.delete(key);
    this.rv++;
    const gone = structuredClone(prev);
    meta(gone)['resourceVersion'] = String(this.rv);
    this.record(d, 'DELETED', gone, prev);
    return gone;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      const contentType = req.headers['content-type'];
      this.requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        ...(contentType ? { contentType } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(req.headers['authorization'] ? { authorization: req.headers['authorization'] } : {}),
      });
      if (this.stalling) return;
      const fault = this.faults.find(
        (f) => f.remaining > 0 && url.pathname.includes(f.pathIncludes) && (!f.method || f.method === req.method),
      );
      if (fault) {
        fault.remaining--;
        throw new HttpError(fault.status, fault.status === 409 ? 'Conflict' : 'InternalError', 'injected fault');
      }
      if (!this.authenticated(req)) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      this.route(req.method ?? 'GET', url, body, contentType ?? '', res);
    } catch (err) {
      if (res.headersSent) return;
      const e =
        err instanceof HttpError
          ? err
          : err instanceof PatchError
            ? new HttpError(err.status, err.status === 422 ? 'Invalid' : 'BadRequest', err.message)
            : err instanceof SelectorError
              ? new HttpError(400, 'BadRequest', err.message)
              : new HttpError(500, 'InternalError', String(err));
      send(res, e.code, status(e.code, e.reason, e.message));
    }
  }

  private route(method: string, url: URL, body: unknown, contentType: string, res: ServerResponse): void {
    const parts = url.pathname.split('/').filter(Boolean);
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1] as string;
      rest = parts.slice(3);
    } else throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const version = group ? (parts[2] as string) : 'v1';
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const d = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!d) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (namespace !== undefined && !d.namespaced) throw new HttpError(404, 'NotFound', 'resource is not namespaced');
    if (sub !== undefined && !(sub === 'status' && d.hasStatus)) throw new HttpError(404, 'NotFound', `no subresource ${sub}`);
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verbs: Record<string, RequestAttributes['verb']> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    const attrs: RequestAttributes = {
      verb: method === 'GET' ? (name !== undefined ? 'get' : isWatch ? 'watch' : 'list') : (verbs[method] ?? 'get'),
      apiGroup: group,
      resource: d.plural,
      ...(sub !== undefined ? { subresource: sub } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    };
    if (this.opts.authorize && !this.opts.authorize(attrs)) {
      this.denied.push(attrs);
      throw new HttpError(403, 'Forbidden', `${attrs.verb} ${d.plural} is forbidden`);
    }
    const store = this.objects.get(resKey(d)) as Map<string, Obj>;
    const key = name === undefined ? '' : objKey(d.namespaced ? namespace : undefined, name);

    if (name === undefined) {
      if (method === 'GET') {
        const match = and(
          parseFieldSelector(url.searchParams.get('fieldSelector')),
          parseLabelSelector(url.searchParams.get('labelSelector')),
          namespace === undefined ? () => true : (o) => meta(o)['namespace'] === namespace,
        );
        if (isWatch) {
          if (this.holding) this.parked.push(() => this.startWatch(d, namespace, match, url.searchParams, res));
          else this.startWatch(d, namespace, match, url.searchParams, res);
          return;
        }
        const items = [...store.values()].filter(match).map((o) => structuredClone(o));
        for (const o of items) {
          delete o['kind'];
          delete o['apiVersion'];
        }
        send(res, 200, {
          kind: `${d.kind}List`,
          apiVersion: apiVersionOf(d),
          metadata: { resourceVersion: String(this.rv) },
          items,
        });
        return;
      }
      if (method === 'POST') {
        if (!isObj(body)) throw new HttpError(400, 'BadRequest', 'body required');
        if (d.namespaced) {
          const m = meta(body);
          if (m['namespace'] !== undefined && m['namespace'] !== namespace) {
            throw new HttpError(400, 'BadRequest', 'the namespace of the object does not match the namespace on the request');
          }
          m['namespace'] = namespace ?? 'default';
        }
        send(res, 201, this.create(d, body));
        return;
      }
      throw new HttpError(405, 'MethodNotAllowed', method);
    }

    const current = store.get(key);
    if (method === 'GET') {
      if (!current) throw new HttpError(404, 'NotFound', `${d.plural} "${name}" not found`);
      send(res, 200, current);
      return;
    }
    if (method === 'DELETE') {
      send(res, 200, this.delete(d, key));
      return;
    }
    if (method === 'PUT' || method === 'PATCH') {
      if (!current) throw new HttpError(404, 'NotFound', `${d.plural} "${name}" not found`);
      let next: Obj;
      if (method === 'PUT') {
        if (!isObj(body)) throw new HttpError(400, 'BadRequest', 'body required');
        next = structuredClone(body);
      } else {
        const ct = contentType.split(';')[0]?.trim();
        if (ct === 'application/json-patch+json') next = jsonPatch(current, body) as Obj;
        else if (ct === 'application/merge-patch+json') next = mergePatch(current, body) as Obj;
        else if (ct === 'application/strategic-merge-patch+json') {
          if (d.group !== '') throw new HttpError(415, 'UnsupportedMediaType', 'strategic merge patch is not supported for custom resources');
          next = strategicMergePatch(current, body) as Obj;
        } else throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${ct}`);
      }
      if (d.hasStatus) {
        // The main endpoint ignores status; the status subresource changes only status.
        if (sub === 'status') next = { ...structuredClone(current), status: next['status'], metadata: { ...meta(current), resourceVersion: meta(next)['resourceVersion'] } };
        else next = { ...next, ...(current['status'] !== undefined ? { status: structuredClone(current['status']) } : {}) };
      }
      send(res, 200, this.commitUpdate(d, key, next, current));
      return;
    }
    throw new HttpError(405, 'MethodNotAllowed', method);
  }

  private startWatch(d: ResourceDef, namespace: string | undefined, match: Matcher, q: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the real server does: the client's watch() returns once headers arrive
    const w: Watcher = {
      res: resKey(d),
      ...(namespace !== undefined ? { namespace } : {}),
      match,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      res_: res,
      def: d,
    };
    const rvParam = q.get('resourceVersion');
    if (!rvParam || rvParam === '0') {
      for (const o of (this.objects.get(w.res) as Map<string, Obj>).values()) if (match(o)) this.writeEvent(w, 'ADDED', o);
    } else {
      const from = Number(rvParam);
      if (!Number.isFinite(from) || from < this.compactedRv) {
        this.writeEvent(w, 'ERROR', status(410, 'Expired', `too old resource version: ${rvParam} (${this.compactedRv})`));
        res.end();
        return;
      }
      for (const e of this.history) if (e.res === w.res && e.rv > from) this.deliver(w, e);
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    timer?.unref();
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(w);
    });
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    const now = w.match(e.obj);
    const before = e.prev ? w.match(e.prev) : false;
    if (e.type === 'DELETED') {
      if (before || now) this.writeEvent(w, 'DELETED', e.obj);
    } else if (now && (before || e.type === 'MODIFIED')) this.writeEvent(w, before ? e.type : 'ADDED', e.obj);
    else if (now) this.writeEvent(w, 'ADDED', e.obj);
    // Leaving the selection looks like a deletion to the watcher.
    else if (before) this.writeEvent(w, 'DELETED', e.obj);
  }

  private writeEvent(w: Watcher, type: string, object: Obj): void {
    w.res_.write(`${JSON.stringify({ type, object })}\n`);
  }
}

function and(...ms: Matcher[]): Matcher {
  return (o) => ms.every((m) => m(o));
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'BadRequest', 'body is not valid JSON');
  }
}
