import { afterEach, describe, expect, it } from '@jest/globals';
import { createConnection, createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniSocketServer, type CniRequestHandler } from '../../../src/agent/socket-server.ts';
import { decodeResponse, encodeRequest, frame, FrameReader } from '../../../src/cni/wire.ts';
import type { CniRequest, CniResponse } from '../../../src/cni/types.ts';

const dirs: string[] = [];
const servers: CniSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vpcnet-sock-'));
  dirs.push(d);
  return d;
}

async function start(handler: CniRequestHandler, opts: { requestTimeoutMs?: number; maxFrameBytes?: number; path?: string } = {}): Promise<{ server: CniSocketServer; path: string }> {
  const path = opts.path ?? join(tmp(), 'run', 'cni.sock');
  const server = new CniSocketServer({ path, handler, requestTimeoutMs: opts.requestTimeoutMs ?? 5000, ...(opts.maxFrameBytes ? { maxFrameBytes: opts.maxFrameBytes } : {}) });
  await server.start();
  servers.push(server);
  return { server, path };
}

function call(path: string, bytes: Buffer): Promise<CniResponse> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    const reader = new FrameReader(1 << 24);
    c.on('data', (chunk: Buffer) => {
      const payload = reader.push(chunk);
      if (payload) {
        c.destroy();
        resolve(decodeResponse(payload));
      }
    });
    c.on('error', reject);
    c.write(bytes);
  });
}

const req: CniRequest = { env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.0.0"}' };
const echo: CniRequestHandler = async (r) => ({ exitCode: 0, stdout: r.env.CNI_COMMAND ?? '' });

describe('CniSocketServer', () => {
  it('creates a root-only socket (0600) in a 0700 directory and removes it on close', async () => {
    const { server, path } = await start(echo);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(await call(path, encodeRequest(req))).toEqual({ exitCode: 0, stdout: 'VERSION' });
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket but refuses a live one and a regular file', async () => {
    const dir = tmp();
    const path = join(dir, 'cni.sock');
    const old = createServer();
    await new Promise<void>((r) => old.listen(path, r));
    await expect(new CniSocketServer({ path, handler: echo, requestTimeoutMs: 1000 }).start()).rejects.toMatchObject({ code: 'AGENT_UNAVAILABLE' });
    old.close();
    // a killed agent leaves its socket file behind
    const dead = join(dir, 'dead.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dead)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(dead).isSocket()).toBe(true);
    await start(echo, { path: dead });
    expect((await call(dead, encodeRequest(req))).stdout).toBe('VERSION');
    const file = join(dir, 'plain');
    writeFileSync(file, 'keep me');
    await expect(new CniSocketServer({ path: file, handler: echo, requestTimeoutMs: 1000 }).start()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(existsSync(file)).toBe(true);
  });

  it('refuses a socket directory others may write to', async () => {
    const dir = join(tmp(), 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await expect(new CniSocketServer({ path: join(dir, 'cni.sock'), handler: echo, requestTimeoutMs: 1000 }).start()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('answers an oversized frame with an I/O error (5) without calling the handler', async () => {
    let called = 0;
    const { path } = await start(async () => ((called += 1), { exitCode: 0, stdout: '' }), { maxFrameBytes: 1024 });
    const res = await call(path, frame(Buffer.alloc(4096, 0x20)));
    expect(res.exitCode).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ code: 5 });
    expect(called).toBe(0);
  });

  it('answers a malformed request with a decode error (6)', async () => {
    const { path } = await start(echo);
    const res = await call(path, frame(Buffer.from('{"v":1,"env":[]}')));
    expect(JSON.parse(res.stdout)).toMatchObject({ code: 6, cniVersion: '1.1.0' });
  });

  it('tells the forwarder to try again (11) when a request outlives its timeout', async () => {
    const { path } = await start(() => new Promise<CniResponse>(() => undefined), { requestTimeoutMs: 50 });
    const res = await call(path, encodeRequest({ env: { CNI_COMMAND: 'ADD' }, stdin: '{"cniVersion":"0.4.0"}' }));
    expect(res.exitCode).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ code: 11, cniVersion: '0.4.0' });
  });

  it('answers a client that sends its request only a while after connecting (it waits for the first bytes)', async () => {
    const { path } = await start(echo);
    const c = createConnection(path);
    await new Promise<void>((r) => c.once('connect', () => r()));
    // the server has accepted by now and found nothing to read yet
    await new Promise<void>((r) => setTimeout(r, 30));
    const reader = new FrameReader(1 << 24);
    const answer = new Promise<CniResponse>((resolve) => c.on('data', (chunk: Buffer) => {
      const payload = reader.push(chunk);
      if (payload) resolve(decodeResponse(payload));
    }));
    c.write(encodeRequest({ ...req, env: { CNI_COMMAND: 'DEL' } }));
    expect((await answer).stdout).toBe('DEL');
    c.destroy();
  });

  it('cuts off a client that connects and never sends, after the request timeout, and closes with such a client connected', async () => {
    const { server, path } = await start(echo, { requestTimeoutMs: 50 });
    const silent = createConnection(path);
    await new Promise<void>((r) => silent.once('close', () => r()));
    const another = createConnection(path);
    await new Promise<void>((r) => another.once('connect', () => r()));
    const closed = new Promise<void>((r) => another.once('close', () => r()));
    await server.close();
    await closed;
    // a new server on the same path still works (nothing of the waits is left behind)
    const again = await start(echo, { path });
    expect((await call(again.path, encodeRequest(req))).stdout).toBe('VERSION');
  });

  it('serves requests concurrently and lets them finish on close', async () => {
    const gates: Array<() => void> = [];
    const { server, path } = await start(
      (r) => new Promise<CniResponse>((resolve) => gates.push(() => resolve({ exitCode: 0, stdout: r.env.CNI_CONTAINERID ?? '' }))),
    );
    const calls = ['a', 'b', 'c'].map((id) => call(path, encodeRequest({ env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id }, stdin: '{}' })));
    while (gates.length < 3) await new Promise<void>((r) => setTimeout(r, 5));
    const closing = server.close();
    for (const g of gates) g();
    expect((await Promise.all(calls)).map((r) => r.stdout)).toEqual(['a', 'b', 'c']);
    await closing;
  });

  it('reads a request larger than its first read and closes each served connection once the client is gone', async () => {
    const { path } = await start(async (r) => ({ exitCode: 0, stdout: String(r.stdin.length) }));
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const big = 'x'.repeat(200 * 1024); // past the 64 KiB the server takes with its first recvmsg
    expect((await call(path, encodeRequest({ env: { CNI_COMMAND: 'ADD' }, stdin: big }))).stdout).toBe(String(big.length));
    for (let i = 0; i < 20; i++) expect((await call(path, encodeRequest(req))).stdout).toBe(String(req.stdin.length));
    // the agent is long-lived: a socket left open per request would run it out of descriptors
    for (let i = 0; i < 200 && openFds() > before; i++) await new Promise<void>((r) => setTimeout(r, 5));
    expect(openFds()).toBeLessThanOrEqual(before);
  });
});
