// Helpers for privileged lab tests: root check, per-run prefix, echo servers in namespaces,
// and state dumps of a namespace for before/after comparisons.
import { randomBytes } from 'node:crypto';
import type { Lab } from '../../../src/lab/lab.ts';

/** Fails loudly when the tier cannot run. */
export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('privileged tests need root (network namespaces, veths, nftables): run as root, e.g. in the CI container');
  }
}

export function runPrefix(): string {
  return `vpd${randomBytes(2).toString('hex')}`;
}

export { startEcho, echoFrom, type EchoServer as Server } from '../../../src/lab/echo-probe.ts';

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
