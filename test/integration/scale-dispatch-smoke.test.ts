// `npm run bench:scale -- --cloud azure` and `--cloud aws` reach their own runs through the
// real entry point (test/bench/scale.ts), each with one node: a wiring check, not a benchmark.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

function benchScale(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [join(ROOT, 'test', 'bench', 'scale.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trimEnd().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('bench:scale --cloud reaches that cloud', () => {
  it('azure: the Azure run (ARM writes counted)', async () => {
    const r = await benchScale(['--cloud', 'azure', '--nodes', '1', '--pods-per-node', '1', '--speed', '50', '--window-s', '1']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/only gcp|must be/) });
    expect(lastJson(r.stdout)).toMatchObject({ bench: 'scale', cloud: 'azure', nodes: 1, failures: 0, leakTotal: 0, armWrites: expect.any(Object) });
  }, 120_000);

  it('aws: the EC2 run (EC2 actions counted)', async () => {
    const r = await benchScale(['--cloud', 'aws', '--nodes', '1', '--cycles', '0', '--window-s', '1', '--json']);
    expect(r.code).toBe(0);
    const json = lastJson(r.stdout);
    expect(json).toMatchObject({ bench: 'scale', nodes: 1, failures: 0, leakTotal: 0 });
    expect((json.actions as { action: string }[]).map((a) => a.action)).toContain('DescribeNetworkInterfaces');
  }, 120_000);

  it('an unknown cloud is one line and exit 2', async () => {
    const r = await benchScale(['--cloud', 'mars']);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 2, stderr: 'bench:scale: --cloud must be aws, azure or gcp, got "mars"' });
  });
});
