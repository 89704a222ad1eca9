// Every EC2 call the AWS client uses, through the real @aws-sdk/client-ec2.
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
  paginateDescribeNetworkInterfaces,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { errorCodeOf, startHarness, stopHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await stopHarness(h);
});

describe('EC2 emulator through the AWS SDK', () => {
  it('describes instances with their primary ENI', async () => {
    const out = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [h.instance] }));
    const inst = out.Reservations?.[0]?.Instances?.[0];
    expect(inst?.InstanceId).toBe(h.instance);
    expect(inst?.InstanceType).toBe('m5.large');
    expect(inst?.Placement?.AvailabilityZone).toBe('us-west-2a');
    expect(inst?.State?.Name).toBe('running');
    const eni = inst?.NetworkInterfaces?.[0];
    expect(eni?.Attachment?.DeviceIndex).toBe(0);
    expect(eni?.PrivateIpAddress).toBe(inst?.PrivateIpAddress);
    expect(eni?.MacAddress).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(inst?.Tags).toEqual([{ Key: 'Name', Value: 'node-1' }]);
    expect(await errorCodeOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-00000000000000000'] })))).toBe(
      'InvalidInstanceID.NotFound',
    );
  });

  it('describes instance types with their network limits and rejects unknown types', async () => {
    const out = await h.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 't2.micro'] }));
    const byType = new Map(out.InstanceTypes?.map((t) => [t.InstanceType, t]));
    expect(byType.get('m5.large')?.NetworkInfo?.MaximumNetworkInterfaces).toBe(3);
    expect(byType.get('m5.large')?.NetworkInfo?.Ipv4AddressesPerInterface).toBe(10);
    expect(byType.get('m5.large')?.NetworkInfo?.NetworkCards?.[0]?.MaximumNetworkInterfaces).toBe(3);
    expect(byType.get('m5.large')?.Hypervisor).toBe('nitro');
    expect(byType.get('t2.micro')?.Hypervisor).toBe('xen');
    expect(await errorCodeOf(h.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['x9.huge' as _InstanceType] })))).toBe('InvalidInstanceType');
  });

  it('describes subnets by id, vpc, zone and tag, with free address counts', async () => {
    const byTag = await h.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'tag:kubernetes.io/role/cni', Values: ['1'] }] }));
    expect(byTag.Subnets?.map((s) => s.SubnetId)).toEqual([h.subnetA]);
    const small = (await h.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [h.subnetSmall] }))).Subnets?.[0];
    expect(small?.CidrBlock).toBe('10.0.16.0/26');
    expect(small?.AvailableIpAddressCount).toBe(64 - 5);
    const vpcId = small?.VpcId as string;
    const byVpcZone = await h.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'availability-zone', Values: ['us-west-2a'] }] }),
    );
    expect(byVpcZone.Subnets).toHaveLength(2);
    expect(await errorCodeOf(h.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-00000000'] })))).toBe('InvalidSubnetID.NotFound');
  });

  it('runs the ENI life cycle: create, tag, attach, assign, unassign, modify, detach, delete', async () => {
    const created = await h.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: h.subnetA,
        Groups: ['sg-1', 'sg-2'],
        Description: 'vpcnet test',
        SecondaryPrivateIpAddressCount: 2,
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'cluster', Value: 'c1' }] }],
      }),
    );
    const eni = created.NetworkInterface;
    const eniId = eni?.NetworkInterfaceId as string;
    expect(eniId).toMatch(/^eni-[0-9a-f]{17}$/);
    expect(eni?.Status).toBe('available');
    expect(eni?.PrivateIpAddresses).toHaveLength(3);
    expect(eni?.PrivateIpAddresses?.filter((a) => a.Primary)).toHaveLength(1);
    expect(eni?.Groups?.map((g) => g.GroupId)).toEqual(['sg-1', 'sg-2']);
    expect(eni?.TagSet).toEqual([{ Key: 'cluster', Value: 'c1' }]);

    await h.ec2.send(new CreateTagsCommand({ Resources: [eniId], Tags: [{ Key: 'owner', Value: h.instance }] }));
    const attach = await h.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: h.instance, DeviceIndex: 1 }));
    expect(attach.AttachmentId).toMatch(/^eni-attach-/);
    await h.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eniId,
        Attachment: { AttachmentId: attach.AttachmentId, DeleteOnTermination: true },
      }),
    );
    await h.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, SourceDestCheck: { Value: false } }));
    await h.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: ['sg-3'] }));

    const assigned = await h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 3 }));
    expect(assigned.AssignedPrivateIpAddresses).toHaveLength(3);
    const prefixes = await h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 2 }));
    expect(prefixes.AssignedIpv4Prefixes?.map((p) => p.Ipv4Prefix)).toHaveLength(2);
    for (const p of prefixes.AssignedIpv4Prefixes ?? []) expect(p.Ipv4Prefix).toMatch(/\/28$/);

    const mine = await h.ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: 'attachment.instance-id', Values: [h.instance] },
          { Name: 'tag:cluster', Values: ['c1'] },
        ],
      }),
    );
    expect(mine.NetworkInterfaces).toHaveLength(1);
    const described = mine.NetworkInterfaces?.[0];
    expect(described?.Status).toBe('in-use');
    expect(described?.Attachment?.DeviceIndex).toBe(1);
    expect(described?.Attachment?.DeleteOnTermination).toBe(true);
    expect(described?.SourceDestCheck).toBe(false);
    expect(described?.Groups?.map((g) => g.GroupId)).toEqual(['sg-3']);
    expect(described?.PrivateIpAddresses).toHaveLength(6);
    expect(described?.Ipv4Prefixes).toHaveLength(2);
    expect(described?.TagSet).toContainEqual({ Key: 'owner', Value: h.instance });

    const dropIp = assigned.AssignedPrivateIpAddresses?.[0]?.PrivateIpAddress as string;
    const dropPrefix = prefixes.AssignedIpv4Prefixes?.[0]?.Ipv4Prefix as string;
    await h.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: [dropIp] }));
    await h.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4Prefixes: [dropPrefix] }));
    const after = (await h.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces?.[0];
    expect(after?.PrivateIpAddresses?.map((a) => a.PrivateIpAddress)).not.toContain(dropIp);
    expect(after?.Ipv4Prefixes?.map((p) => p.Ipv4Prefix)).toEqual([prefixes.AssignedIpv4Prefixes?.[1]?.Ipv4Prefix]);

    expect(await errorCodeOf(h.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId })))).toBe(
      'InvalidNetworkInterface.InUse',
    );
    await h.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attach.AttachmentId }));
    const available = await h.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'status', Values: ['available'] }] }));
    expect(available.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toContain(eniId);
    await h.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
    expect(await errorCodeOf(h.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))).toBe(
      'InvalidNetworkInterfaceID.NotFound',
    );
  });

  it('assigns specific addresses and prefixes and creates ENIs with prefixes', async () => {
    const created = await h.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, PrivateIpAddress: '10.0.5.10', Ipv4PrefixCount: 1 }),
    );
    const eniId = created.NetworkInterface?.NetworkInterfaceId as string;
    expect(created.NetworkInterface?.PrivateIpAddress).toBe('10.0.5.10');
    expect(created.NetworkInterface?.Ipv4Prefixes).toHaveLength(1);
    const got = await h.ec2.send(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ['10.0.5.11', '10.0.5.12'] }),
    );
    expect(got.AssignedPrivateIpAddresses?.map((a) => a.PrivateIpAddress)).toEqual(['10.0.5.11', '10.0.5.12']);
    const pfx = await h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4Prefixes: ['10.0.6.0/28'] }));
    expect(pfx.AssignedIpv4Prefixes?.[0]?.Ipv4Prefix).toBe('10.0.6.0/28');
    expect(
      await errorCodeOf(h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ['10.0.5.11'] }))),
    ).toBe('InvalidIPAddress.InUse');
    await h.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
  });

  it('pages DescribeNetworkInterfaces with the SDK paginator', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const out = await h.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: h.subnetA,
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'batch', Value: 'page' }] }],
        }),
      );
      ids.push(out.NetworkInterface?.NetworkInterfaceId as string);
    }
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeNetworkInterfaces(
      { client: h.ec2, pageSize: 5 },
      { Filters: [{ Name: 'tag-key', Values: ['batch'] }] },
    )) {
      pages++;
      for (const n of page.NetworkInterfaces ?? []) seen.push(n.NetworkInterfaceId as string);
    }
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([...ids].sort());
    for (const id of ids) await h.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
  });
});
