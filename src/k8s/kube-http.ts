// HTTP to the API server on node:http / node:https (not fetch: undici's WebAssembly parser
// costs ~20 MB in an agent; docs/architecture.md). One keep-alive agent; every request has a
// deadline; a watch is a newline-delimited JSON stream with an inactivity limit. Failures are
// thrown as { statusCode, body } or socket errors for toK8sError to map.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeTarget, RequestAuth } from './kubeconfig.ts';

export interface KubeHttpOptions {
  /** Deadline of one request, response body included. */
  requestTimeoutMs: number;
  /** A watch that sends nothing for this long is ended cleanly (the caller resumes from its resourceVersion). */
  watchIdleMs: number;
}

/** A non-2xx answer, with the API server's Status object when it sent one. */
export class KubeHttpError extends Error {
  readonly statusCode: number;
  readonly body: unknown;
  constructor(statusCode: number, body: unknown, what: string) {
    const msg = (body as { message?: unknown } | undefined)?.message;
    super(`${what}: HTTP ${statusCode}${typeof msg === 'string' ? `: ${msg}` : ''}`);
    this.name = 'KubeHttpError';
    this.statusCode = statusCode;
    this.body = body;
  }
}

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface Stream {
  /** Ends the stream; `done` then resolves. */
  stop(): void;
  done: Promise<void>;
}

const MAX_BODY = 64 << 20;

export class KubeHttp {
  private readonly target: KubeTarget;
  private readonly opts: KubeHttpOptions;
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  constructor(target: KubeTarget, opts: KubeHttpOptions) {
    this.target = target;
    this.opts = opts;
    this.secure = target.server.protocol === 'https:';
    // Keep-alive: the loops make a few calls a minute; a watch holds its own socket.
    this.agent = this.secure ? new HttpsAgent({ keepAlive: true, maxFreeSockets: 2 }) : new HttpAgent({ keepAlive: true, maxFreeSockets: 2 });
  }

  private options(method: string, path: string, query: Query | undefined, auth: RequestAuth, headers: Record<string, string>): RequestOptions {
    const base = this.target.server;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const prefix = base.pathname.replace(/\/+$/, '');
    const q = qs.toString();
    const opts: RequestOptions & Record<string, unknown> = {
      method,
      host: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (this.secure ? 443 : 80),
      path: `${prefix}${path}${q ? `?${q}` : ''}`,
      agent: this.agent,
      headers: {
        Accept: 'application/json',
        'User-Agent': 'vpcnet-agent',
        ...(auth.token ? { Authorization: `Bearer ${auth.token}` } : auth.basic ? { Authorization: `Basic ${auth.basic}` } : {}),
        ...headers,
      },
    };
    if (this.secure) {
      // TLS options per request: the agent pools connections by them, so a rotated client
      // certificate or CA gets new connections.
      Object.assign(opts, {
        rejectUnauthorized: this.target.rejectUnauthorized,
        ...((auth.ca ?? this.target.ca) !== undefined ? { ca: auth.ca ?? this.target.ca } : {}),
        ...(this.target.servername ? { servername: this.target.servername } : {}),
        ...(auth.cert !== undefined ? { cert: auth.cert, key: auth.key } : {}),
      });
    }
    return opts;
  }

