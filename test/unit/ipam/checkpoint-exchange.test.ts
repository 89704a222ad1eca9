// FileCheckpointStore replacing <path> by a name exchange (renameat2 RENAME_EXCHANGE from the
// setns addon) instead of a rename over it, which on ext4 starts the new file's writeback on the
// agent's thread in every commit. Readers must still see the whole last commit, no temp file is
// left, and a filesystem without the exchange falls back to rename for good.
import { describe, expect, it } from '@jest/globals';
import { existsSync, renameSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileCheckpointStore, replaceFileSync, type RenameExchange } from '../../../src/ipam/checkpoint.ts';
import type { CheckpointData } from '../../../src/ipam/types.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { checkpointFiles } from './checkpoint-files.ts';
import { T0 } from './helpers.ts';

const files = checkpointFiles('vpcnet-exchange-');

function state(n: number): CheckpointData {
  return { nics: [], allocations: [], lost: [], cooldowns: Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, until: T0 + i })), conditions: [] };
}

/** An exchange done with three renames (not atomic: fine for a test), recording its calls. */
function fakeExchange(calls: Array<[string, string]>, fail?: () => Error | undefined): RenameExchange {
  return (a, b) => {
    calls.push([a, b]);
    const err = fail?.();
    if (err) throw err;
    if (!existsSync(b)) throw Object.assign(new Error('renameat2: No such file or directory'), { code: 'ENOENT' });
    const mid = `${a}.swap`;
    renameSync(a, mid);
    renameSync(b, a);
    renameSync(mid, b);
  };
}

const fileSeq = async (): Promise<number> => (JSON.parse(await readFile(files.path, 'utf8')) as { seq: number }).seq;

describe('FileCheckpointStore with a name exchange', () => {
  it('replaces the file by exchange in journalled commits, leaving only the file and its journal', async () => {
    const calls: Array<[string, string]> = [];
    const s = files.store({ exchange: fakeExchange(calls) });
    await s.commit(state(1)); // durable base: plain rename
    expect(calls).toHaveLength(0);
    for (let n = 2; n <= 4; n++) await s.commit(state(n));
    expect(calls).toHaveLength(3);
    expect(calls.every(([, b]) => b === files.path)).toBe(true);
    expect(await fileSeq()).toBe(4);
    expect((await readdir(files.dir)).sort()).toEqual(['checkpoint.json', 'checkpoint.json.journal']);
    expect((await new FileCheckpointStore(files.path).load())?.cooldowns).toHaveLength(4);
  });

  it('falls back to rename for good when the filesystem refuses the exchange', async () => {
    const calls: Array<[string, string]> = [];
    const einval = Object.assign(new Error('renameat2: Invalid argument'), { code: 'EINVAL' });
    const s = files.store({ exchange: fakeExchange(calls, () => einval) });
    for (let n = 1; n <= 4; n++) await s.commit(state(n));
    expect(calls).toHaveLength(1);
    expect(await fileSeq()).toBe(4);
    expect((await readdir(files.dir)).sort()).toEqual(['checkpoint.json', 'checkpoint.json.journal']);
  });

  it('fails the commit on any other exchange error and leaves no temp file', async () => {
    let failNext = false;
    const eio = Object.assign(new Error('renameat2: I/O error'), { code: 'ESYSCALL' });
    const s = files.store({ exchange: fakeExchange([], () => (failNext ? eio : undefined)) });
    await s.commit(state(1));
    await s.commit(state(2));
    failNext = true;
    const err = await s.commit(state(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VpcnetError);
    expect(err).toMatchObject({ code: 'CHECKPOINT_IO' });
    expect((await readdir(files.dir)).sort()).toEqual(['checkpoint.json', 'checkpoint.json.journal']);
    failNext = false;
    await s.commit(state(4));
    expect(await fileSeq()).toBe(4);
  });

  it('takes the plain rename when the target does not exist yet', async () => {
    const calls: Array<[string, string]> = [];
    const tmp = join(files.dir, '.new.tmp');
    expect(replaceFileSync(tmp, files.path, Buffer.from('{"x":1}'), fakeExchange(calls))).toBe(true);
    expect(calls).toHaveLength(1);
    expect(await readFile(files.path, 'utf8')).toBe('{"x":1}');
    expect(await readdir(files.dir)).toEqual(['checkpoint.json']);
  });
});
