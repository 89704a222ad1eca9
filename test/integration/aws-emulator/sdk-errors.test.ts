// What bites in production, as the SDK sees it: limits, full and fragmented subnets,
// throttling, injected faults and missing credentials.
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  UnassignPrivateIpAddressesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../src/util/clock.ts';
import { errorCodeOf, startHarness, stopHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await stopHarness(h);
  h = undefined;
});

async function createEni(x: Harness, subnetId: string): Promise<string> {
  const out = await x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
  return out.NetworkInterface?.NetworkInterfaceId as string;
}

describe('EC2 emulator errors through the AWS SDK', () => {
  it('enforces per-NIC address limits and per-instance NIC limits', async () => {
    h = await startHarness();
    const x = h;
    // t3.micro: 2 NICs, 2 IPv4 per NIC (primary included).
    const eni = await createEni(x, x.subnetA);
    await x.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni, InstanceId: x.smallInstance, DeviceIndex: 1 }));
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }));
    expect(
      await errorCodeOf(x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }))),
    ).toBe('PrivateIpAddressLimitExceeded');
    const third = await createEni(x, x.subnetA);
    expect(
      await errorCodeOf(x.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third, InstanceId: x.smallInstance, DeviceIndex: 2 }))),
    ).toBe('AttachmentLimitExceeded');
    const other = await createEni(x, x.subnetA);
    expect(
      await errorCodeOf(x.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: other, InstanceId: x.instance, DeviceIndex: 0 }))),
    ).toBe('InvalidParameterValue');
  });

  it('reports a full subnet and a fragmented one that has addresses but no free /28', async () => {
    h = await startHarness();
    const x = h;
    // 10.0.16.0/26: 59 usable addresses. The /28s at .0 and .48 hold reserved addresses, so
    // only .16/28 and .32/28 can ever be delegated; one address in each blocks both.
    const eni = await createEni(x, x.subnetSmall);
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: ['10.0.16.20', '10.0.16.40'] }));
    expect(await errorCodeOf(x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, Ipv4PrefixCount: 1 })))).toBe(
      'InsufficientCidrBlocks',
    );
    const free = (await x.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [x.subnetSmall] }))).Subnets?.[0]?.AvailableIpAddressCount;
    expect(free).toBe(56);
    await x.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: ['10.0.16.40'] }));
    const pfx = await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, Ipv4PrefixCount: 1 }));
    expect(pfx.AssignedIpv4Prefixes?.[0]?.Ipv4Prefix).toBe('10.0.16.32/28');
    // 57 - 16 = 41 addresses left; the ENI may hold 50 slots unattached.
    const other = await createEni(x, x.subnetSmall);
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other, SecondaryPrivateIpAddressCount: 40 }));
    expect(
      await errorCodeOf(x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }))),
    ).toBe('InsufficientFreeAddressesInSubnet');
    expect(await errorCodeOf(x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetSmall })))).toBe(
      'InsufficientFreeAddressesInSubnet',
    );
  });

  it('refuses prefixes on a non-Nitro instance type', async () => {
    h = await startHarness();
    const x = h;
    const inst = x.emu.state.createInstance({ instanceType: 't2.micro', subnetId: x.subnetA });
    const primary = x.emu.state.enisOf(inst.id)[0]?.id as string;
    expect(await errorCodeOf(x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, Ipv4PrefixCount: 1 })))).toBe(
      'InvalidParameterValue',
    );
  });

  it('throttles with RequestLimitExceeded (HTTP 503) when a bucket is empty and refills with time', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, throttling: true, buckets: { describeUnfiltered: { capacity: 3, refillPerSecond: 1 } } });
    const x = h;
    for (let i = 0; i < 3; i++) await x.ec2.send(new DescribeNetworkInterfacesCommand({}));
    let status: number | undefined;
    try {
      await x.ec2.send(new DescribeNetworkInterfacesCommand({}));
    } catch (err) {
      expect((err as Error).name).toBe('RequestLimitExceeded');
      status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    }
    expect(status).toBe(503);
    // Filtered describes draw from another bucket.
    await x.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'status', Values: ['in-use'] }] }));
    await clock.advance(1000);
    await x.ec2.send(new DescribeNetworkInterfacesCommand({}));
    expect(x.emu.stats().throttled.DescribeNetworkInterfaces).toBe(1);
  });

  it('injects faults per operation, also after the call took effect', async () => {
    h = await startHarness();
    const x = h;
    x.emu.faults.add({ action: 'CreateNetworkInterface', code: 'InternalError', count: 2 });
    expect(await errorCodeOf(x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA })))).toBe('InternalError');
    expect(await errorCodeOf(x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA })))).toBe('InternalError');
    const before = x.emu.listEnis().length;
    await createEni(x, x.subnetA);
    expect(x.emu.listEnis()).toHaveLength(before + 1);

    // The call succeeds on the server but the client sees an error: a leak unless it reconciles.
    x.emu.faults.add({ action: 'CreateNetworkInterface', code: 'Unavailable', when: 'after', count: 1 });
    expect(await errorCodeOf(x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA })))).toBe('Unavailable');
    expect(x.emu.listEnis()).toHaveLength(before + 2);

    // Same fault through the admin HTTP API.
    const res = await fetch(`${x.emu.endpoint}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ action: 'DescribeSubnets', code: 'UnauthorizedOperation', status: 403, count: 1 }),
    });
    expect(res.status).toBe(200);
    expect(await errorCodeOf(x.ec2.send(new DescribeSubnetsCommand({})))).toBe('UnauthorizedOperation');
    await x.ec2.send(new DescribeSubnetsCommand({}));

    // A dropped connection, then recovery.
    x.emu.faults.add({ action: 'DescribeSubnets', kind: 'reset', count: 1 });
    await expect(x.ec2.send(new DescribeSubnetsCommand({}))).rejects.toThrow();
    expect((await x.ec2.send(new DescribeSubnetsCommand({}))).Subnets).toHaveLength(2);
  });

  it('retries of CreateNetworkInterface with the same client token return the same ENI', async () => {
    h = await startHarness();
    const x = h;
    const a = await x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA, ClientToken: 'tok-1' }));
    const b = await x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA, ClientToken: 'tok-1' }));
    expect(b.NetworkInterface?.NetworkInterfaceId).toBe(a.NetworkInterface?.NetworkInterfaceId);
  });

  it('answers a dry run with DryRunOperation and changes nothing', async () => {
    h = await startHarness();
    const before = h.emu.listEnis().length;
    expect(await errorCodeOf(h.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: h.subnetA, DryRun: true })))).toBe('DryRunOperation');
    expect(h.emu.listEnis()).toHaveLength(before);
  });

  it('rejects unsigned requests with AuthFailure', async () => {
    h = await startHarness();
    const res = await fetch(h.emu.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeSubnets&Version=2016-11-15',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('<Code>AuthFailure</Code>');
  });
});
