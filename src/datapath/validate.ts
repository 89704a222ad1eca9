// Input checks for paths and names that arrive from the container runtime. They run before
// anything is changed, so a hostile request leaves the node untouched.
import { statfsSync } from 'node:fs';
import { VpcnetError } from '../errors.ts';
import { isHostVethName } from './naming.ts';

const NSFS_MAGIC = 0x6e736673;
export const DEFAULT_NETNS_DIRS = ['/var/run/netns', '/run/netns'];

/** Linux interface names: 1-15 bytes, no '/', ':', whitespace or control characters, not "." or "..". */
export function validateIfname(name: string): void {
  const ok =
    typeof name === 'string' &&
    name.length >= 1 &&
    Buffer.byteLength(name) <= 15 &&
    name !== '.' &&
    name !== '..' &&
    !/[/:\s\x00-\x1f\x7f]/.test(name);
  if (!ok) throw new VpcnetError('IFNAME_INVALID', 'invalid interface name', { details: { ifname: name } });
}

/** A host link the caller names directly must be one vpcnet made (never eth0 or a foreign link). */
export function validateHostIfname(name: string): void {
  if (!isHostVethName(name)) throw new VpcnetError('IFNAME_INVALID', 'not a vpcnet host interface name', { details: { ifname: name } });
}

/** validateNetnsPath without the existence check, as a predicate. */
export function isSaneNetnsPath(path: string, allowedDirs: readonly string[]): boolean {
  try {
    validateNetnsPath(path, allowedDirs, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * A pod netns path must be a plain absolute path inside an allowed directory (or
 * /proc/<pid>/ns/net), contain no "..", and be an nsfs mount when `mustExist`.
 */
export function validateNetnsPath(path: string, allowedDirs: readonly string[], mustExist = true): void {
  const bad = (reason: string): VpcnetError => new VpcnetError('NETNS_INVALID', `invalid netns path: ${reason}`, { details: { netns: path, reason } });
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096) throw bad('not an absolute path');
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '..' || p === '.' || p === '')) throw bad('path has empty, "." or ".." segments');
  if (/[\x00-\x1f\x7f]/.test(path)) throw bad('control characters');
  const inDir = allowedDirs.some((d) => {
    const dir = d.endsWith('/') ? d : `${d}/`;
    return path.startsWith(dir) && !path.slice(dir.length).includes('/');
  });
  if (!inDir && !/^\/proc\/[1-9]\d*\/(task\/[1-9]\d*\/)?ns\/net$/.test(path)) throw bad('outside the allowed directories');
  if (!mustExist) return;
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (err) {
    throw new VpcnetError('NETNS_INVALID', 'netns path does not exist', { cause: err, details: { netns: path, reason: 'missing' } });
  }
  if (type !== NSFS_MAGIC) throw bad('not a network namespace (nsfs) file');
}
