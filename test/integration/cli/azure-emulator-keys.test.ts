// `vpcnet emulator azure` keeps its CA and server private keys in a temporary directory: it is
// 0700 while the emulator runs and gone after it, however it ends (SIGINT, SIGTERM, a refused
// scenario, a port in use). Each run gets its own TMPDIR, so "nothing left" is exact.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vpcnet-azkeys-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What TMPDIR held while the emulator was up (name and mode), when it came up. */
  whileUp?: Array<{ name: string; mode: number }>;
}

/** Runs the emulator with TMPDIR=tmp; once it is up, records TMPDIR and sends `signal`. */
function emulator(args: string[], signal?: NodeJS.Signals): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, 'emulator', 'azure', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let whileUp: Ended['whileUp'];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (signal && !whileUp && /VMs \(IMDS per VM\):[\s\S]*NIC .*\n/.test(stdout)) {
        whileUp = readdirSync(tmp).map((name) => ({ name, mode: statSync(join(tmp, name)).mode & 0o777 }));
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...(whileUp ? { whileUp } : {}) });
    });
  });
}

describe('the Azure emulator leaves no key directory behind', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('stopped with %s', async (signal) => {
    const r = await emulator(['--port', '0', '--imds-port', '0'], signal);
    // While up: one directory, private to its owner, and the CA it prints lives there.
    expect(r.whileUp).toEqual([{ name: expect.stringMatching(/^vpcnet-azure-emu-/), mode: 0o700 }]);
    expect(r.stdout).toContain(join(tmp, r.whileUp![0]!.name, 'ca.pem'));
    expect(readdirSync(tmp)).toEqual([]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('when the scenario is refused after the keys were made', async () => {
    const file = join(tmp, '..', `${tmp.split('/').pop()}-scenario.json`);
    writeFileSync(file, JSON.stringify({ vnets: [{ name: 'v', addressPrefixes: ['10.0.0.0/16'], subnets: [{ name: 's', addressPrefix: '10.0.0.0/24' }] }], vms: [{ name: 'n1', subnet: 'v/nosuch' }] }));
    try {
      const r = await emulator(['--port', '0', '--imds-port', '0', '--scenario', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/nosuch/);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(file, { force: true });
    }
  }, 60_000);

  describe('when the port is in use', () => {
    let server: Server;
    afterAll(() => new Promise<void>((r) => server.close(() => r())));
    it('exits 2 and removes the keys', async () => {
      server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const r = await emulator(['--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is in use/);
      expect(readdirSync(tmp)).toEqual([]);
    }, 60_000);
  });
});
