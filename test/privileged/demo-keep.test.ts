// `vpcnet demo --keep` (root): the lab stays up and the printed recipe works as printed (vpcnet
// status, a pod of one's own through the CNI executable); `vpcnet demo --down` stops it from
// another shell, and also cleans up after a kept demo that was killed (kill -9). Each run uses
// its own prefix and always tears down, also when an assertion fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { keptLabFile } from '../../src/demo/kept-lab.ts';
import { Lab } from '../../src/lab/lab.ts';
import { listNetns } from '../../src/lab/exec.ts';
import { requireRoot, runPrefix } from './helpers/lab-helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

interface Kept {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

let prefix = '';
let kept: Kept | undefined;
afterEach(() => {
  if (kept && kept.child.exitCode === null && kept.child.signalCode === null) kept.child.kill('SIGKILL');
  if (prefix) Lab.cleanupStale(prefix);
  spawnSync(NODE, [MAIN, 'demo', '--down', '--prefix', prefix], { cwd: ROOT, stdio: 'ignore' });
});

/** Starts `vpcnet demo --keep` with one node and one pod; resolves once the recipe is printed. */
function startKept(): Promise<Kept> {
  const child = spawn(NODE, [MAIN, 'demo', '--keep', '--nodes', '1', '--pods', '1', '--prefix', prefix], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  kept = { child, stdout: () => out, exited };
  const k = kept;
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^Stop it: /m.test(out)) resolve(k);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then((code) => reject(new Error(`vpcnet demo --keep exited (${code}) before the lab was up: ${err.trim() || out.slice(-500)}`)));
  });
}

/** `vpcnet demo --down --prefix P`, without blocking this process (it reads the kept demo's output). */
function down(): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, 'demo', '--down', '--prefix', prefix], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/** Runs one printed recipe line as a shell would. */
function sh(line: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', env: { PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ours = (): string[] => listNetns().filter((ns) => ns.startsWith(`${prefix}-`));

describe('vpcnet demo --keep', () => {
  it('leaves the lab up, its recipe works as printed, and --down stops it and removes everything', async () => {
    requireRoot();
    prefix = runPrefix();
    const k = await startKept();
    const text = k.stdout();
    const work = /(\/\S+vpcnet-demo-\w+)\/node1\//.exec(text)?.[1];
    expect(work).toBeDefined();
    expect(existsSync(keptLabFile(prefix))).toBe(true);
    expect(ours()).toEqual(expect.arrayContaining([`${prefix}-node1`, `${prefix}-fabric`]));

    // vpcnet status, as printed (the CLI through node: the recipe says `vpcnet`).
    const api = /vpcnet status --api (\S+)/.exec(text)![1]!;
    const status = spawnSync(NODE, [MAIN, 'status', '--api', api, '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(status.status).toBe(0);
    expect((JSON.parse(status.stdout) as { pods: unknown[] }).pods).toHaveLength(1);

    // A pod of one's own, with the printed commands.
    const lines = text.split('\n').map((l) => l.trim());
    const cmd = (start: string): string => lines.find((l) => l.startsWith(start))!;
    expect(sh(cmd(`ip netns add ${prefix}-p-mine`)).code).toBe(0);
    const add = sh(cmd('CNI_COMMAND=ADD '));
    expect(add.code).toBe(0);
    const ip = (JSON.parse(add.stdout) as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]!;
    expect(sh(cmd(`ip netns exec ${prefix}-p-mine ip -4 addr show eth0`)).stdout).toContain(`inet ${ip}/32`);
    const del = sh(cmd('CNI_COMMAND=DEL '));
    expect({ code: del.code, stdout: del.stdout }).toEqual({ code: 0, stdout: '' });
    expect(sh(cmd(`ip netns del ${prefix}-p-mine`)).code).toBe(0);

    // Stopped from another shell: the demo tears down itself and ends well.
    const stopped = await down();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`^demo lab ${prefix}: stopped`));
    expect(await k.exited).toBe(0);
    expect(k.stdout()).toMatch(/pods deleted[\s\S]*demo: every connectivity check passed/);
    expect(ours()).toEqual([]);
    expect(existsSync(keptLabFile(prefix))).toBe(false);
    expect(existsSync(work!)).toBe(false);
  }, 180_000);

  it('--down removes what a killed kept demo left: namespaces, work directory, state file', async () => {
    requireRoot();
    prefix = runPrefix();
    const k = await startKept();
    const work = /(\/\S+vpcnet-demo-\w+)\/node1\//.exec(k.stdout())![1]!;
    k.child.kill('SIGKILL');
    await k.exited;
    expect(ours().length).toBeGreaterThan(0);

    const cleaned = await down();
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toMatch(new RegExp(`^demo lab ${prefix}: its demo process was gone; removed leftover namespaces`));
    expect(ours()).toEqual([]);
    expect(existsSync(keptLabFile(prefix))).toBe(false);
    expect(existsSync(work)).toBe(false);
  }, 180_000);
});
