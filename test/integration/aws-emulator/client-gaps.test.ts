// What a real EC2 client noticed, checked through @aws-sdk/client-ec2 against the emulator:
// instance-type filters, client-token mismatches, zone ids, the filters EC2 has, Malformed
// ids, MaxResults beside ids, the describe/tag calls integration tests use, IMDS token rules.
import {
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeInstanceTypes,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from '@jest/globals';
import { defaultScenario } from '../../../providers/aws/emulator/scenario.ts';
import { azIdOf } from '../../../providers/aws/emulator/state.ts';
import { INSTANCE_TYPE_LIMITS } from '../../../providers/aws/limits.ts';
import { errorCodeOf, startHarness, stopHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await stopHarness(h);
  h = undefined;
});

describe('DescribeInstanceTypes', () => {
  it('applies --filters', async () => {
    h = await startHarness();
    const out = await h.ec2.send(
      new DescribeInstanceTypesCommand({
        Filters: [
          { Name: 'instance-type', Values: ['m7g.*'] },
          { Name: 'network-info.maximum-network-interfaces', Values: ['3'] },
        ],
      }),
    );
    const types = (out.InstanceTypes ?? []).map((t) => t.InstanceType);
    expect(types).toContain('m7g.large');
    expect(types.every((t) => t?.startsWith('m7g.'))).toBe(true);
    expect(out.InstanceTypes?.every((t) => t.NetworkInfo?.MaximumNetworkInterfaces === 3)).toBe(true);
    expect(out.InstanceTypes?.[0]?.ProcessorInfo?.SupportedArchitectures).toEqual(['arm64']);
    expect(await errorCodeOf(h.ec2.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })))).toBe(
      'InvalidParameterValue',
    );
  });

  it('knows every current family, Graviton and 7th generation included, and pages as EC2 does', async () => {
    h = await startHarness();
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeInstanceTypes({ client: h.ec2 }, { MaxResults: 100 })) {
      pages++;
      seen.push(...(page.InstanceTypes ?? []).map((t) => t.InstanceType ?? ''));
    }
    expect(seen.length).toBe(INSTANCE_TYPE_LIMITS.size);
    expect(pages).toBe(Math.ceil(INSTANCE_TYPE_LIMITS.size / 100));
    for (const t of ['m7g.large', 'c7g.xlarge', 'r7g.2xlarge', 'm7i.large', 'c7i.4xlarge', 'm7a.large', 'c8g.large', 't4g.medium', 'c6gn.large']) {
      expect(seen).toContain(t);
    }
    const [p5] = (await h.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['p5.48xlarge'] }))).InstanceTypes ?? [];
    // Several network cards: the total counts every card, card 0 is what pods use.
    expect(p5?.NetworkInfo?.MaximumNetworkCards).toBeGreaterThan(1);
    expect(p5?.NetworkInfo?.NetworkCards?.[0]?.MaximumNetworkInterfaces).toBe(INSTANCE_TYPE_LIMITS.get('p5.48xlarge')?.maxNics);
    expect(await errorCodeOf(h.ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 500 })))).toBe('InvalidParameterValue');
  });
});

describe('CreateNetworkInterface client tokens', () => {
  it('a retry with the same token and parameters returns the same ENI; other parameters fail', async () => {
    h = await startHarness();
    const first = await h.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, ClientToken: 'tok-1', Description: 'a' }));
    const again = await h.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, ClientToken: 'tok-1', Description: 'a' }));
    expect(again.NetworkInterface?.NetworkInterfaceId).toBe(first.NetworkInterface?.NetworkInterfaceId);
    const other = h.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, ClientToken: 'tok-1', Description: 'b' }));
    expect(await errorCodeOf(other)).toBe('IdempotentParameterMismatch');
    expect(h.emu.listEnis().filter((e) => e.status === 'available')).toHaveLength(1);
  });
});

