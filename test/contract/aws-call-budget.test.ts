// EC2 calls per provider action against the emulator: the budgets docs/providers/aws.md
// promises (one call per top-up, a handful per NIC), so a regression shows up here.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { CloudBlock } from '../../providers/provider.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

describe('AWS provider call budget (emulator)', () => {
  let env: AwsEmulatorEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
  });

  it('spends the documented EC2 calls per action', async () => {
    env = await startAwsEmulatorEnv({ instanceType: 'm5.large' });
    const p = env.provider;
    let before = { ...p.callCounts() };
    const spent = async <T>(fn: () => Promise<T>): Promise<[T, Record<string, number>]> => {
      const out = await fn();
      const now = p.callCounts();
      const diff = Object.fromEntries(Object.entries(now).flatMap(([k, v]) => (v - (before[k] ?? 0) > 0 ? [[k, v - (before[k] ?? 0)]] : [])));
      before = { ...now };
      return [out, diff];
    };

    const [{ node }, discover] = await spent(() => p.discover());
    // Limits from the built-in table, identity and the primary NIC's groups from metadata.
    expect(discover).toEqual({});
    expect((await spent(() => p.discover()))[1]).toEqual({});
    // A fresh node (metadata shows only the primary NIC, no secondary address): no describe.
    expect((await spent(() => p.listNics()))[1]).toEqual({});
    // Metadata agrees with the view: no describe.
    expect((await spent(() => p.listNics()))[1]).toEqual({});

    // Single addresses on a prefix-delegation node are placed: one read of the subnet's NICs first.
    const [ips, assign] = await spent(() => p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 9 }));
    expect(assign).toEqual({ AssignPrivateIpAddresses: 1, DescribeNetworkInterfaces: 1 });
    expect((await spent(() => p.release({ nicId: node.primaryNicId, blocks: ips })))[1]).toEqual({ UnassignPrivateIpAddresses: 1 });
    expect((await spent(() => p.release({ nicId: node.primaryNicId, blocks: ips })))[1]).toEqual({
      UnassignPrivateIpAddresses: 1,
      DescribeNetworkInterfaces: 1,
    });
    const [prefixes, assignPrefixes] = await spent(() => p.assign({ nicId: node.primaryNicId, kind: 'prefix', count: 2 }));
    expect(assignPrefixes).toEqual({ AssignPrivateIpAddresses: 1 });
    const mixed: CloudBlock[] = [...prefixes, ...(await p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 1 }))];
    before = { ...p.callCounts() };
    expect((await spent(() => p.release({ nicId: node.primaryNicId, blocks: mixed })))[1]).toEqual({ UnassignPrivateIpAddresses: 2 });

    const [nic, attach] = await spent(() => p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 9 }));
    // attach completion is seen in metadata; the subnets are read once per zone
    expect(attach).toEqual({
      DescribeSubnets: 1,
      CreateNetworkInterface: 1,
      AttachNetworkInterface: 1,
      ModifyNetworkInterfaceAttribute: 1,
    });
    expect(nic.blocks).toHaveLength(9);
    const [, attach2] = await spent(() => p.attachNic({ deviceIndex: 2, blockKind: 'prefix', blockCount: 1 }));
    expect(attach2).toEqual({
      CreateNetworkInterface: 1,
      AttachNetworkInterface: 1,
      ModifyNetworkInterfaceAttribute: 1,
    });
    const [, detach] = await spent(() => p.detachNic(nic.id));
    expect(detach).toEqual({ DetachNetworkInterface: 1, DeleteNetworkInterface: 1 });
    expect((await spent(() => p.detachNic(nic.id)))[1]).toEqual({ DescribeNetworkInterfaces: 1, DeleteNetworkInterface: 1 });
    expect((await spent(() => p.findLeakedNics(60_000)))[1]).toEqual({ DescribeNetworkInterfaces: 1 });
  });
});
