// A fresh directory per test for FileCheckpointStore tests, with the stores they open closed
// and the directory removed after each test (also when it fails).
import { afterEach, beforeEach } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { T0 } from './helpers.ts';

export interface CheckpointFiles {
  /** This test's directory. */
  dir: string;
  /** `<dir>/checkpoint.json`. */
  path: string;
  /** A store on `path` at T0, closed after the test. */
  store(opts?: ConstructorParameters<typeof FileCheckpointStore>[1]): FileCheckpointStore;
}

export function checkpointFiles(prefix: string): CheckpointFiles {
  const stores: FileCheckpointStore[] = [];
  const files: CheckpointFiles = {
    dir: '',
    path: '',
    store(opts = {}) {
      const s = new FileCheckpointStore(files.path, { now: () => T0, ...opts });
      stores.push(s);
      return s;
    },
  };
  beforeEach(async () => {
    files.dir = await mkdtemp(join(tmpdir(), prefix));
    files.path = join(files.dir, 'checkpoint.json');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await rm(files.dir, { recursive: true, force: true });
  });
  return files;
}
