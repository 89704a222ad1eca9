// Helpers for privileged lab tests: root check, per-run prefix, echo servers in namespaces,
// and state dumps of a namespace for before/after comparisons.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Lab } from '../../../src/lab/lab.ts';

const ECHO = join(import.meta.dirname, 'echo.ts');

/** Fails loudly when the tier cannot run. */
export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('privileged tests need root (network namespaces, veths, nftables): run as root, e.g. in the CI container');
  }
}

export function runPrefix(): string {
  return `vpd${randomBytes(2).toString('hex')}`;
}

export interface Server {
  proc: ChildProcess;
  stop(): void;
}

/** Starts the echo server inside `ns` and waits until it listens. */
export async function startEcho(ns: string, port: number): Promise<Server> {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ECHO, 'server', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo server in ${ns} did not start`)), 15_000);
    proc.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${ns} exited ${code}`));
    });
  });
  return {
    proc,
    stop: () => {
      if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGTERM');
    },
  };
}

/** Connects from `ns` to host:port; resolves with the address the server saw, or "unreachable". */
export function echoFrom(ns: string, host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ECHO, 'client', host, String(port)], {
      env: { ...process.env, ECHO_TIMEOUT_MS: String(timeoutMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => resolve(code === 0 ? out.trim() : 'unreachable'));
  });
}

/** Everything `ip`/`nft` show for a namespace, with volatile neighbour states stripped. */
export function dumpNs(lab: Lab, ns: string): string {
  const sh = (args: string[]): string => lab.execSync(ns, args[0] ?? 'ip', args.slice(1));
  const neigh = sh(['ip', 'neigh', 'show'])
    .split('\n')
    .map((l) => l.replace(/ (REACHABLE|STALE|DELAY|PROBE|FAILED|INCOMPLETE|NOARP)\s*$/, ''))
    .join('\n');
  return [
    sh(['ip', '-d', 'link', 'show']),
    sh(['ip', 'addr', 'show']),
    sh(['ip', 'route', 'show', 'table', 'all']),
    sh(['ip', 'rule', 'show']),
    neigh,
    sh(['nft', 'list', 'ruleset']),
  ].join('\n----\n');
}