describe('zones, VPCs and subnets', () => {
  it('zone ids look like EC2 ones', () => {
    expect(azIdOf('us-east-1a')).toBe('use1-az1');
    expect(azIdOf('us-west-2c')).toBe('usw2-az3');
    expect(azIdOf('eu-central-1b')).toBe('euc1-az2');
    expect(azIdOf('ap-southeast-2a')).toBe('apse2-az1');
    expect(azIdOf('ap-northeast-1d')).toBe('apne1-az4');
  });

  it('DescribeSubnets: AvailabilityZoneId, ipv4-cidr-block-association.cidr-block and default-for-az', async () => {
    h = await startHarness({ region: 'us-east-1' });
    h.emu.applyScenario(defaultScenario('us-east-1'));
    const byCidr = await h.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'ipv4-cidr-block-association.cidr-block', Values: ['172.31.16.0/20'] }] }));
    expect(byCidr.Subnets?.map((s) => [s.CidrBlock, s.AvailabilityZone, s.AvailabilityZoneId, s.DefaultForAz])).toEqual([
      ['172.31.16.0/20', 'us-east-1b', 'use1-az2', true],
    ]);
    const defaults = await h.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
    expect(defaults.Subnets?.map((s) => s.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
  });

  it('DescribeVpcs with is-default, ids and Malformed ids', async () => {
    h = await startHarness();
    h.emu.applyScenario(defaultScenario('us-west-2'));
    const all = await h.ec2.send(new DescribeVpcsCommand({}));
    expect(all.Vpcs).toHaveLength(2);
    const def = await h.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    expect(def.Vpcs?.map((v) => [v.CidrBlock, v.IsDefault, v.State, v.CidrBlockAssociationSet?.[0]?.CidrBlockState?.State])).toEqual([
      ['172.31.0.0/16', true, 'available', 'associated'],
    ]);
    const one = await h.ec2.send(new DescribeVpcsCommand({ VpcIds: [def.Vpcs![0]!.VpcId!] }));
    expect(one.Vpcs).toHaveLength(1);
    expect(await errorCodeOf(h.ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] })))).toBe('InvalidVpcID.NotFound');
    expect(await errorCodeOf(h.ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-nothex'] })))).toBe('InvalidVpcID.Malformed');
  });

  it('DescribeAvailabilityZones', async () => {
    h = await startHarness();
    const out = await h.ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(out.AvailabilityZones?.map((z) => [z.ZoneName, z.ZoneId, z.State, z.RegionName])).toEqual([
      ['us-west-2a', 'usw2-az1', 'available', 'us-west-2'],
      ['us-west-2b', 'usw2-az2', 'available', 'us-west-2'],
      ['us-west-2c', 'usw2-az3', 'available', 'us-west-2'],
    ]);
    const byId = await h.ec2.send(new DescribeAvailabilityZonesCommand({ ZoneIds: ['usw2-az2'] }));
    expect(byId.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(['us-west-2b']);
    expect(await errorCodeOf(h.ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-west-2z'] })))).toBe('InvalidParameterValue');
  });
});

describe('ENI filters and attributes', () => {
  it('addresses.primary and source-dest-check', async () => {
    h = await startHarness();
    const withSecondary = await h.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, SecondaryPrivateIpAddressCount: 2 }));
    const id = withSecondary.NetworkInterface!.NetworkInterfaceId!;
    await h.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, SourceDestCheck: { Value: false } }));
    const off = await h.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'source-dest-check', Values: ['false'] }] }));
    expect(off.NetworkInterfaces?.map((e) => e.NetworkInterfaceId)).toEqual([id]);
    const secondaries = await h.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.primary', Values: ['false'] }] }));
    expect(secondaries.NetworkInterfaces?.map((e) => e.NetworkInterfaceId)).toEqual([id]);
    const primaries = await h.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.primary', Values: ['true'] }] }));
    expect(primaries.NetworkInterfaces?.length).toBe(3);
  });

  it('DescribeNetworkInterfaceAttribute', async () => {
    h = await startHarness();
    const [primary] = h.emu.listEnis().filter((e) => e.instanceId === h!.instance);
    const id = primary!.eniId;
    const sdc = await h.ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute: 'sourceDestCheck' }));
    expect(sdc.SourceDestCheck?.Value).toBe(true);
    const att = await h.ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute: 'attachment' }));
    expect([att.Attachment?.InstanceId, att.Attachment?.DeviceIndex, att.Attachment?.Status]).toEqual([h.instance, 0, 'attached']);
    const groups = await h.ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute: 'groupSet' }));
    expect(groups.Groups?.map((g) => g.GroupId)).toEqual(['sg-default']);
    const desc = await h.ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute: 'description' }));
    expect(desc.Description?.Value).toBe('Primary network interface');
    expect(await errorCodeOf(h.ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute: 'bogus' as never })))).toBe(
      'InvalidParameterValue',
    );
  });

  it('a malformed id is Malformed, a well-formed unknown id NotFound', async () => {
    h = await startHarness();
    const eni = (ids: string[]): Promise<string> => errorCodeOf(h!.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids })));
    expect(await eni(['eni-xyz'])).toBe('InvalidNetworkInterfaceID.Malformed');
    expect(await eni(['eni-0123456789abcdef0'])).toBe('InvalidNetworkInterfaceID.NotFound');
    expect(await errorCodeOf(h.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-?'] })))).toBe('InvalidSubnetID.Malformed');
    expect(await errorCodeOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-12'] })))).toBe('InvalidInstanceID.Malformed');
    expect(await errorCodeOf(h.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: 'attach-1' })))).toBe('InvalidNetworkInterfaceAttachmentId.Malformed');
    expect(await errorCodeOf(h.ec2.send(new CreateTagsCommand({ Resources: ['nonsense'], Tags: [{ Key: 'a', Value: 'b' }] })))).toBe('InvalidID');
  });

  it('MaxResults together with ids is refused as on EC2', async () => {
    h = await startHarness();
    const [e] = h.emu.listEnis();
    expect(await errorCodeOf(h.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [e!.eniId], MaxResults: 5 })))).toBe(
      'InvalidParameterCombination',
    );
    expect(await errorCodeOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [h.instance], MaxResults: 5 })))).toBe('InvalidParameterCombination');
  });
});

