// Fragmentation-aware placement against the EC2 emulator (random picks, as a scattering EC2
// would): single addresses named inside /28s that are already broken keep the free aligned
// /28s free; a named address someone else took meanwhile costs one more assign, not a failure.
import { afterEach, describe, expect, it } from '@jest/globals';
import { AssignPrivateIpAddressesCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { freeAlignedPrefixes, placeSingles, subnetView } from '../../providers/kit/placement.ts';
import { intToIp, ipToInt } from '../../src/util/ip.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

const BASE = ipToInt('10.0.0.0');

/** The subnet's used addresses as anyone can read them (every NIC of 10.0.0.0/24). */
async function usedAddresses(env: AwsEmulatorEnv): Promise<Set<number>> {
  const out = await env.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [env.subnetId] }] }));
  const used = new Set<number>();
  for (const n of out.NetworkInterfaces ?? []) {
    for (const a of n.PrivateIpAddresses ?? []) if (a.PrivateIpAddress) used.add(ipToInt(a.PrivateIpAddress));
    for (const p of n.Ipv4Prefixes ?? []) for (let i = 0; i < 16; i++) used.add(ipToInt(p.Ipv4Prefix!.split('/')[0]!) + i);
  }
  return used;
}

const freePrefixes = async (env: AwsEmulatorEnv): Promise<number> => freeAlignedPrefixes(subnetView(BASE, 24, await usedAddresses(env), { head: 4, tail: 1 }));

describe('AWS single-address placement (emulator, random picks)', () => {
  let env: AwsEmulatorEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('names single addresses inside broken /28s: free aligned /28s stay free, one subnet read', async () => {
    env = await startAwsEmulatorEnv({ emulator: { pick: 'random', seed: 11 } });
    const { node } = await env.provider.discover();
    await env.provider.listNics();
    const before = await freePrefixes(env);
    const calls = { ...env.provider.callCounts() };
    const ips = await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 6 });
    expect(ips).toHaveLength(6);
    expect(await freePrefixes(env)).toBe(before);
    const after = env.provider.callCounts();
    expect((after.DescribeNetworkInterfaces ?? 0) - (calls.DescribeNetworkInterfaces ?? 0)).toBe(1);
    // Within the read's lifetime the next assign reads nothing.
    await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 3 });
    expect(env.provider.callCounts().DescribeNetworkInterfaces).toBe(after.DescribeNetworkInterfaces);
    expect(await freePrefixes(env)).toBe(before);
    expect(env.provider.subnetSpace()).toEqual([expect.objectContaining({ subnetId: env.subnetId, cidr: '10.0.0.0/24', freePrefixes: before, prefixes: 16 })]);
  });

  it('EC2 picking ("any", the old way) breaks free /28s on the same seed', async () => {
    env = await startAwsEmulatorEnv({ emulator: { pick: 'random', seed: 11 }, provider: { singlePlacement: 'any' } });
    const { node } = await env.provider.discover();
    await env.provider.listNics();
    const before = await freePrefixes(env);
    await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 9 });
    expect(await freePrefixes(env)).toBeLessThan(before);
  });

  it('a named address another tenant took since the read: the assign is asked again with EC2 picking', async () => {
    env = await startAwsEmulatorEnv({ emulator: { pick: 'random', seed: 11 } });
    const { node } = await env.provider.discover();
    await env.provider.listNics();
    await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 1 });
    // The other node takes exactly what our cached view would name next.
    const next = placeSingles(subnetView(BASE, 24, await usedAddresses(env), { head: 4, tail: 1 }), 2).map(intToIp);
    const other = (await env.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [env.subnetId] }] }))).NetworkInterfaces!.find(
      (n) => n.Attachment?.InstanceId !== env!.instanceId,
    )!;
    await env.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId!, PrivateIpAddresses: next }));
    const before = env.provider.callCounts().AssignPrivateIpAddresses ?? 0;
    const ips = await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 2 });
    expect(ips).toHaveLength(2);
    expect(ips.map((b) => b.cidr.replace('/32', ''))).not.toEqual(expect.arrayContaining([next[0]]));
    expect((env.provider.callCounts().AssignPrivateIpAddresses ?? 0) - before).toBe(2);
  });
});
