import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { FileCheckpointStore, MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { CHECKPOINT_VERSION } from '../../../src/ipam/checkpoint-schema.ts';
import { PoolManager } from '../../../src/ipam/pool-manager.ts';
import type { CheckpointData } from '../../../src/ipam/types.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { SMALL, T0, pod } from './helpers.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpcnet-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample: CheckpointData = {
  nics: [{ id: 'eni-1', deviceIndex: 0, mac: '02:00:00:00:00:01', subnetId: 's', subnetCidr: '10.0.0.0/24', primaryIp: '10.0.0.4', securityGroups: [], blocks: [{ kind: 'ip', cidr: '10.0.0.5/32' }] }],
  allocations: [{ containerId: 'c1', ifname: 'eth0', ip: '10.0.0.5', blockCidr: '10.0.0.5/32', blockKind: 'ip', nicId: 'eni-1', deviceIndex: 0, nicMac: '02:00:00:00:00:01', subnetCidr: '10.0.0.0/24', allocatedAt: T0 }],
  lost: [],
  cooldowns: [],
  conditions: [],
};

describe('FileCheckpointStore', () => {
  it('returns null when nothing was ever committed, then what was committed', async () => {
    const store = new FileCheckpointStore(join(dir, 'sub', 'pool.json'), { now: () => T0 });
    expect(await store.load()).toBeNull();
    await store.commit(sample);
    expect(await store.load()).toEqual(sample);
    const envelope = JSON.parse(await readFile(join(dir, 'sub', 'pool.json'), 'utf8'));
    expect(envelope).toMatchObject({ version: CHECKPOINT_VERSION, writtenAt: T0 });
    expect((await readdir(join(dir, 'sub'))).sort()).toEqual(['pool.json', 'pool.json.journal']); // no temp files left behind
    await store.close();
  });

  it('replaces the file atomically on every commit', async () => {
    const path = join(dir, 'pool.json');
    const store = new FileCheckpointStore(path);
    await store.commit(sample);
    await store.commit({ ...sample, allocations: [] });
    expect((await store.load())?.allocations).toEqual([]);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['no version', '{"data":{}}'],
    ['bad shape', JSON.stringify({ version: 1, writtenAt: 1, data: { nics: 'x' } })],
  ])('stops with CHECKPOINT_CORRUPT naming the path and leaves the file untouched (%s)', async (_why, text) => {
    const path = join(dir, 'pool.json');
    await writeFile(path, text);
    const store = new FileCheckpointStore(path);
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHECKPOINT_CORRUPT', details: { path } });
    expect((err as Error).message).toContain(path);
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('refuses a checkpoint from a newer version with CHECKPOINT_VERSION', async () => {
    const path = join(dir, 'pool.json');
    const text = JSON.stringify({ version: 7, writtenAt: 1, data: { whatever: true } });
    await writeFile(path, text);
    await expect(new FileCheckpointStore(path).load()).rejects.toMatchObject({ code: 'CHECKPOINT_VERSION', details: { version: 7 } });
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('keeps the agent from starting on a bad checkpoint, and does not overwrite it', async () => {
    const path = join(dir, 'pool.json');
    await writeFile(path, 'garbage');
    const clock = new FakeClock(T0);
    const cloud = new FakeCloudProvider({ limits: SMALL, clock });
    const m = new PoolManager({ provider: cloud, store: new FileCheckpointStore(path), limits: cloud.limits, clock });
    await expect(m.start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
    expect(m.ready()).toBe(false);
    await expect(m.allocate(pod(1))).rejects.toMatchObject({ code: 'POOL_NOT_READY' });
    expect(await readFile(path, 'utf8')).toBe('garbage');
    expect(cloud.callCount('assign')).toBe(0);
  });

  it('reports a checkpoint that would double-assign as corrupt', async () => {
    const bad = { ...sample, allocations: [...sample.allocations, { ...sample.allocations[0]!, containerId: 'c2' }] };
    const clock = new FakeClock(T0);
    const cloud = new FakeCloudProvider({ limits: SMALL, clock });
    const m = new PoolManager({ provider: cloud, store: new MemoryCheckpointStore(bad), limits: cloud.limits, clock });
    await expect(m.start()).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
  });
});

describe('restart from a file checkpoint', () => {
  it('keeps every allocation across a restart and hands none out twice', async () => {
    const path = join(dir, 'pool.json');
    const clock = new FakeClock(T0);
    const cloud = new FakeCloudProvider({ limits: SMALL, clock });
    const m1 = new PoolManager({ provider: cloud, store: new FileCheckpointStore(path), limits: cloud.limits, clock });
    await m1.start();
    const first = await Promise.all([1, 2, 3, 4].map((i) => m1.allocate(pod(i))));
    await m1.stop();
    const m2 = new PoolManager({ provider: cloud, store: new FileCheckpointStore(path), limits: cloud.limits, clock });
    await m2.start();
    expect(await m2.allocate(pod(2))).toEqual(first[1]);
    const next = await m2.allocate(pod(5));
    expect(first.map((a) => a.ip)).not.toContain(next.ip);
    await m2.stop();
  });
});
