import { afterEach, describe, expect, it } from '@jest/globals';
import { AwsProvider } from '../../../providers/aws/client/aws-provider.ts';
import type { AwsProviderOptions } from '../../../providers/aws/client/options.ts';
import { Ec2RateLimiter } from '../../../providers/aws/client/rate-limiter.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { ScriptedEc2, awsError, fakeImds, listen, nodeMetadata, thrower, type FakeImds } from './helpers.ts';

/** Moves fake time until the promise settles (real I/O to the local IMDS may sit in between). */
async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 10_000 && !settled; i++) await clock.advance(50);
  return tracked;
}

const INSTANCE = 'i-084abd1f69f27d987';
const PRIMARY = 'eni-0c0fde533492c9df5';
const fast = { perSecond: 10_000, concurrency: 100 };

const t3medium = () => ({
  InstanceTypes: [{ InstanceType: 't3.medium', Hypervisor: 'nitro', NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 6 } }],
});
const subnets = () => ({
  Subnets: [
    { SubnetId: 'subnet-0afaed81bf542db37', CidrBlock: '10.0.64.0/18', AvailabilityZone: 'us-west-2b', VpcId: 'vpc-0afaed81bf542db37', AvailableIpAddressCount: 100 },
    { SubnetId: 'subnet-big', CidrBlock: '10.0.128.0/18', AvailabilityZone: 'us-west-2b', VpcId: 'vpc-0afaed81bf542db37', AvailableIpAddressCount: 9000 },
  ],
});
const primaryEni = () => ({
  NetworkInterfaces: [
    {
      NetworkInterfaceId: PRIMARY,
      SubnetId: 'subnet-0afaed81bf542db37',
      MacAddress: '02:68:F3:F6:C7:EF',
      PrivateIpAddress: '10.0.88.3',
      Groups: [{ GroupId: 'sg-primary' }],
      Attachment: { DeviceIndex: 0, Status: 'attached', InstanceId: INSTANCE, AttachmentId: 'eni-attach-0' },
      PrivateIpAddresses: [
        { PrivateIpAddress: '10.0.88.3', Primary: true },
        { PrivateIpAddress: '10.0.88.4', Primary: false },
      ],
      Ipv4Prefixes: [{ Ipv4Prefix: '10.0.90.16/28' }],
    },
  ],
});
/** The attach completes: metadata shows the new NIC's MAC (as IMDS does once attached). */
const attachedInMetadata = (store: () => FakeImds | undefined) => (): { AttachmentId: string } => {
  const m = store();
  if (m) m.data['network/interfaces/macs/'] = `${m.data['network/interfaces/macs/'] ?? ''}\n0a:00:00:00:00:01/`;
  return { AttachmentId: 'eni-attach-9' };
};
const createdEni = (input: Record<string, unknown>) => ({
  NetworkInterface: {
    NetworkInterfaceId: 'eni-new',
    SubnetId: input.SubnetId,
    MacAddress: '0a:00:00:00:00:01',
    PrivateIpAddress: '10.0.130.10',
    Groups: (input.Groups as string[]).map((GroupId) => ({ GroupId })),
    PrivateIpAddresses: [
      { PrivateIpAddress: '10.0.130.10', Primary: true },
      { PrivateIpAddress: '10.0.130.11', Primary: false },
      { PrivateIpAddress: '10.0.130.12', Primary: false },
    ],
    Status: 'available',
  },
});

