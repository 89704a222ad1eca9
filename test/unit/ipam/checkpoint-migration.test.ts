// Checkpoint versions: a file written by an older agent is read and migrated on start (the
// fixture was written by main at 7d36345, version 1); the schema is strict, so a key this
// agent does not know is corruption, never silently dropped.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileCheckpointStore, parseEnvelope } from '../../../src/ipam/checkpoint.ts';
import { CHECKPOINT_VERSION } from '../../../src/ipam/checkpoint-schema.ts';
import { Pool } from '../../../src/ipam/pool.ts';
import { SMALL, T0 } from './helpers.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/checkpoint/v1-main-7d36345.json', import.meta.url));
const LIMITS = { maxNics: 3, addressesPerNic: 4, blockKinds: SMALL.blockKinds ?? ['ip'], prefixLength: 28, maxPods: 11 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vc9s-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoint version 1 (written by main) is migrated on load', () => {
  it('loads every allocation, cooldown and NIC, restores the pool, and the next commit writes today\'s version', async () => {
    const original = JSON.parse(await readFile(FIXTURE, 'utf8')) as { version: number; data: { allocations: Array<{ containerId: string; ip: string }>; cooldowns: unknown[]; nics: unknown[] } };
    expect(original.version).toBe(1);
    const path = join(dir, 'checkpoint.json');
    await copyFile(FIXTURE, path);
    const store = new FileCheckpointStore(path, { now: () => T0 });
    const data = await store.load();
    expect(data).toEqual(original.data);
    expect(parseEnvelope(await readFile(path, 'utf8'), path)).toMatchObject({ version: CHECKPOINT_VERSION, migratedFrom: 1 });

    const pool = Pool.fromCheckpoint(data!, { limits: LIMITS, nicLifecycle: true });
    expect(pool.allocations().map((a) => [a.containerId, a.ip]).sort()).toEqual(original.data.allocations.map((a) => [a.containerId, a.ip]).sort());
    expect(pool.toCheckpoint().cooldowns).toEqual(original.data.cooldowns);
    expect(pool.status(T0).nics).toHaveLength(original.data.nics.length);

    await store.commit(pool.toCheckpoint());
    const rewritten = JSON.parse(await readFile(path, 'utf8')) as { version: number };
    expect(rewritten.version).toBe(CHECKPOINT_VERSION);
    expect((await store.load())?.allocations).toEqual(data?.allocations);
  });

  it('a version 1 file with a key version 1 never had is corrupt and left untouched', async () => {
    const v1 = JSON.parse(await readFile(FIXTURE, 'utf8')) as { data: { nics: Array<{ blocks: Array<Record<string, unknown>> }> } };
    const first = v1.data.nics[0]?.blocks[0];
    if (first) first.ref = 'ipconfig1'; // only version 2 has refs
    const path = join(dir, 'checkpoint.json');
    const text = JSON.stringify(v1);
    await writeFile(path, text);
    await expect(new FileCheckpointStore(path).load()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
    expect(await readFile(path, 'utf8')).toBe(text);
  });
});

describe('checkpoint version 2 is strict and keeps provider data', () => {
  const nic = { id: 'nic-1', deviceIndex: 0, mac: '02:00:00:00:00:01', subnetId: 's', subnetCidr: '10.1.0.0/20', primaryIp: '10.1.0.4', securityGroups: [], mtu: 1500, ref: '/subscriptions/x/nic-1' };
  const data = {
    nics: [{ ...nic, blocks: [{ kind: 'ip' as const, cidr: '10.1.0.5/32', ref: 'ipconfig2', state: 'pending' as const }] }],
    allocations: [],
    lost: [],
    cooldowns: [],
    conditions: [],
  };

  it('round-trips refs, states and the NIC MTU', async () => {
    const store = new FileCheckpointStore(join(dir, 'c.json'));
    await store.commit(data);
    expect(await store.load()).toEqual(data);
  });

  it.each([
    ['an unknown top-level key', (d: Record<string, unknown>) => ({ ...d, extra: 1 })],
    ['an unknown block key', (d: typeof data) => ({ ...d, nics: [{ ...d.nics[0], blocks: [{ kind: 'ip', cidr: '10.1.0.5/32', owner: 'x' }] }] })],
    ['an unknown block state', (d: typeof data) => ({ ...d, nics: [{ ...d.nics[0], blocks: [{ kind: 'ip', cidr: '10.1.0.5/32', state: 'Succeeded' }] }] })],
  ])('refuses %s with CHECKPOINT_CORRUPT', async (_why, change) => {
    const path = join(dir, 'c.json');
    await writeFile(path, JSON.stringify({ version: 2, writtenAt: 1, data: change(data as never) }));
    await expect(new FileCheckpointStore(path).load()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });
});
