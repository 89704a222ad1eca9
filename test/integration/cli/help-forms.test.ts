// Every help form a user may type, for every command: `X --help`, `X -h`, `help X`, doubled
// and mixed forms. Each prints that command's help on stdout, exits 0 and shows no stack
// trace. The command list comes from the CLI's own tables, so a new command is walked too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { COMMANDS } from '../../../src/cli/route.ts';
import { availableClouds } from '../../../providers/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function vpcnet(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // A help that starts something long-running instead is a failure, not a hang.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the argv lists a few at a time (the machine is shared). */
async function runAll(list: string[][]): Promise<Run[]> {
  const out: Run[] = new Array<Run>(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      out[i] = await vpcnet(list[i]!);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return out;
}

/** `help X` and `X --help` in every spelling; `cmd` may be two words (emulator aws). */
function formsOf(cmd: string[]): string[][] {
  return [
    [...cmd, '--help'],
    [...cmd, '-h'],
    [...cmd, '--help', '--help'],
    ['help', ...cmd],
    ['help', ...cmd, '--help'],
    ['--help', ...cmd],
    ['-h', '--help', ...cmd],
  ];
}

function expectHelp(args: string[], r: Run, title: string): void {
  const seen = { args, code: r.code, signal: r.signal, stderr: r.stderr, first: r.stdout.split('\n')[0] };
  expect(seen).toEqual({ args, code: 0, signal: null, stderr: '', first: expect.stringMatching(new RegExp(`^${title} - \\S`)) });
  expect(r.stdout).toMatch(/\nUsage: vpcnet/);
  expect(r.stdout).not.toMatch(/RangeError|\n\s+at |node:internal/);
}

const commands: string[][] = [...COMMANDS.map((c) => [c]), ...availableClouds().map((c) => ['emulator', c]), ['version']];

describe('every help form prints help and exits 0', () => {
  it('vpcnet itself: help, --help, -h, alone and repeated', async () => {
    const list = [[], ['help'], ['--help'], ['-h'], ['help', 'help'], ['help', '--help'], ['--help', '--help'], ['help', '-h'], ['-h', '-h'], ['-h', 'help', '--help']];
    const runs = await runAll(list);
    list.forEach((args, i) => expectHelp(args, runs[i]!, 'vpcnet'));
  }, 120_000);

  it.each(commands.map((c) => [c.join(' '), c] as const))('vpcnet %s', async (_name, cmd) => {
    const list = formsOf(cmd);
    const runs = await runAll(list);
    list.forEach((args, i) => expectHelp(args, runs[i]!, `vpcnet ${cmd.join(' ')}`));
  }, 120_000);

  it('version --help is the help of version, not the version', async () => {
    const r = await vpcnet(['version', '--help']);
    expect(r.stdout).not.toMatch(/^vpcnet \d+\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(/^vpcnet version - /);
  });
});