describe('AwsProvider (scripted EC2, local IMDS)', () => {
  let imds: FakeImds | undefined;
  afterEach(async () => {
    await imds?.close();
    imds = undefined;
  });

  async function make(ec2: ScriptedEc2, over: Partial<AwsProviderOptions> = {}, meta: Record<string, string> = {}): Promise<AwsProvider> {
    // Metadata shows what primaryEni() has in EC2 (a node that is not fresh: its NICs are described).
    imds = await fakeImds(
      nodeMetadata({
        'network/interfaces/macs/02:68:f3:f6:c7:ef/local-ipv4s': '10.0.88.3\n10.0.88.4',
        'network/interfaces/macs/02:68:f3:f6:c7:ef/ipv4-prefix': '10.0.90.16/28',
        ...meta,
      }),
    );
    return new AwsProvider({
      clusterName: 'prod-1',
      metadataEndpoint: imds.url,
      transport: ec2,
      clock: new FakeClock(Date.UTC(2026, 10, 24)),
      random: () => 0,
      rateLimiter: new Ec2RateLimiter({ rates: { '*': fast } }),
      ...over,
    });
  }

  it('sizes a type the built-in table knows without any EC2 call', async () => {
    const ec2 = new ScriptedEc2();
    const p = await make(ec2);
    const { limits } = await p.discover();
    expect(limits).toMatchObject({ maxNics: 3, addressesPerNic: 6, blockKinds: ['prefix', 'ip'] });
    expect(ec2.sent).toEqual([]);
  });

  it('discovers identity from metadata and limits from DescribeInstanceTypes for types the table lacks, cached', async () => {
    const ec2 = new ScriptedEc2().on('DescribeInstanceTypes', () => ({
      InstanceTypes: [{ InstanceType: 'z9.large', Hypervisor: 'nitro', NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 6 } }],
    }));
    const p = await make(ec2, { prefixDelegation: true }, { 'instance-type': 'z9.large' });
    const { node, limits } = await p.discover();
    expect(node).toMatchObject({ provider: 'aws', instanceId: INSTANCE, instanceType: 'z9.large', region: 'us-west-2', zone: 'us-west-2b', primaryNicId: PRIMARY });
    expect(node.vpcCidrs).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
    expect(limits).toMatchObject({ maxNics: 3, addressesPerNic: 6, blockKinds: ['prefix', 'ip'], prefixLength: 28 });
    await p.discover();
    expect(ec2.count('DescribeInstanceTypes')).toBe(1);
  });

  it('fails discover clearly for an unknown instance type', async () => {
    const ec2 = new ScriptedEc2().on('DescribeInstanceTypes', thrower(awsError('InvalidInstanceType')));
    const p = await make(ec2, {}, { 'instance-type': 'z9.large' });
    const err = (await p.discover().catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('UNKNOWN_INSTANCE_TYPE');
    expect(err.message).toContain('z9.large');
  });

  it('falls back to the built-in limits table when DescribeInstanceTypes is denied', async () => {
    const ec2 = new ScriptedEc2().on('DescribeInstanceTypes', thrower(awsError('UnauthorizedOperation', 403)));
    const p = await make(ec2, { prefixDelegation: true });
    // (t3.medium is in the table: it is used before any call, denied or not)
    const { limits } = await p.discover();
    expect(limits).toMatchObject({ maxNics: 3, addressesPerNic: 6, blockKinds: ['prefix', 'ip'] });
  });

  it('lists NICs from the API: secondary IPs as /32 ip blocks, prefixes as prefix blocks', async () => {
    const ec2 = new ScriptedEc2().on('DescribeInstanceTypes', t3medium).on('DescribeNetworkInterfaces', primaryEni);
    const p = await make(ec2);
    const nics = await p.listNics();
    expect(nics).toEqual([
      {
        id: PRIMARY,
        deviceIndex: 0,
        mac: '02:68:f3:f6:c7:ef',
        subnetId: 'subnet-0afaed81bf542db37',
        subnetCidr: '10.0.64.0/18',
        primaryIp: '10.0.88.3',
        securityGroups: ['sg-primary'],
        blocks: [
          { kind: 'ip', cidr: '10.0.88.4/32' },
          { kind: 'prefix', cidr: '10.0.90.16/28' },
        ],
      },
    ]);
    expect(ec2.sent.find((s) => s.action === 'DescribeNetworkInterfaces')?.input).toEqual({
      Filters: [{ Name: 'attachment.instance-id', Values: [INSTANCE] }],
    });
  });

  it('leaves out NICs that are detaching, on another network card, or tagged no_manage', async () => {
    const other = (id: string, attachment: Record<string, unknown>, tags: { Key: string; Value: string }[] = []) => ({
      NetworkInterfaceId: id,
      SubnetId: 'subnet-0afaed81bf542db37',
      Attachment: { InstanceId: INSTANCE, Status: 'attached', ...attachment },
      TagSet: tags,
    });
    const ec2 = new ScriptedEc2().on('DescribeInstanceTypes', t3medium).on('DescribeNetworkInterfaces', () => ({
      NetworkInterfaces: [
        ...primaryEni().NetworkInterfaces,
        other('eni-detaching', { DeviceIndex: 1, Status: 'detaching' }),
        other('eni-card1', { DeviceIndex: 1, NetworkCardIndex: 1 }),
        other('eni-user', { DeviceIndex: 2 }, [{ Key: 'node.k8s.amazonaws.com/no_manage', Value: 'true' }]),
        other('eni-ours', { DeviceIndex: 3 }),
      ],
    }));
    const p = await make(ec2);
    expect((await p.listNics()).map((n) => n.id)).toEqual([PRIMARY, 'eni-ours']);
  });

  it('attachNic creates the NIC with its blocks and tags in one call, attaches, sets DeleteOnTermination', async () => {
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on('DescribeSubnets', subnets)
      .on('DescribeNetworkInterfaces', primaryEni, () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-new', Attachment: { Status: 'attached' } }] }))
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', attachedInMetadata(() => imds))
      .on('ModifyNetworkInterfaceAttribute', () => ({}));
    const p = await make(ec2, {}, { 'network/interfaces/macs/02:68:f3:f6:c7:ef/security-group-ids': 'sg-primary' });
    const nic = await p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    // The primary NIC's groups come from metadata, the completion too: no describe at all.
    expect(ec2.count('DescribeNetworkInterfaces')).toBe(0);
    expect(nic).toMatchObject({ id: 'eni-new', deviceIndex: 1, subnetId: 'subnet-big', subnetCidr: '10.0.128.0/18', securityGroups: ['sg-primary'] });
    expect(nic.blocks).toEqual([
      { kind: 'ip', cidr: '10.0.130.11/32' },
      { kind: 'ip', cidr: '10.0.130.12/32' },
    ]);
    const create = ec2.sent.find((s) => s.action === 'CreateNetworkInterface')?.input ?? {};
    expect(create.SecondaryPrivateIpAddressCount).toBe(2);
    expect(create.Ipv4PrefixCount).toBeUndefined();
    const tags = Object.fromEntries(
      ((create.TagSpecifications as { Tags: { Key: string; Value: string }[] }[])[0]?.Tags ?? []).map((t) => [t.Key, t.Value]),
    );
    expect(tags).toMatchObject({
      'vpcnet.io/cluster-name': 'prod-1',
      'node.k8s.amazonaws.com/instance_id': INSTANCE,
      'vpcnet.io/created-at': '2026-11-24T00:00:00.000Z',
    });
    expect(ec2.sent.find((s) => s.action === 'AttachNetworkInterface')?.input).toEqual({ NetworkInterfaceId: 'eni-new', InstanceId: INSTANCE, DeviceIndex: 1 });
    expect(ec2.sent.find((s) => s.action === 'ModifyNetworkInterfaceAttribute')?.input).toEqual({
      NetworkInterfaceId: 'eni-new',
      Attachment: { AttachmentId: 'eni-attach-9', DeleteOnTermination: true },
    });
  });

  it('describes subnets once per cache period (6 h) and keeps free counts from its own creates between', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 24));
    const twoSmall = () => ({
      Subnets: [
        { SubnetId: 'subnet-a', CidrBlock: '10.0.64.0/18', AvailabilityZone: 'us-west-2b', VpcId: 'vpc-0afaed81bf542db37', AvailableIpAddressCount: 120 },
        { SubnetId: 'subnet-b', CidrBlock: '10.0.128.0/18', AvailabilityZone: 'us-west-2b', VpcId: 'vpc-0afaed81bf542db37', AvailableIpAddressCount: 100 },
      ],
    });
    const ec2 = new ScriptedEc2()
      .on('DescribeSubnets', twoSmall)
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', attachedInMetadata(() => imds))
      .on('ModifyNetworkInterfaceAttribute', () => ({}));
    const p = await make(ec2, { clock, securityGroups: ['sg-1'] });
    const created = (): string[] => ec2.sent.filter((c) => c.action === 'CreateNetworkInterface').map((c) => String(c.input.SubnetId));
    await p.attachNic({ deviceIndex: 1, blockKind: 'prefix', blockCount: 2 });
    // subnet-a had the most free (120), less the NIC's address and two /28s (87 left): the next goes to subnet-b.
    await clock.advance(6 * 3_600_000 - 1);
    await p.attachNic({ deviceIndex: 2, blockKind: 'prefix', blockCount: 2 });
    expect(created()).toEqual(['subnet-a', 'subnet-b']);
    expect(ec2.count('DescribeSubnets')).toBe(1);
    await clock.advance(1);
    await p.attachNic({ deviceIndex: 2, blockKind: 'prefix', blockCount: 2 });
    expect(ec2.count('DescribeSubnets')).toBe(2);
    expect(created()).toEqual(['subnet-a', 'subnet-b', 'subnet-a']);
  });

  it('retries an attach that does not see the just-created NIC yet (eventual consistency)', async () => {
    const clock = new FakeClock(0);
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on('DescribeSubnets', subnets)
      .on('DescribeNetworkInterfaces', () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-new', Attachment: { Status: 'attached' } }] }))
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', thrower(awsError('InvalidNetworkInterfaceID.NotFound')), thrower(awsError('InvalidNetworkInterfaceID.NotFound')), attachedInMetadata(() => imds))
      .on('ModifyNetworkInterfaceAttribute', () => ({}));
    const p = await make(ec2, { clock, securityGroups: ['sg-1'] });
    const nic = await drive(clock, p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 }));
    expect(nic.id).toBe('eni-new');
    expect(ec2.count('AttachNetworkInterface')).toBe(3);
    expect(ec2.count('DeleteNetworkInterface')).toBe(0);
  });

  it('deletes the new NIC when the attach fails, so nothing leaks', async () => {
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on('DescribeSubnets', subnets)
      .on('DescribeNetworkInterfaces', primaryEni, () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-new', Status: 'available' }] }))
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', thrower(awsError('AttachmentLimitExceeded')))
      .on('DeleteNetworkInterface', () => ({}));
    const p = await make(ec2, { securityGroups: ['sg-pods'] });
    const err = (await p.attachNic({ deviceIndex: 3, blockKind: 'prefix', blockCount: 1 }).catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('CLOUD_LIMIT_EXCEEDED');
    expect(ec2.sent.find((s) => s.action === 'CreateNetworkInterface')?.input).toMatchObject({ Ipv4PrefixCount: 1, Groups: ['sg-pods'] });
    expect(ec2.sent.find((s) => s.action === 'DeleteNetworkInterface')?.input).toEqual({ NetworkInterfaceId: 'eni-new' });
  });

  it('keeps the attach error when the clean-up delete fails too (leak clean-up finds the tagged NIC later)', async () => {
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on('DescribeSubnets', subnets)
      .on('DescribeNetworkInterfaces', primaryEni, () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-new', Status: 'available' }] }))
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', thrower(awsError('AttachmentLimitExceeded')))
      .on('DeleteNetworkInterface', thrower(awsError('UnauthorizedOperation', 403)));
    const p = await make(ec2);
    const err = (await p.attachNic({ deviceIndex: 3 }).catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('CLOUD_LIMIT_EXCEEDED');
    expect(ec2.count('DeleteNetworkInterface')).toBe(1);
  });

  it('deletes a NIC left by a failed attach before creating the next one', async () => {
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on('DescribeSubnets', subnets)
      .on('DescribeNetworkInterfaces', primaryEni, () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-new', Status: 'available' }] }))
      .on('CreateNetworkInterface', createdEni)
      .on('AttachNetworkInterface', thrower(awsError('AttachmentLimitExceeded')))
      .on('DeleteNetworkInterface', thrower(awsError('UnauthorizedOperation', 403)), () => ({}));
    const p = await make(ec2);
    await p.attachNic({ deviceIndex: 1 }).catch(() => undefined);
    expect(ec2.count('DeleteNetworkInterface')).toBe(1);
    await p.attachNic({ deviceIndex: 1 }).catch(() => undefined);
    const order = ec2.sent.map((s) => s.action).filter((a) => a === 'DeleteNetworkInterface' || a === 'CreateNetworkInterface');
    // create, failed delete | delete of the orphan, create, delete after the second failed attach
    expect(order).toEqual(['CreateNetworkInterface', 'DeleteNetworkInterface', 'DeleteNetworkInterface', 'CreateNetworkInterface', 'DeleteNetworkInterface']);
    await p.attachNic({ deviceIndex: 1 }).catch(() => undefined);
    // nothing left over: the third attach deletes only its own NIC
    expect(ec2.count('DeleteNetworkInterface')).toBe(4);
  });

  it('assigns ip and prefix blocks in one call each and returns exactly what EC2 assigned', async () => {
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on(
        'AssignPrivateIpAddresses',
        () => ({ AssignedPrivateIpAddresses: [{ PrivateIpAddress: '10.0.88.9' }, { PrivateIpAddress: '10.0.88.10' }] }),
        () => ({ AssignedIpv4Prefixes: [{ Ipv4Prefix: '10.0.91.0/28' }] }),
      );
    const p = await make(ec2);
    expect(await p.assign({ nicId: PRIMARY, kind: 'ip', count: 2 })).toEqual([
      { kind: 'ip', cidr: '10.0.88.9/32' },
      { kind: 'ip', cidr: '10.0.88.10/32' },
    ]);
    expect(await p.assign({ nicId: PRIMARY, kind: 'prefix', count: 1 })).toEqual([{ kind: 'prefix', cidr: '10.0.91.0/28' }]);
    expect(ec2.sent.map((s) => s.input)).toEqual([
      { NetworkInterfaceId: PRIMARY, SecondaryPrivateIpAddressCount: 2 },
      { NetworkInterfaceId: PRIMARY, Ipv4PrefixCount: 1 },
    ]);
  });

  describe('an ambiguous assign (timed out: EC2 may have admitted it)', () => {
    const PREFIXES = 'network/interfaces/macs/02:68:f3:f6:c7:ef/ipv4-prefix';
    const withPrefix = (extra: string[]) => () => {
      const eni = primaryEni().NetworkInterfaces[0] as Record<string, unknown>;
      return { NetworkInterfaces: [{ ...eni, Ipv4Prefixes: ['10.0.90.16/28', ...extra].map((Ipv4Prefix) => ({ Ipv4Prefix })) }] };
    };
    const timedOut = (effect: () => void) => () => {
      effect();
      throw awsError('TimeoutError', 0);
    };

    it('is not repeated when metadata shows its prefix; EC2 confirms it and the view stays current', async () => {
      const clock = new FakeClock(Date.UTC(2026, 10, 24));
      const ec2 = new ScriptedEc2()
        .on('DescribeNetworkInterfaces', primaryEni, withPrefix(['10.0.91.0/28']))
        .on('AssignPrivateIpAddresses', timedOut(() => {
          if (imds) imds.data[PREFIXES] = '10.0.90.16/28\n10.0.91.0/28';
        }));
      const p = await make(ec2, { clock });
      await p.listNics();
      expect(await drive(clock, p.assign({ nicId: PRIMARY, kind: 'prefix', count: 1 }))).toEqual([{ kind: 'prefix', cidr: '10.0.91.0/28' }]);
      expect(ec2.count('AssignPrivateIpAddresses')).toBe(1);
      expect(ec2.count('DescribeNetworkInterfaces')).toBe(2);
      expect(ec2.sent.filter((c) => c.action === 'DescribeNetworkInterfaces')[1]?.input).toEqual({ NetworkInterfaceIds: [PRIMARY] });
      // The view knows the prefix and agrees with metadata: the next listing asks EC2 nothing.
      expect((await p.listNics())[0]?.blocks.map((b) => b.cidr)).toContain('10.0.91.0/28');
      expect(ec2.count('DescribeNetworkInterfaces')).toBe(2);
    });

    it('is retried when metadata shows nothing new (the first call did not land), with no describe', async () => {
      const clock = new FakeClock(Date.UTC(2026, 10, 24));
      const ec2 = new ScriptedEc2()
        .on('DescribeNetworkInterfaces', primaryEni)
        .on('AssignPrivateIpAddresses', timedOut(() => undefined), () => ({ AssignedIpv4Prefixes: [{ Ipv4Prefix: '10.0.92.0/28' }] }));
      const p = await make(ec2, { clock });
      await p.listNics();
      expect(await drive(clock, p.assign({ nicId: PRIMARY, kind: 'prefix', count: 1 }))).toEqual([{ kind: 'prefix', cidr: '10.0.92.0/28' }]);
      expect(ec2.count('AssignPrivateIpAddresses')).toBe(2);
      expect(ec2.count('DescribeNetworkInterfaces')).toBe(1);
    });

    it('never returns an address only metadata shows: EC2 does not have it, so the assign is retried', async () => {
      const clock = new FakeClock(Date.UTC(2026, 10, 24));
      const ec2 = new ScriptedEc2()
        .on('DescribeNetworkInterfaces', primaryEni, primaryEni)
        .on(
          'AssignPrivateIpAddresses',
          timedOut(() => {
            if (imds) imds.data[PREFIXES] = '10.0.90.16/28\n10.0.99.0/28'; // metadata that is wrong
          }),
          () => ({ AssignedIpv4Prefixes: [{ Ipv4Prefix: '10.0.92.0/28' }] }),
        );
      const p = await make(ec2, { clock });
      await p.listNics();
      expect(await drive(clock, p.assign({ nicId: PRIMARY, kind: 'prefix', count: 1 }))).toEqual([{ kind: 'prefix', cidr: '10.0.92.0/28' }]);
      expect(ec2.count('AssignPrivateIpAddresses')).toBe(2);
    });
  });

  it('reports prefix fragmentation as SUBNET_FULL so the pool can fall back to ip blocks', async () => {
    const ec2 = new ScriptedEc2().on('AssignPrivateIpAddresses', thrower(awsError('InsufficientCidrBlocks')));
    const p = await make(ec2);
    const err = (await p.assign({ nicId: PRIMARY, kind: 'prefix', count: 1 }).catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('SUBNET_FULL');
    expect(err.details.fragmented).toBe(true);
  });

  it('release sends one unassign per block kind and tolerates blocks that are already gone', async () => {
    const ec2 = new ScriptedEc2()
      .on('UnassignPrivateIpAddresses', thrower(awsError('InvalidParameterValue')), () => ({}))
      .on('DescribeNetworkInterfaces', primaryEni);
    const p = await make(ec2);
    await p.release({
      nicId: PRIMARY,
      blocks: [
        { kind: 'ip', cidr: '10.0.88.4/32' },
        { kind: 'ip', cidr: '10.0.88.77/32' },
      ],
    });
    const unassigns = ec2.sent.filter((s) => s.action === 'UnassignPrivateIpAddresses').map((s) => s.input);
    expect(unassigns).toEqual([
      { NetworkInterfaceId: PRIMARY, PrivateIpAddresses: ['10.0.88.4', '10.0.88.77'] },
      { NetworkInterfaceId: PRIMARY, PrivateIpAddresses: ['10.0.88.4'] },
    ]);
  });

  it('release of a NIC that no longer exists is a no-op', async () => {
    const ec2 = new ScriptedEc2().on('UnassignPrivateIpAddresses', thrower(awsError('InvalidNetworkInterfaceID.NotFound')));
    const p = await make(ec2);
    await p.release({ nicId: 'eni-gone', blocks: [{ kind: 'prefix', cidr: '10.0.91.0/28' }] });
    expect(ec2.sent[0]?.input).toEqual({ NetworkInterfaceId: 'eni-gone', Ipv4Prefixes: ['10.0.91.0/28'] });
  });

  it('detachNic detaches, waits until available with backoff, deletes; a missing NIC is fine', async () => {
    const clock = new FakeClock(0);
    const attached = { NetworkInterfaceId: 'eni-2', Status: 'in-use', Attachment: { AttachmentId: 'att-2', DeviceIndex: 1, Status: 'attached', InstanceId: INSTANCE } };
    const ec2 = new ScriptedEc2()
      .on('DescribeInstanceTypes', t3medium)
      .on(
        'DescribeNetworkInterfaces',
        () => ({ NetworkInterfaces: [attached] }),
        () => ({ NetworkInterfaces: [{ ...attached, Attachment: { ...attached.Attachment, Status: 'detaching' } }] }),
        () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-2', Status: 'available' }] }),
        thrower(awsError('InvalidNetworkInterfaceID.NotFound')),
      )
      .on('DetachNetworkInterface', () => ({}))
      .on('DeleteNetworkInterface', () => ({}), thrower(awsError('InvalidNetworkInterfaceID.NotFound')));
    const p = await make(ec2, { clock });
    await drive(clock, p.detachNic('eni-2'));
    expect(ec2.sent.filter((s) => s.action !== 'DescribeInstanceTypes').map((s) => s.action)).toEqual([
      'DescribeNetworkInterfaces',
      'DetachNetworkInterface',
      'DescribeNetworkInterfaces',
      'DescribeNetworkInterfaces',
      'DeleteNetworkInterface',
    ]);
    await p.detachNic('eni-2');
    expect(ec2.count('DetachNetworkInterface')).toBe(1);
    expect(ec2.count('DeleteNetworkInterface')).toBe(2);
  });

  it('findLeakedNics filters by status and cluster tag, honours the grace period, times untagged NICs', async () => {
    const now = Date.UTC(2026, 10, 24);
    const tag = (Key: string, Value: string) => ({ Key, Value });
    const cluster = tag('vpcnet.io/cluster-name', 'prod-1');
    const ec2 = new ScriptedEc2()
      .on('DescribeNetworkInterfaces', () => ({
        NetworkInterfaces: [
          { NetworkInterfaceId: 'eni-old', SubnetId: 's-1', Status: 'available', TagSet: [cluster, tag('vpcnet.io/created-at', new Date(now - 3_600_000).toISOString())] },
          { NetworkInterfaceId: 'eni-young', SubnetId: 's-1', Status: 'available', TagSet: [cluster, tag('vpcnet.io/created-at', new Date(now - 1000).toISOString())] },
          { NetworkInterfaceId: 'eni-untimed', SubnetId: 's-1', Status: 'available', TagSet: [cluster] },
        ],
      }))
      .on('CreateTags', () => ({}));
    const p = await make(ec2, { metrics: new MemoryMetrics() });
    const leaked = await p.findLeakedNics(600_000);
    expect(leaked).toEqual([{ id: 'eni-old', subnetId: 's-1', since: now - 3_600_000 }]);
    expect(ec2.sent[0]?.input).toEqual({
      MaxResults: 1000,
      Filters: [
        { Name: 'status', Values: ['available'] },
        { Name: 'tag:vpcnet.io/cluster-name', Values: ['prod-1'] },
      ],
    });
    expect(ec2.sent.find((s) => s.action === 'CreateTags')?.input).toEqual({
      Resources: ['eni-untimed'],
      Tags: [{ Key: 'vpcnet.io/created-at', Value: new Date(now).toISOString() }],
    });
  });

  it('missing credentials fail as CLOUD_AUTH without sending anything and without retrying', async () => {
    let requests = 0;
    const ec2Server = await listen((_q, r) => {
      requests++;
      r.writeHead(500).end();
    });
    imds = await fakeImds(nodeMetadata());
    const p = new AwsProvider({
      clusterName: 'prod-1',
      metadataEndpoint: imds.url,
      ec2Endpoint: ec2Server.url,
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    const err = (await p.findLeakedNics(0).catch((e: unknown) => e)) as VpcnetError;
    await ec2Server.close();
    expect(err.code).toBe('CLOUD_AUTH');
    expect(err.message).toContain('credentials');
    expect(requests).toBe(0);
  });
});
