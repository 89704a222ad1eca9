// Command runner for the lab. Every command names a lab namespace (`ip -n NS` or
// `ip netns exec NS`); the guard refuses namespaces outside the lab's prefix, so nothing
// ever runs in the host's root namespace.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { VpcnetError } from '../errors.ts';

const execFileP = promisify(execFile);

export function assertLabNs(prefix: string, ns: string): void {
  if (!prefix || !ns.startsWith(`${prefix}-`) || !/^[A-Za-z0-9_.-]+$/.test(ns)) {
    throw new VpcnetError('INTERNAL', 'refusing to act outside a lab namespace', { details: { prefix, ns } });
  }
}

/** `ip netns exec NS cmd args...` synchronously; throws with stderr on failure. */
export function nsExecSync(prefix: string, ns: string, cmd: string, args: string[], input?: string): string {
  assertLabNs(prefix, ns);
  const res = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  if (res.error || res.status !== 0) {
    throw new VpcnetError('INTERNAL', `lab command failed: ${cmd} ${args.join(' ')}`, {
      cause: res.error,
      details: { ns, status: res.status, stderr: (res.stderr ?? '').slice(0, 2000) },
    });
  }
  return res.stdout;
}

export async function nsExec(prefix: string, ns: string, cmd: string, args: string[], input?: string): Promise<string> {
  assertLabNs(prefix, ns);
  try {
    const run = execFileP('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 60_000, maxBuffer: 16 << 20 });
    if (input !== undefined) run.child.stdin?.end(input);
    const { stdout } = await run;
    return stdout;
  } catch (err) {
    throw new VpcnetError('INTERNAL', `lab command failed: ${cmd} ${args.join(' ')}`, {
      cause: err,
      details: { ns, stderr: String((err as { stderr?: string }).stderr ?? '').slice(0, 2000) },
    });
  }
}

/** `ip netns add|del NAME` (these act on /run/netns, not on any namespace's network state). */
export function netnsAdd(prefix: string, ns: string): void {
  assertLabNs(prefix, ns);
  const res = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (res.status !== 0) throw new VpcnetError('INTERNAL', 'ip netns add failed', { details: { ns, stderr: res.stderr } });
}

export function netnsDel(prefix: string, ns: string): boolean {
  assertLabNs(prefix, ns);
  return spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' }).status === 0;
}

export function listNetns(): string[] {
  const res = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (res.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}