  private send(opts: RequestOptions, body: string | undefined, deadlineMs: number | undefined): Promise<{ res: IncomingMessage; clear: () => void; abort: (err?: Error) => void }> {
    return new Promise((resolve, reject) => {
      const req = (this.secure ? httpsRequest : httpRequest)(opts);
      let timer: NodeJS.Timeout | undefined;
      const clear = (): void => {
        if (timer) clearTimeout(timer);
        timer = undefined;
      };
      // Without an error for a deliberate end (stop, idle watch): nothing to report.
      const abort = (err?: Error): void => {
        clear();
        req.destroy(err);
      };
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => abort(new TimeoutError(`no answer from the API server within ${deadlineMs} ms`)), deadlineMs);
      }
      req.on('error', (err) => {
        clear();
        // Kept for request(): a kept-alive socket the server had already closed.
        reject(Object.assign(err, { reusedSocket: req.reusedSocket }));
      });
      req.on('response', (res) => resolve({ res, clear, abort }));
      req.end(body);
    });
  }

  /** One request with a JSON answer; a 401 re-fetches rotated credentials and tries once more. */
  async request<T>(method: string, path: string, what: string, opts: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': opts.contentType ?? 'application/json' };
    let resent = false;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.target.credentials.get();
      let sent: Awaited<ReturnType<KubeHttp['send']>>;
      try {
        sent = await this.send(this.options(method, path, opts.query, auth, headers), body, this.opts.requestTimeoutMs);
      } catch (err) {
        // The server closed an idle kept-alive connection as we reused it: the request was
        // never read, so sending it again once is safe (as Node's docs advise).
        const e = err as { reusedSocket?: boolean; code?: unknown };
        if (!resent && e.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          resent = true;
          continue;
        }
        throw err;
      }
      const { res, clear, abort } = sent;
      let text: string;
      try {
        text = await readBody(res, abort);
      } finally {
        clear();
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && attempt === 0) {
        this.target.credentials.invalidate();
        continue;
      }
      const parsed = parseJson(text);
      if (status < 200 || status >= 300) throw new KubeHttpError(status, parsed, what);
      if (parsed === undefined) throw new KubeHttpError(502, undefined, `${what}: answer is not JSON`);
      return parsed as T;
    }
  }

  /**
   * Opens a watch and resolves once the server answered; each complete JSON line goes to
   * onLine. `done` resolves on a clean end (server close, stop(), inactivity) and rejects on
   * an error status or a broken connection.
   */
  async watch(path: string, query: Query, onLine: (obj: unknown) => void): Promise<Stream> {
    let stopped = false;
    let abortFn: (() => void) | undefined;
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const stop = (): void => {
      stopped = true;
      abortFn?.();
      settle.resolve();
    };
    let auth = await this.target.credentials.get();
    try {
      for (let attempt = 0; ; attempt++) {
        // The deadline covers the wait for the answer's headers; then the inactivity limit rules.
        const { res, clear, abort } = await this.send(this.options('GET', path, { ...query, watch: 'true' }, auth, {}), undefined, this.opts.requestTimeoutMs);
        clear();
        const status = res.statusCode ?? 0;
        if (status === 401 && attempt === 0) {
          res.resume();
          this.target.credentials.invalidate();
          auth = await this.target.credentials.get();
          continue;
        }
        if (status !== 200) {
          const text = await readBody(res, abort).catch(() => '');
          settle.reject(new KubeHttpError(status, parseJson(text), `watch ${path}`));
          break;
        }
        abortFn = () => abort();
        this.stream(res, abort, onLine, settle, () => stopped);
        break;
      }
    } catch (err) {
      settle.reject(err);
    }
    done.catch(() => undefined); // the caller may look at it only later
    return { stop, done };
  }

  private stream(res: IncomingMessage, abort: (err?: Error) => void, onLine: (obj: unknown) => void, settle: { resolve: () => void; reject: (err: unknown) => void }, stopped: () => boolean): void {
    let idle: NodeJS.Timeout | undefined;
    let ended = false;
    const finish = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      if (idle) clearTimeout(idle);
      if (err && !stopped()) settle.reject(err);
      else settle.resolve();
    };
    const arm = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        // A quiet node, not an outage: end cleanly so the caller resumes without a relist.
        finish();
        abort();
      }, this.opts.watchIdleMs);
      idle.unref();
    };
    arm();
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk: string) => {
      arm();
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        const obj = parseJson(line);
        if (obj !== undefined && !ended) onLine(obj);
      }
    });
    res.on('end', () => finish());
    res.on('aborted', () => finish(new Error('watch connection reset')));
    res.on('error', (err) => finish(err));
    res.on('close', () => finish(res.complete ? undefined : new Error('watch connection closed before the end of the stream')));
  }
}

function readBody(res: IncomingMessage, abort: (err?: Error) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) abort(new Error(`API answer larger than ${MAX_BODY} bytes`));
      else parts.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection closed while reading the answer'));
    });
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
