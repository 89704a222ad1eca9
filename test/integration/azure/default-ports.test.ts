// The three standalone emulators run side by side with no flags: their default ports differ
// (EC2 8999, GCE 8998, ARM 8997). Spawns each as a user would and checks all three listen.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
const LOCAL_NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    children.splice(0).map((c) => {
      if (c.exitCode !== null) return undefined;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      return exited;
    }),
  );
});

/** Starts `vpcnet emulator <cloud>` with no flags; resolves with the first endpoint it prints, rejects if it exits. */
function startDefault(cloud: string): Promise<string> {
  const c = spawn(NODE, [MAIN, 'emulator', cloud], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /(https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    c.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    c.once('exit', (code) => reject(new Error(`vpcnet emulator ${cloud} exited ${String(code)}: ${out.trim()}`)));
  });
}

describe('standalone emulators with default ports', () => {
  it('aws, gcp and azure start together with no flags', async () => {
    const endpoints = await Promise.all(['aws', 'gcp', 'azure'].map(startDefault));
    expect(endpoints).toEqual(['http://127.0.0.1:8999', 'http://127.0.0.1:8998', 'https://127.0.0.1:8997']);
  }, 60_000);
});
