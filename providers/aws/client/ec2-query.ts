// The agent's EC2 client: the EC2 Query protocol (API version 2016-11-15) for exactly the
// actions in ec2-types.ts. Why not @aws-sdk/client-ec2 here: its schema module describes all of
// EC2's ~700 operations in one object graph that no bundler can shake, and loading it costs an
// agent ~80 MB of RSS (docs/architecture.md). The SDK's client stays what the tests use to prove
// the emulator wire-compatible, and test/unit/aws-client/ec2-query-wire.test.ts holds this
// client to the SDK's serialisation and parsing of every action. Query names and response
// shapes per action come from the SDK's model at dev time (ec2-shapes.ts, generated).
//
// Signing: SigV4 by @smithy/signature-v4. Credentials: the SDK's default chain
// (@aws-sdk/credential-provider-node: env, web identity / IRSA, ECS, instance profile; memoized
// and refreshed before expiry) unless given. One attempt per send: Ec2Api owns retries.
// Errors are thrown shaped as the SDK throws them (name = AWS code, $metadata), so
// aws-errors.ts maps both the same way.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { VpcnetError } from '../../../src/errors.ts';
import type { Shape } from './ec2-shape.ts';
import { INPUT_SHAPES, OUTPUT_SHAPES } from './ec2-shapes.ts';
import type { Ec2Action, Ec2Ops, Ec2Transport } from './ec2-types.ts';

export const EC2_API_VERSION = '2016-11-15';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface Ec2QueryOptions {
  region: string;
  /** Default: the regional endpoint of the region's partition (regionalEndpoint). */
  endpoint?: string;
  /** Default: the SDK's credential chain. */
  credentials?: Credentials;
  /** Whole request, connect to last byte. Default 10 s. */
  requestTimeoutMs?: number;
  /** TCP (and TLS) connect. Default 3 s. */
  connectTimeoutMs?: number;
  /** Kept-alive connections at most. Default 50. */
  maxSockets?: number;
}

/**
 * The regional EC2 endpoint: dnsSuffix by partition, as in the SDK's partitions table
 * (@aws-sdk/core util-endpoints partitions.js). FIPS, dual-stack and VPC endpoints are set with
 * `provider.apiEndpoint`.
 */
export function regionalEndpoint(region: string): string {
  const suffix =
    /^cn-/.test(region) ? 'amazonaws.com.cn'
    : /^us-iso-/.test(region) ? 'c2s.ic.gov'
    : /^us-isob-/.test(region) ? 'sc2s.sgov.gov'
    : /^us-isof-/.test(region) ? 'csp.hci.ic.gov'
    : /^eu-isoe-/.test(region) ? 'cloud.adc-e.uk'
    : /^eusc-/.test(region) ? 'amazonaws.eu'
    : 'amazonaws.com';
  return `https://ec2.${region}.${suffix}`;
}

// ---- request: input members -> Query parameters ----

/**
 * Flattens an input into Query parameters (Action and Version first), naming each member as
 * the action's model does (ec2-shapes.ts, generated from the SDK's model): EC2's names depend
 * on the action (PrivateIpAddresses is PrivateIpAddress.N of strings in one action and
 * PrivateIpAddresses.N.* of structures in another). Lists are flattened as Name.N.
 */
export function queryParams(action: Ec2Action, input: object): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Action', action],
    ['Version', EC2_API_VERSION],
  ];
  const walk = (prefix: string, shape: Shape, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (typeof shape === 'object' && 'list' in shape) {
      if (Array.isArray(value)) value.forEach((v, i) => walk(`${prefix}.${i + 1}`, shape.list, v));
      return;
    }
    if (typeof shape === 'object') {
      for (const [k, v] of Object.entries(value as object)) {
        const member = shape.struct[k];
        if (!member) throw new VpcnetError('INTERNAL', 'an EC2 input member the action does not have', { details: { action, member: prefix ? `${prefix}.${k}` : k } });
        walk(prefix ? `${prefix}.${member[0]}` : member[0], member[1], v);
      }
      return;
    }
    out.push([prefix, String(value)]);
  };
  walk('', INPUT_SHAPES[action], input);
  return out;
}

/** application/x-www-form-urlencoded as the SDK writes it (RFC 3986 unreserved kept, space %20). */
export function formBody(params: Array<[string, string]>): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

// ---- response: XML elements -> output members ----

export { OUTPUT_SHAPES };

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => name === 'item',
});

