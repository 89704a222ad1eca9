// FileCheckpointStore's journal: a commit is durable once its record is appended and flushed;
// the checkpoint file is replaced without a flush, so after a power loss it may be older than
// the journal, empty, or (after a hand edit) the one to trust.
import { describe, expect, it } from '@jest/globals';
import { appendFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FileCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { CHECKPOINT_VERSION } from '../../../src/ipam/checkpoint-schema.ts';
import type { CheckpointData } from '../../../src/ipam/types.ts';
import { checkpointFiles } from './checkpoint-files.ts';
import { T0 } from './helpers.ts';

const files = checkpointFiles('vpcnet-journal-');

const store = files.store;

/** State with `n` allocations c1..cn, so each commit is told apart by its count. */
function state(n: number): CheckpointData {
  const nic = { id: 'eni-1', deviceIndex: 0, mac: '02:00:00:00:00:01', subnetId: 's', subnetCidr: '10.0.0.0/24', primaryIp: '10.0.0.4', securityGroups: [], blocks: [] };
  const allocations = Array.from({ length: n }, (_, i) => ({
    containerId: `c${i + 1}`,
    ifname: 'eth0',
    ip: `10.0.0.${10 + i}`,
    blockCidr: `10.0.0.${10 + i}/32`,
    blockKind: 'ip' as const,
    nicId: 'eni-1',
    deviceIndex: 0,
    nicMac: '02:00:00:00:00:01',
    subnetCidr: '10.0.0.0/24',
    allocatedAt: T0,
  }));
  return { nics: [nic], allocations, lost: [], cooldowns: [], conditions: [] };
}

const count = async (s: FileCheckpointStore): Promise<number | undefined> => (await s.load())?.allocations.length;
const journalLines = async (): Promise<string[]> => (await readFile(`${files.path}.journal`, 'utf8')).split('\n').filter(Boolean);

describe('FileCheckpointStore journal', () => {
  it('writes the first commit as a durable file, later ones to the journal, and keeps the file whole for readers', async () => {
    const s = store();
    await s.commit(state(1));
    expect(await journalLines()).toEqual([]);
    for (let n = 2; n <= 4; n++) await s.commit(state(n));
    expect(await journalLines()).toHaveLength(3);
    // A reader of the file (operator, test, a killed agent's successor) sees the last commit.
    const file = JSON.parse(await readFile(files.path, 'utf8')) as { version: number; seq: number; data: CheckpointData };
    expect(file).toMatchObject({ version: CHECKPOINT_VERSION, seq: 4 });
    expect(file.data.allocations).toHaveLength(4);
    expect(await count(store())).toBe(4);
    expect((await readdir(files.dir)).sort()).toEqual(['checkpoint.json', 'checkpoint.json.journal']);
  });

  it('restores the journal newer than a file that lost its unflushed replacements (power loss)', async () => {
    const s = store();
    await s.commit(state(1));
    const durable = await readFile(files.path, 'utf8');
    await s.commit(state(2));
    await s.commit(state(3));
    await writeFile(files.path, durable); // the replacements never reached the disk; the journal did
    expect(await count(store())).toBe(3);
  });

  it('ignores a torn record at the journal end (crash during the append)', async () => {
    const s = store();
    await s.commit(state(1));
    await s.commit(state(2));
    const durable = await readFile(files.path, 'utf8');
    await s.commit(state(3));
    const last = (await journalLines())[1]!;
    await writeFile(`${files.path}.journal`, `${(await journalLines())[0]}\n${last.slice(0, last.length / 2)}`);
    await writeFile(files.path, durable);
    expect(await count(store())).toBe(2);
  });

  it('stops at a record whose checksum does not match, whatever follows', async () => {
    const s = store();
    for (let n = 1; n <= 4; n++) await s.commit(state(n));
    const durable = JSON.stringify({ version: CHECKPOINT_VERSION, writtenAt: T0, seq: 1, data: state(1) });
    const [a, b, c] = await journalLines();
    await writeFile(`${files.path}.journal`, `${a}\n${b!.replace('"c1"', '"x1"')}\n${c}\n`);
    await writeFile(files.path, durable);
    expect(await count(store())).toBe(2);
  });

  it('lets a hand-edited file win over the journal record of the same commit', async () => {
    const s = store();
    await s.commit(state(1));
    await s.commit(state(3));
    const raw = JSON.parse(await readFile(files.path, 'utf8')) as { data: CheckpointData };
    raw.data.allocations = raw.data.allocations.filter((a) => a.containerId !== 'c2');
    await writeFile(files.path, JSON.stringify(raw));
    expect((await store().load())?.allocations.map((a) => a.containerId)).toEqual(['c1', 'c3']);
  });

  it('restores from the journal when the file is unreadable, keeps the bad file aside and says so', async () => {
    const s = store();
    await s.commit(state(1));
    await s.commit(state(2));
    await writeFile(files.path, ''); // some filesystems show an unflushed replacement empty after a power loss
    const warnings: Array<Record<string, unknown>> = [];
    expect(await count(store({ warn: (_msg, details) => warnings.push(details) }))).toBe(2);
    expect(warnings).toHaveLength(1);
    const aside = (await readdir(files.dir)).find((f) => f.startsWith('checkpoint.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(files.dir, aside!), 'utf8')).toBe('');
  });

  it('still refuses an unreadable file when there is no journal to restore from', async () => {
    await writeFile(files.path, 'garbage');
    await expect(store().load()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', details: { path: files.path } });
    expect(await readFile(files.path, 'utf8')).toBe('garbage');
  });

  it('treats a journal without its file as no state, and the next commit empties it', async () => {
    const s = store();
    await s.commit(state(1));
    await s.commit(state(2));
    await rm(files.path); // an operator starting over
    const fresh = store();
    expect(await fresh.load()).toBeNull();
    await fresh.commit(state(5));
    expect(await journalLines()).toEqual([]);
    expect(await count(store())).toBe(5);
  });

  it('folds the journal into a durable file once it passes its limit', async () => {
    const s = store({ journalLimitBytes: 1500 });
    for (let n = 1; n <= 12; n++) await s.commit(state(n));
    const lines = await journalLines();
    expect(lines.length).toBeLessThan(11);
    const durableSeq = (JSON.parse(lines[0]!.slice(9)) as { seq: number }).seq - 1;
    expect(durableSeq).toBeGreaterThan(1); // a later commit than the first was written durably
    expect(await count(store())).toBe(12);
  });

  it('a store that commits without load() continues past the sequence numbers on disk', async () => {
    const s = store();
    for (let n = 1; n <= 5; n++) await s.commit(state(n));
    await s.close();
    const blind = store();
    await blind.commit(state(7));
    await blind.commit(state(8));
    expect(await count(store())).toBe(8);
  });

  it('refuses an intact journal record that does not parse, and one from a newer version', async () => {
    const s = store();
    await s.commit(state(1));
    const bad = JSON.stringify({ version: CHECKPOINT_VERSION, writtenAt: T0, seq: 9, data: { nics: 'x' } });
    await appendFile(`${files.path}.journal`, `${crc32(bad).toString(16).padStart(8, '0')} ${bad}\n`);
    await expect(store().load()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', details: { path: `${files.path}.journal` } });
    const newer = JSON.stringify({ version: CHECKPOINT_VERSION + 1, writtenAt: T0, seq: 9, data: {} });
    await writeFile(`${files.path}.journal`, `${crc32(newer).toString(16).padStart(8, '0')} ${newer}\n`);
    await expect(store().load()).rejects.toMatchObject({ code: 'CHECKPOINT_VERSION' });
  });
});