describe('tags', () => {
  it('DescribeTags and DeleteTags (a value given must match)', async () => {
    h = await startHarness();
    await h.ec2.send(new CreateTagsCommand({ Resources: [h.subnetA, h.instance], Tags: [{ Key: 'team', Value: 'net' }, { Key: 'tier', Value: 'a' }] }));
    const team = await h.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['team'] }] }));
    expect(team.Tags?.map((t) => [t.ResourceId, t.ResourceType, t.Value]).sort()).toEqual(
      [
        [h.instance, 'instance', 'net'],
        [h.subnetA, 'subnet', 'net'],
      ].sort(),
    );
    await h.ec2.send(new DeleteTagsCommand({ Resources: [h.subnetA], Tags: [{ Key: 'team', Value: 'other' }, { Key: 'tier' }] }));
    const left = await h.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [h.subnetA] }] }));
    // 'team' stays (its value differs), 'tier' goes (no value given); the scenario's tag stays.
    expect(left.Tags?.map((t) => t.Key).sort()).toEqual(['kubernetes.io/role/cni', 'team']);
  });
});

describe('IMDS tokens', () => {
  it('the token answer carries its TTL; a PUT with X-Forwarded-For is refused', async () => {
    h = await startHarness();
    const base = h.emu.imdsEndpoint(h.instance);
    const ok = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '120' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-aws-ec2-metadata-token-ttl-seconds')).toBe('120');
    const proxied = await fetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '120', 'x-forwarded-for': '10.0.0.9' },
    });
    expect(proxied.status).toBe(403);
  });
});
