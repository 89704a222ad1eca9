// The emulators' HTTP plumbing: listeners on loopback (or where asked), bounded request
// bodies, JSON answers, and a guard that turns an unexpected handler failure into a 500
// (an oversized body into a 413) instead of a hung connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';

export const MAX_BODY = 1 << 20;

export interface ListenOptions {
  port?: number;
  host?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export class EmulatorHttp {
  private readonly servers: Server[] = [];
  private readonly log: Logger;
  private readonly name: string;

  constructor(name: string, log: Logger) {
    this.name = name;
    this.log = log;
  }

  /** Starts one listener; resolves with its base URL (http://host:port). */
  async listen(opts: ListenOptions, handler: Handler): Promise<string> {
    const server = createServer((req, res) => {
      let work: Promise<void>;
      try {
        work = Promise.resolve(handler(req, res));
      } catch (err) {
        work = Promise.reject(err);
      }
      this.guard(work, res);
    });
    server.keepAliveTimeout = 5000;
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    return baseUrlOf(server);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  /** Answers a request whose handler failed unexpectedly (or got an oversized body). */
  guard(work: Promise<void>, res: ServerResponse): void {
    work.catch((err: unknown) => {
      const tooLarge = err instanceof VpcnetError && err.code === 'CLOUD_BAD_REQUEST';
      if (!tooLarge) this.log.error({ err }, `${this.name} request failed`);
      if (!res.headersSent) res.writeHead(tooLarge ? 413 : 500);
      res.end();
    });
  }
}

function baseUrlOf(server: Server): string {
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

/** Reads a request body up to MAX_BODY; past it the rest is drained (so the client reads the 413) up to a hard cap. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
    else if (size > MAX_BODY * 16) break;
  }
  if (size > MAX_BODY) throw new VpcnetError('CLOUD_BAD_REQUEST', 'request body too large');
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  return text ? (JSON.parse(text) as unknown) : {};
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Drops the connection without an answer: the client sees a reset ("did it happen?"). */
export function resetConnection(res: ServerResponse): void {
  res.socket?.destroy();
}
