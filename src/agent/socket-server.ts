// The agent's CNI socket: the forwarder connects, sends one framed request, reads one framed
// response. Root only: the socket is 0600 inside a directory only root may enter. Requests run
// concurrently, each bounded by a timeout after which the forwarder gets "try again later".
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VpcnetError } from '../errors.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { decodeRequest, encodeResponse, FrameReader, MAX_REQUEST_FRAME } from '../cni/wire.ts';
import { errorResponse } from '../cni/error-object.ts';
import { responseVersion } from '../cni/netconf.ts';
import { LATEST_VERSION } from '../cni/versions.ts';
import type { CniRequest, CniResponse } from '../cni/types.ts';

export type CniRequestHandler = (req: CniRequest) => Promise<CniResponse>;

export interface SocketServerOptions {
  path: string;
  handler: CniRequestHandler;
  /** After this the forwarder is told to try again (CNI 11); keep it below the forwarder's timeout. */
  requestTimeoutMs: number;
  maxFrameBytes?: number;
  clock?: Clock;
  logger?: Logger;
}

export class CniSocketServer {
  private readonly opts: SocketServerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  private readonly inflight = new Set<Promise<void>>();

  constructor(opts: SocketServerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'cni-socket' });
  }

  async start(): Promise<void> {
    const { path } = this.opts;
    await prepareDir(dirname(path));
    await removeStale(path);
    const server = createServer({ allowHalfOpen: true }, (sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    server.on('error', (err) => this.log.error({ err }, 'cni socket server error'));
    this.server = server;
    this.log.info({ path }, 'cni socket listening');
  }

  /** Stops accepting, lets requests under way finish, then removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await Promise.allSettled([...this.inflight]);
    for (const c of this.conns) c.destroy();
    await closed;
    await unlink(this.opts.path).catch(() => undefined);
  }

  private onConnection(sock: Socket): void {
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', (err) => this.log.debug({ err }, 'cni connection error'));
    const reader = new FrameReader(this.opts.maxFrameBytes ?? MAX_REQUEST_FRAME);
    const idle = new AbortController();
    // A client that never completes its request must not hold a connection forever.
    this.clock.sleep(this.opts.requestTimeoutMs, idle.signal).then(
      () => sock.destroy(),
      () => undefined,
    );
    const onData = (chunk: Buffer): void => {
      let payload: Buffer | undefined;
      try {
        payload = reader.push(chunk);
      } catch (err) {
        sock.off('data', onData);
        idle.abort();
        sock.end(encodeResponse(errorResponse(err, LATEST_VERSION)));
        return;
      }
      if (!payload) return;
      sock.off('data', onData);
      idle.abort();
      this.track(this.serve(sock, payload));
    };
    sock.on('data', onData);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async serve(sock: Socket, payload: Buffer): Promise<void> {
    let res: CniResponse;
    let version = LATEST_VERSION as string;
    try {
      const req = decodeRequest(payload);
      version = responseVersion(req.stdin);
      res = await this.withTimeout(this.opts.handler(req), version);
    } catch (err) {
      res = errorResponse(err, version);
    }
    if (!sock.destroyed) sock.end(encodeResponse(res));
  }

  private async withTimeout(work: Promise<CniResponse>, version: string): Promise<CniResponse> {
    const timer = new AbortController();
    const timedOut = this.clock.sleep(this.opts.requestTimeoutMs, timer.signal).then(() => {
      this.log.warn({ timeoutMs: this.opts.requestTimeoutMs }, 'cni request timed out');
      return errorResponse(new VpcnetError('AGENT_UNAVAILABLE', 'vpcnet agent did not finish the request in time', { details: { timeoutMs: this.opts.requestTimeoutMs } }), version);
    });
    try {
      return await Promise.race([work, timedOut]);
    } finally {
      timer.abort();
      timedOut.catch(() => undefined);
    }
  }
}

/** Creates the socket directory root-only; refuses an existing one that others may write to. */
async function prepareDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if ((st.mode & 0o022) !== 0) {
    throw new VpcnetError('CONFIG_INVALID', 'socket directory is writable by group or others', { details: { dir, mode: (st.mode & 0o777).toString(8) } });
  }
}

/** A socket file left by a dead agent is removed; a live agent or a non-socket file is an error. */
async function removeStale(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new VpcnetError('CONFIG_INVALID', 'socket path exists and is not a socket', { details: { path } });
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new VpcnetError('AGENT_UNAVAILABLE', 'another agent is listening on the socket', { details: { path } });
  await unlink(path);
}
