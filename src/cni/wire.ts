// Framing between the forwarder and the agent (see src/cni/native/forwarder.c):
// every message is a 4-byte big-endian length and a payload.
//   request payload:  UTF-8 JSON {"v":1,"env":{...CNI_* variables...},"stdin":"<config>"}
//   response payload: 1 byte exit status, then the bytes to print on stdout
// The response has no JSON envelope so the C side needs no JSON parser.
import { VpcnetError } from '../errors.ts';
import type { CniRequest, CniResponse } from './types.ts';

/** 2: the forwarder passes CNI_NETNS as an open fd ("netns":"fd") or says why it could not. */
export const WIRE_VERSION = 2;
/** Requests carry stdin escaped as a JSON string: up to 6 bytes per input byte in theory. */
export const MAX_REQUEST_FRAME = 8 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  return Buffer.concat([head, payload]);
}

export function encodeRequest(req: CniRequest, opts: { netnsFd?: boolean } = {}): Buffer {
  return frame(Buffer.from(JSON.stringify({ v: WIRE_VERSION, env: req.env, stdin: req.stdin, ...(opts.netnsFd ? { netns: 'fd' } : {}) })));
}

/** `fds`: descriptors that came with the frame; the first is the netns when the request says "netns":"fd". */
export function decodeRequest(payload: Buffer, fds: readonly number[] = []): CniRequest {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch (err) {
    throw new VpcnetError('CNI_DECODE', 'request is not valid UTF-8', { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new VpcnetError('CNI_DECODE', 'request is not valid JSON', { cause: err });
  }
  const r = raw as { v?: unknown; env?: unknown; stdin?: unknown; netns?: unknown; netnsError?: unknown } | null;
  if (!r || (r.v !== 1 && r.v !== WIRE_VERSION) || typeof r.stdin !== 'string' || typeof r.env !== 'object' || r.env === null || Array.isArray(r.env)) {
    throw new VpcnetError('CNI_DECODE', 'request does not have the forwarder wire shape');
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.env)) {
    if (typeof v !== 'string') throw new VpcnetError('CNI_DECODE', 'request env values must be strings', { details: { name: k } });
    env[k] = v;
  }
  const out: CniRequest = { env, stdin: r.stdin };
  if (r.netns === 'fd' && fds[0] !== undefined) out.netnsFd = fds[0];
  else if (r.netns === 'fd') out.netnsError = 'the forwarder announced a netns descriptor that did not arrive';
  if (typeof r.netnsError === 'string') out.netnsError = r.netnsError.slice(0, 200);
  return out;
}


export function encodeResponse(res: CniResponse): Buffer {
  const body = Buffer.from(res.stdout);
  const payload = Buffer.alloc(1 + body.length);
  payload[0] = res.exitCode & 0xff;
  body.copy(payload, 1);
  return frame(payload);
}

export function decodeResponse(payload: Buffer): CniResponse {
  if (payload.length < 1) throw new VpcnetError('CNI_DECODE', 'empty response');
  return { exitCode: payload[0] as number, stdout: payload.subarray(1).toString('utf8') };
}

/** Collects stream chunks into one frame; refuses a frame longer than `max` from its header. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private need: number | undefined;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** The payload once complete, undefined while more bytes are needed. Copies once at the end. */
  push(chunk: Buffer): Buffer | undefined {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.need === undefined) {
      if (this.size < 4) return undefined;
      const head = Buffer.concat(this.chunks);
      this.chunks = [head];
      const len = head.readUInt32BE(0);
      if (len > this.max) throw new VpcnetError('CNI_IO', 'request frame too large', { details: { bytes: len, limit: this.max } });
      this.need = 4 + len;
    }
    if (this.size < this.need) return undefined;
    return Buffer.concat(this.chunks).subarray(4, this.need);
  }
}
