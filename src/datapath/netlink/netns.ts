// Entering a network namespace for the length of one synchronous call. The calling thread
// setns()es into the target, runs `fn` (which must not await), and switches back to the
// namespace it started in (a fd opened once on /proc/thread-self/ns/net). If switching back
// fails the thread would silently keep running in a pod's namespace, so the process aborts.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { VpcnetError } from '../../errors.ts';
import { loadSetnsAddon } from '../native/setns-addon.ts';

// One fd per thread on the namespace the thread started in; module state by necessity.
let homeFd: number | undefined;

function home(): number {
  homeFd ??= openSync('/proc/thread-self/ns/net', constants.O_RDONLY);
  return homeFd;
}

/** Opens a netns file (e.g. /var/run/netns/x, /proc/<pid>/ns/net) read-only. */
export function openNetnsFd(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY);
  } catch (err) {
    throw new VpcnetError('NETNS_INVALID', 'cannot open network namespace', {
      cause: err,
      details: { netns: path, errno: (err as NodeJS.ErrnoException).code },
    });
  }
}

/** Runs `fn` synchronously inside the namespace behind `fd`; never pass an async function. */
export function inNetnsFd<T>(fd: number, fn: () => T): T {
  const addon = loadSetnsAddon();
  const back = home();
  try {
    addon.setns(fd);
  } catch (err) {
    throw new VpcnetError('NETNS_INVALID', 'setns into the network namespace failed', {
      cause: err,
      details: { errno: (err as { code?: string }).code },
    });
  }
  try {
    return fn();
  } finally {
    try {
      addon.setns(back);
    } catch (err) {
      process.stderr.write(`vpcnet: cannot return to the original network namespace: ${String(err)}\n`);
      process.abort();
    }
  }
}

/** Same as inNetnsFd with a path; `undefined` means the current namespace. */
export function inNetns<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  const fd = openNetnsFd(path);
  try {
    return inNetnsFd(fd, fn);
  } finally {
    closeSync(fd);
  }
}

/** Inode of a netns file: two paths name the same namespace iff their inodes match. */
export function netnsInode(path: string): number {
  const fd = openNetnsFd(path);
  try {
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}
