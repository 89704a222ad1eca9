import { describe, expect, it } from '@jest/globals';
import { FakeCloudProvider } from '../../../providers/fake/fake-provider.ts';
import { cidrSize } from '../../../src/util/ip.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('FakeCloudProvider', () => {
  it('starts with a primary NIC and reports itself through discover()', async () => {
    const cloud = new FakeCloudProvider({ limits: { maxNics: 4, addressesPerNic: 15 } });
    const { node, limits } = await cloud.discover();
    expect(limits).toMatchObject({ maxNics: 4, addressesPerNic: 15 });
    const nics = await cloud.listNics();
    expect(nics).toHaveLength(1);
    expect(nics[0]).toMatchObject({ deviceIndex: 0, id: node.primaryNicId, primaryIp: node.primaryIp, blocks: [] });
  });

  it('assigns addresses and aligned prefixes, and listNics is the truth', async () => {
    const cloud = new FakeCloudProvider();
    const nicId = cloud.primaryNic.id;
    const ips = await cloud.assign({ nicId, kind: 'ip', count: 2 });
    const prefixes = await cloud.assign({ nicId, kind: 'prefix', count: 1 });
    expect(ips.every((b) => b.cidr.endsWith('/32'))).toBe(true);
    expect(cidrSize(prefixes[0]!.cidr)).toBe(16);
    expect(Number(prefixes[0]!.cidr.split('.')[3]!.split('/')[0]) % 16).toBe(0);
    expect((await cloud.listNics())[0]?.blocks).toEqual([...ips, ...prefixes]);
  });

  it('enforces per-NIC and per-instance limits with CLOUD_LIMIT_EXCEEDED', async () => {
    const cloud = new FakeCloudProvider({ limits: { maxNics: 2, addressesPerNic: 3 } });
    await expect(cloud.assign({ nicId: cloud.primaryNic.id, kind: 'ip', count: 3 })).rejects.toMatchObject({ code: 'CLOUD_LIMIT_EXCEEDED' });
    expect(cloud.primaryNic.blocks).toEqual([]); // all or nothing
    await cloud.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    await expect(cloud.attachNic({ deviceIndex: 2 })).rejects.toMatchObject({ code: 'CLOUD_LIMIT_EXCEEDED' });
  });

  it('runs out of subnet with SUBNET_FULL, and fragmentation blocks prefixes only', async () => {
    const cloud = new FakeCloudProvider({ subnetCidr: '10.0.0.0/27', limits: { addressesPerNic: 50 } });
    for (const n of [8, 24]) cloud.subnet.occupy(`10.0.0.${n}`);
    const nicId = cloud.primaryNic.id;
    await expect(cloud.assign({ nicId, kind: 'prefix', count: 1 })).rejects.toMatchObject({ code: 'SUBNET_FULL' });
    const free = cloud.subnetFree;
    expect(await cloud.assign({ nicId, kind: 'ip', count: free })).toHaveLength(free);
    await expect(cloud.assign({ nicId, kind: 'ip', count: 1 })).rejects.toMatchObject({ code: 'SUBNET_FULL' });
  });

  it('releases and detaches idempotently and returns addresses to the subnet', async () => {
    const cloud = new FakeCloudProvider();
    const before = cloud.subnetFree;
    const nic = await cloud.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 3 });
    expect(nic.blocks).toHaveLength(3);
    await cloud.release({ nicId: nic.id, blocks: nic.blocks.slice(0, 1) });
    await cloud.release({ nicId: nic.id, blocks: nic.blocks.slice(0, 1) });
    await cloud.release({ nicId: 'eni-gone', blocks: nic.blocks });
    await cloud.detachNic(nic.id);
    await cloud.detachNic(nic.id);
    expect(cloud.subnetFree).toBe(before);
    await expect(cloud.detachNic(cloud.primaryNic.id)).rejects.toMatchObject({ code: 'CLOUD_BAD_REQUEST' });
    await expect(cloud.assign({ nicId: nic.id, kind: 'ip', count: 1 })).rejects.toMatchObject({ code: 'CLOUD_NOT_FOUND' });
  });

  it('injects failures before or after the effect, partial success, and leaks', async () => {
    const clock = new FakeClock(0);
    const cloud = new FakeCloudProvider({ clock });
    const nicId = cloud.primaryNic.id;
    cloud.failNext('assign', 'CLOUD_THROTTLED', { times: 2 });
    await expect(cloud.assign({ nicId, kind: 'ip', count: 1 })).rejects.toMatchObject({ code: 'CLOUD_THROTTLED' });
    await expect(cloud.assign({ nicId, kind: 'ip', count: 1 })).rejects.toMatchObject({ code: 'CLOUD_THROTTLED' });
    expect(cloud.primaryNic.blocks).toHaveLength(0);
    cloud.failNext('assign', 'CLOUD_TIMEOUT', { when: 'after' });
    await expect(cloud.assign({ nicId, kind: 'ip', count: 2 })).rejects.toMatchObject({ code: 'CLOUD_TIMEOUT' });
    expect(cloud.primaryNic.blocks).toHaveLength(2);
    cloud.shortNext('assign', 1);
    expect(await cloud.assign({ nicId, kind: 'ip', count: 3 })).toHaveLength(1);
    cloud.failNext('attachNic', 'CLOUD_TIMEOUT', { when: 'created' });
    await expect(cloud.attachNic({ deviceIndex: 1 })).rejects.toMatchObject({ code: 'CLOUD_TIMEOUT' });
    expect(await cloud.listNics()).toHaveLength(1);
    expect(await cloud.findLeakedNics(60_000)).toEqual([]);
    await clock.advance(60_000);
    const [leak] = await cloud.findLeakedNics(60_000);
    expect(leak).toMatchObject({ subnetId: 'subnet-fake', since: 0 });
    await cloud.deleteNic(leak!.id);
    await cloud.deleteNic(leak!.id);
    expect(await cloud.findLeakedNics(0)).toEqual([]);
    expect(cloud.callCount('assign')).toBe(4);
    expect(cloud.callCount('assign', false)).toBe(3);
  });

  it('hands out a per-node range for range-only (GCE-like) nodes', async () => {
    const cloud = new FakeCloudProvider({ name: 'gcp', nicLifecycle: false, limits: { maxNics: 1, addressesPerNic: 2, blockKinds: ['range'] } });
    const [range] = await cloud.assign({ nicId: cloud.primaryNic.id, kind: 'range', count: 1, prefixLength: 24 });
    expect(range).toEqual({ kind: 'range', cidr: '10.100.0.0/24' });
    await expect(cloud.attachNic({ deviceIndex: 1 })).rejects.toMatchObject({ code: 'CLOUD_BAD_REQUEST' });
  });
});

describe('FakeCloudProvider attach options', () => {
  it('keeps the security groups asked for and rejects an unknown subnet', async () => {
    const cloud = new FakeCloudProvider();
    const nic = await cloud.attachNic({ deviceIndex: 1, subnetId: 'subnet-fake', securityGroups: ['sg-a', 'sg-b'] });
    expect(nic.securityGroups).toEqual(['sg-a', 'sg-b']);
    await expect(cloud.attachNic({ deviceIndex: 2, subnetId: 'subnet-other' })).rejects.toMatchObject({ code: 'CLOUD_NOT_FOUND' });
    expect(cloud.callCount('attachNic', false)).toBe(1);
  });
});