function convert(shape: Shape, node: unknown): unknown {
  if (shape === 'string') return typeof node === 'string' ? node : node === undefined ? undefined : String(node);
  if (shape === 'number') {
    const n = Number(node);
    return node === undefined || node === '' || Number.isNaN(n) ? undefined : n;
  }
  if (shape === 'boolean') return node === 'true' ? true : node === 'false' ? false : undefined;
  if ('list' in shape) {
    const items = (node as { item?: unknown[] } | undefined)?.item;
    return Array.isArray(items) ? items.map((i) => convert(shape.list, i)) : [];
  }
  const out: Record<string, unknown> = {};
  const obj = (typeof node === 'object' && node !== null ? node : {}) as Record<string, unknown>;
  for (const [member, [element, memberShape]] of Object.entries(shape.struct)) {
    if (!(element in obj)) continue;
    const v = convert(memberShape, obj[element]);
    if (v !== undefined) out[member] = v;
  }
  return out;
}

/** Parses a 2xx body of `action` into its output members. */
export function parseOutput<A extends Ec2Action>(action: A, body: string): Ec2Ops[A][1] {
  const doc = xml.parse(body) as Record<string, unknown>;
  const root = doc[`${action}Response`];
  return convert(OUTPUT_SHAPES[action], root) as Ec2Ops[A][1];
}

/** An EC2 service error as the SDK throws it: `name` is the AWS code. */
export class Ec2ServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };

  constructor(code: string, message: string, status: number, requestId: string | undefined) {
    super(message);
    this.name = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** Parses a non-2xx body (`<Response><Errors><Error><Code>`). A body that is not EC2's names the status only. */
export function parseError(status: number, body: string): Ec2ServiceError {
  let code: string | undefined;
  let message: string | undefined;
  let requestId: string | undefined;
  try {
    const doc = xml.parse(body) as { Response?: { Errors?: { Error?: unknown }; RequestID?: unknown; RequestId?: unknown } };
    const r = doc.Response;
    const e = (Array.isArray(r?.Errors?.Error) ? r.Errors.Error[0] : r?.Errors?.Error) as { Code?: unknown; Message?: unknown } | undefined;
    if (typeof e?.Code === 'string') code = e.Code;
    if (typeof e?.Message === 'string') message = e.Message;
    const id = r?.RequestID ?? r?.RequestId;
    if (typeof id === 'string') requestId = id;
  } catch {
    // not XML: fall through
  }
  return new Ec2ServiceError(code ?? 'UnknownError', message ?? (code ? code : `HTTP ${status} from EC2`), status, requestId);
}

// ---- transport ----

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    // the signer makes a new instance per digest
  }
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

export class Ec2QueryClient implements Ec2Transport {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(opts: Ec2QueryOptions) {
    this.url = new URL(opts.endpoint ?? regionalEndpoint(opts.region));
    const credentials = opts.credentials ?? defaultCredentials(opts.region);
    this.signer = new SignatureV4({ service: 'ec2', region: opts.region, credentials, sha256: NodeSha256 });
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 50 };
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
  }

  async send<A extends Ec2Action>(action: A, input: Ec2Ops[A][0]): Promise<Ec2Ops[A][1]> {
    // CreateNetworkInterface's ClientToken is an idempotency token: filled in when absent, as the SDK does.
    const withToken = action === 'CreateNetworkInterface' && !(input as { ClientToken?: string }).ClientToken ? { ...input, ClientToken: randomUUID() } : input;
    const body = formBody(queryParams(action, withToken));
    const path = this.url.pathname || '/';
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path,
      query: {},
      headers: {
        host: this.url.host,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const { status, text } = await this.post(path, signed.headers, body);
    if (status < 200 || status >= 300) throw parseError(status, text);
    return parseOutput(action, text);
  }

  destroy(): void {
    this.agent.destroy();
  }

  private post(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(whole);
        clearTimeout(connect);
        req.destroy();
        reject(err);
      };
      const req = send(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port || undefined, method: 'POST', path, headers, agent: this.agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(whole);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const whole = setTimeout(() => fail(timeoutError(`EC2 request did not complete within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      const connect = setTimeout(() => fail(timeoutError(`EC2 connection not established within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      req.on('socket', (sock) => {
        // A kept-alive socket is already connected.
        if (!sock.connecting) clearTimeout(connect);
        else sock.once(this.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect));
      });
      req.on('error', fail);
      req.end(body);
    });
  }
}

/** The SDK's default credential chain, loaded on first use (a node with static credentials never loads it). */
function defaultCredentials(region: string): Credentials {
  let chain: Promise<Exclude<Credentials, { accessKeyId: string }>> | undefined;
  return async () => {
    chain ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider({ clientConfig: { region } }));
    return (await chain)();
  };
}
