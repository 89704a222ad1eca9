// Vendor example payloads live outside the repository, in ../shared/cloud-payloads (relative
// to the repo root; see SOURCES.md there) and are never copied in. Tests that read them are
// named *.shared.test.ts (or say "../shared" in their title) and fail with this one line when
// the directory is absent, instead of an ENOENT deep inside a parser.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const SHARED_PAYLOADS = resolve(REPO_ROOT, '..', 'shared', 'cloud-payloads');

export class SharedPayloadsMissing extends Error {
  override name = 'SharedPayloadsMissing';
}

/** Absolute path of one vendor payload; throws one clear line when it is not there. */
export function sharedPayloadPath(cloud: string, file: string, root: string = SHARED_PAYLOADS): string {
  if (!existsSync(root)) {
    throw new SharedPayloadsMissing(`this test needs the vendor payloads in ../shared/cloud-payloads, not found at ${root}`);
  }
  const path = join(root, cloud, file);
  if (!existsSync(path)) throw new SharedPayloadsMissing(`this test needs ${cloud}/${file} in ../shared/cloud-payloads, not found at ${path}`);
  return path;
}

export function readSharedPayload(cloud: string, file: string, root?: string): string {
  return readFileSync(sharedPayloadPath(cloud, file, root), 'utf8');
}
