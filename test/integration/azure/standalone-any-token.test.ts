// `vpcnet emulator azure --accept-any-token`: the standalone emulator takes a bearer token it
// did not issue (what az or a tool with its own login sends), and without the flag refuses it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from '@jest/globals';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
// The project's Node 24 (it runs .ts); the jest runner may be another node.
const LOCAL_NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;
const FOREIGN = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"oid":"0f0f0f0f-0000-4000-8000-000000000001"}').toString('base64url')}.c2ln`;

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

/** Starts the standalone emulator on a free port; resolves with its endpoint, CA and subscription. */
function startStandalone(flags: string[]): Promise<{ endpoint: string; ca: string; subscription: string }> {
  const proc = spawn(NODE, [MAIN, 'emulator', 'azure', '--port', '0', '--imds-port', '0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const ep = /ARM endpoint:\s+(\S+)\s+\(HTTPS; CA: (\S+)\)/.exec(out);
      const sub = /Subscription:\s+(\S+)/.exec(out);
      if (ep && sub) resolve({ endpoint: ep[1] as string, ca: readFileSync(ep[2] as string, 'utf8'), subscription: sub[1] as string });
    });
    proc.once('exit', (code) => reject(new Error(`emulator exited (${String(code)}): ${out}`)));
  });
}

function get(endpoint: string, ca: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, endpoint), { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('vpcnet emulator azure --accept-any-token', () => {
  it('serves a foreign bearer token with the flag', async () => {
    const emu = await startStandalone(['--accept-any-token']);
    const res = await get(emu.endpoint, emu.ca, `/subscriptions/${emu.subscription}/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01`, FOREIGN);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { value: Array<{ name: string }> }).value.map((n) => n.name)).toContain('node-1-nic0');
  });

  it('refuses it without the flag', async () => {
    const emu = await startStandalone([]);
    const res = await get(emu.endpoint, emu.ca, `/subscriptions/${emu.subscription}/resourceGroups/vpcnet-rg/providers/Microsoft.Network/networkInterfaces/node-1-nic0?api-version=2024-05-01`, FOREIGN);
    expect(res.status).toBe(401);
  });
});
