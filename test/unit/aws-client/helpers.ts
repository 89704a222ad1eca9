// Test helpers for the AWS client: a scripted EC2 transport, SDK-shaped errors, a local
// IMDSv2 server on loopback, and the vendor payload directory.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OUTPUT_SHAPES } from '../../../providers/aws/client/ec2-query.ts';
import type { Ec2Action, Ec2Ops, Ec2Transport } from '../../../providers/aws/client/ec2-types.ts';


export interface SentCall {
  action: string;
  input: Record<string, unknown>;
}

type Handler = (input: Record<string, unknown>) => unknown;

/** Answers each EC2 action from a handler; records every call. */
export class ScriptedEc2 implements Ec2Transport {
  readonly sent: SentCall[] = [];
  private readonly handlers = new Map<string, Handler[]>();

  /** Queue handlers for an action; the last one repeats. */
  on(action: string, ...handlers: Handler[]): this {
    this.handlers.set(action, [...(this.handlers.get(action) ?? []), ...handlers]);
    return this;
  }

  async send<A extends Ec2Action>(action: A, input: Ec2Ops[A][0]): Promise<Ec2Ops[A][1]> {
    const c = { input: input as Record<string, unknown> };
    this.sent.push({ action, input: c.input });
    const list = this.handlers.get(action);
    if (!list || list.length === 0) throw new Error(`unscripted EC2 action ${action}`);
    const h = list.length > 1 ? list.shift() : list[0];
    if (!h) throw new Error(`unscripted EC2 action ${action}`);
    return h(c.input) as Ec2Ops[A][1];
  }

  count(action: string): number {
    return this.sent.filter((s) => s.action === action).length;
  }
}

/** An error shaped like the SDK's service exceptions. */
export function awsError(code: string, status = 400, requestId = 'req-test-1'): Error {
  return Object.assign(new Error(`${code} happened`), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId },
  });
}

export function thrower(err: Error): () => never {
  return () => {
    throw err;
  };
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<LocalServer> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface FakeImds extends LocalServer {
  tokenPuts: number;
  gets: number;
  /** Tokens issued so far; clearing it revokes them (GETs then answer 401). */
  valid: Set<string>;
  data: Record<string, string>;
}

/** A minimal IMDSv2: tokens required (HttpTokens=required), 404 for unknown paths. */
export async function fakeImds(data: Record<string, string>): Promise<FakeImds> {
  const state = { tokenPuts: 0, gets: 0, valid: new Set<string>(), data };
  const srv = await listen((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(ttl >= 1 && ttl <= 21600)) {
        res.writeHead(400).end();
        return;
      }
      state.tokenPuts++;
      const token = `tok-${state.tokenPuts}`;
      state.valid.add(token);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/latest/meta-data/')) {
      state.gets++;
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token !== 'string' || !state.valid.has(token)) {
        res.writeHead(401).end();
        return;
      }
      const value = state.data[req.url.slice('/latest/meta-data/'.length)];
      if (value === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(value);
      return;
    }
    res.writeHead(403).end();
  });
  return Object.assign(state, srv);
}

/** Metadata of one node with one ENI, shaped as IMDS serves it. */
export function nodeMetadata(over: Record<string, string> = {}): Record<string, string> {
  const mac = '02:68:f3:f6:c7:ef';
  const base = `network/interfaces/macs/${mac}/`;
  return {
    'instance-id': 'i-084abd1f69f27d987',
    'instance-type': 't3.medium',
    'placement/availability-zone': 'us-west-2b',
    'placement/region': 'us-west-2',
    mac,
    'local-ipv4': '10.0.88.3',
    'network/interfaces/macs/': `${mac}/`,
    [`${base}device-number`]: '0',
    [`${base}interface-id`]: 'eni-0c0fde533492c9df5',
    [`${base}subnet-id`]: 'subnet-0afaed81bf542db37',
    [`${base}subnet-ipv4-cidr-block`]: '10.0.64.0/18',
    [`${base}vpc-id`]: 'vpc-0afaed81bf542db37',
    [`${base}vpc-ipv4-cidr-blocks`]: '10.0.0.0/16\n100.64.0.0/16',
    [`${base}local-ipv4s`]: '10.0.88.3',
    ...over,
  };
}

/** A loopback server that answers every request with `next` and records what came in. */
export interface Canned extends LocalServer {
  next: { status: number; body: string };
  seen: Array<{ headers: IncomingHttpHeaders; body: string; method: string; url: string }>;
}

export async function canned(): Promise<Canned> {
  const seen: Canned['seen'] = [];
  const ref: { self?: Canned } = {};
  const server = await listen((req, res, body) => {
    seen.push({ headers: req.headers, body, method: req.method ?? '', url: req.url ?? '' });
    const next = ref.self?.next ?? { status: 200, body: '' };
    res.writeHead(next.status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(next.body);
  });
  ref.self = { ...server, next: { status: 200, body: '' }, seen };
  return ref.self;
}

/** The members of `value` our client declares for `action` (the SDK parses all of them). */
type Shape = (typeof OUTPUT_SHAPES)[Ec2Action];

export function project(shape: Shape, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof shape === 'string') return value;
  if ('list' in shape) return (value as unknown[]).map((v) => project(shape.list, v));
  const out: Record<string, unknown> = {};
  for (const [member, [, s]] of Object.entries(shape.struct)) {
    const v = project(s, (value as Record<string, unknown>)[member]);
    if (v !== undefined) out[member] = v;
  }
  return out;
}
