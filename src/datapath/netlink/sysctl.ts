// Per-namespace sysctls: /proc/sys/net resolves to the namespace of the thread that opens
// the file, so the read or write happens while the thread is inside the target namespace.
import { readFileSync, writeFileSync } from 'node:fs';
import { VpcnetError } from '../../errors.ts';
import { inNetns } from './netns.ts';

/** `key` in slash form below /proc/sys, e.g. "net/ipv4/conf/eth1/rp_filter". */
function pathOf(key: string): string {
  if (key.split('/').some((p) => p === '..' || p === '' || p === '.')) {
    throw new VpcnetError('INTERNAL', 'bad sysctl key', { details: { key } });
  }
  return `/proc/sys/${key}`;
}

export function readSysctl(netns: string | undefined, key: string): string {
  const path = pathOf(key);
  try {
    return inNetns(netns, () => readFileSync(path, 'utf8')).trim();
  } catch (err) {
    throw new VpcnetError('NETLINK', 'sysctl read failed', { cause: err, details: { op: 'sysctl.read', key, netns, errno: (err as NodeJS.ErrnoException).code } });
  }
}

/** Writes only when the value differs, so repeated setup is a no-op. */
export function writeSysctl(netns: string | undefined, key: string, value: string): void {
  const path = pathOf(key);
  try {
    inNetns(netns, () => {
      if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
    });
  } catch (err) {
    throw new VpcnetError('NETLINK', 'sysctl write failed', { cause: err, details: { op: 'sysctl.write', key, value, netns, errno: (err as NodeJS.ErrnoException).code } });
  }
}
