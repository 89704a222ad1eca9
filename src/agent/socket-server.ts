// The agent's CNI socket: the forwarder connects, sends one framed request, reads one framed
// response. Root only: the socket is 0600 inside a directory only root may enter. Requests run
// concurrently, each bounded by a timeout after which the forwarder gets "try again later".
// The forwarder passes the pod netns as a descriptor (SCM_RIGHTS) with the first bytes of its
// request. Node reads sockets with read(), which drops passed descriptors, so connections are
// accepted paused and their first bytes are taken with recvmsg() (the setns addon), then Node
// reads the rest.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { closeSync } from 'node:fs';
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
import { loadSetnsAddon, type SetnsAddon } from '../datapath/native/setns-addon.ts';

/** Reason for cancelling our own timers: abort() without one builds a DOMException with a stack, twice per request. */
const SETTLED = Object.freeze({ settled: true });
/** The first read takes up to this much (the addon's limit): a whole request in the common case. */
const HEAD_READ_BYTES = 65536;

export type CniRequestHandler = (req: CniRequest) => Promise<CniResponse>;

export interface SocketServerOptions {
  path: string;
  handler: CniRequestHandler;
  /** After this the forwarder is told to try again (CNI 11); keep it below the forwarder's timeout. */
  requestTimeoutMs: number;
  maxFrameBytes?: number;
  /** recvmsg() with SCM_RIGHTS; default the setns addon. */
  addon?: Pick<SetnsAddon, 'recvFds' | 'whenReadable'>;
  clock?: Clock;
  logger?: Logger;
}

export class CniSocketServer {
  private readonly opts: SocketServerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  /** Connections waiting for their first bytes, with the cancel of that wait. */
  private readonly waits = new Map<Socket, () => void>();
  private readonly inflight = new Set<Promise<void>>();
  private addon: Pick<SetnsAddon, 'recvFds' | 'whenReadable'> | undefined;

  constructor(opts: SocketServerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'cni-socket' });
  }

  async start(): Promise<void> {
    const { path } = this.opts;
    await prepareDir(dirname(path));
    await removeStale(path);
    this.addon = this.opts.addon ?? loadSetnsAddon();
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.onConnection(sock));
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
    for (const c of this.conns) this.destroy(c);
    await closed;
    await unlink(this.opts.path).catch(() => undefined);
  }

  private onConnection(sock: Socket): void {
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', (err) => this.log.debug({ err }, 'cni connection error'));
    const reader = new FrameReader(this.opts.maxFrameBytes ?? MAX_REQUEST_FRAME);
    const idle = new AbortController();
    const fds: number[] = [];
    const closeFds = (): void => {
      for (const fd of fds.splice(0)) closeQuietly(fd);
    };
    sock.on('close', () => {
      if (!idle.signal.aborted) closeFds();
    });
    // A client that never completes its request must not hold a connection forever.
    this.clock.sleep(this.opts.requestTimeoutMs, idle.signal).then(
      () => this.destroy(sock),
      () => undefined,
    );
    const onData = (chunk: Buffer): void => {
      let payload: Buffer | undefined;
      try {
        payload = reader.push(chunk);
      } catch (err) {
        sock.off('data', onData);
        idle.abort(SETTLED);
        closeFds();
        sock.end(encodeResponse(errorResponse(err, LATEST_VERSION)));
        return;
      }
      if (!payload) return;
      sock.off('data', onData);
      idle.abort(SETTLED);
      this.track(this.serve(sock, payload, fds, closeFds));
    };
    sock.on('data', onData);
    this.readHead(sock, reader, fds, onData, idle.signal, 0);
  }

  /**
   * Takes the first bytes (up to 64 KiB, usually the whole frame) with recvmsg() so that a
   * passed descriptor is not lost, then lets Node read the rest. The forwarder sends right after
   * connect(), so the bytes are there at once or within microseconds; otherwise it waits for
   * them (whenReadable).
   */
  private readHead(sock: Socket, reader: FrameReader, fds: number[], onData: (chunk: Buffer) => void, idle: AbortSignal, attempt: number): void {
    if (sock.destroyed || idle.aborted) return;
    const handle = (sock as unknown as { _handle?: { fd?: number } })._handle;
    const fd = handle?.fd;
    let got: ReturnType<SetnsAddon['recvFds']> = null;
    try {
      // The whole frame when it is there (the forwarder sends it in one sendmsg): the request is
      // served from this read, not after another turn of the event loop for Node's own read.
      got = fd !== undefined && fd >= 0 && this.addon ? this.addon.recvFds(fd, HEAD_READ_BYTES) : { data: Buffer.alloc(0), fds: [], truncated: false };
    } catch (err) {
      this.log.debug({ err }, 'cni connection recvmsg failed');
      this.destroy(sock);
      return;
    }
    if (got === null) {
      // The forwarder has connected but not sent yet (the agent often runs first after the
      // connect): wait until the socket is readable. A 1 ms timer here cost about half of all
      // requests a millisecond; without the addon's wait (an old build), poll on timers.
      const retry = (): void => this.readHead(sock, reader, fds, onData, idle, attempt + 1);
      if (attempt === 0 && this.addon?.whenReadable && fd !== undefined) {
        this.waits.set(sock, this.addon.whenReadable(fd, () => {
          this.waits.delete(sock);
          retry();
        }));
      } else {
        setTimeout(retry, Math.min(attempt, 20)).unref();
      }
      return;
    }
    fds.push(...got.fds);
    if (got.data.length > 0) onData(got.data);
    // Node reads the rest of a frame, or the end: an empty read is the peer closing before
    // sending, and a served request's connection closes once the peer's end has been read.
    if (!sock.destroyed) sock.resume();
  }

  /** A wait for the first bytes watches the fd: it ends before the fd is closed. */
  private destroy(sock: Socket): void {
    this.waits.get(sock)?.();
    this.waits.delete(sock);
    sock.destroy();
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** `done` runs once the handler has settled (also after a timeout answer): it closes the fds. */
  private async serve(sock: Socket, payload: Buffer, fds: readonly number[], done: () => void): Promise<void> {
    let res: CniResponse;
    let version = LATEST_VERSION as string;
    let work: Promise<CniResponse> | undefined;
    try {
      const req = decodeRequest(payload, fds);
      version = responseVersion(req.stdin);
      work = this.opts.handler(req);
      res = await this.withTimeout(work, version);
    } catch (err) {
      res = errorResponse(err, version);
    }
    if (!sock.destroyed) sock.end(encodeResponse(res));
    // Not tracked by close(): a handler stuck past its timeout must not hold the shutdown.
    if (work) void work.then(done, done);
    else done();
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
      timer.abort(SETTLED);
      timedOut.catch(() => undefined);
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
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
