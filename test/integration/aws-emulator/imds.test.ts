// IMDSv2 per emulated instance: token flow, ENI paths, and metadata lagging the API.
import { AssignPrivateIpAddressesCommand, AttachNetworkInterfaceCommand, CreateNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../src/util/clock.ts';
import { startHarness, stopHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await stopHarness(h);
  h = undefined;
});

async function token(base: string, ttl = '60'): Promise<string> {
  const res = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl } });
  expect(res.status).toBe(200);
  return res.text();
}

async function get(base: string, tok: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}/latest/meta-data/${path}`, { headers: { 'x-aws-ec2-metadata-token': tok } });
  return { status: res.status, body: await res.text() };
}

describe('IMDSv2 emulation', () => {
  it('requires a session token and a valid TTL', async () => {
    h = await startHarness();
    const base = h.emu.imdsEndpoint(h.instance);
    expect((await fetch(`${base}/latest/meta-data/instance-id`)).status).toBe(401);
    expect((await get(base, 'forged', 'instance-id')).status).toBe(401);
    const bad = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '0' } });
    expect(bad.status).toBe(400);
    const none = await fetch(`${base}/latest/api/token`, { method: 'PUT' });
    expect(none.status).toBe(400);
    const versioned = await fetch(`${base}/2021-03-23/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
    expect(versioned.status).toBe(403);
    // A token belongs to its instance.
    const other = await token(h.emu.imdsEndpoint(h.smallInstance));
    expect((await get(base, other, 'instance-id')).status).toBe(401);
  });

  it('expires tokens after their TTL', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock });
    const base = h.emu.imdsEndpoint(h.instance);
    const tok = await token(base, '10');
    expect((await get(base, tok, 'instance-id')).status).toBe(200);
    await clock.advance(10_000);
    expect((await get(base, tok, 'instance-id')).status).toBe(401);
  });

  it('serves identity and per-ENI paths matching the API', async () => {
    h = await startHarness();
    const x = h;
    const base = x.emu.imdsEndpoint(x.instance);
    const tok = await token(base);
    const view = x.emu.instanceView(x.instance);
    const primary = view?.enis[0];
    expect((await get(base, tok, 'instance-id')).body).toBe(x.instance);
    expect((await get(base, tok, 'instance-type')).body).toBe('m5.large');
    expect((await get(base, tok, 'placement/availability-zone')).body).toBe('us-west-2a');
    expect((await get(base, tok, 'placement/region')).body).toBe('us-west-2');
    expect((await get(base, tok, 'local-ipv4')).body).toBe(primary?.primaryIp);
    expect((await get(base, tok, 'mac')).body).toBe(primary?.mac);

    const eni = await x.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA, Groups: ['sg-a', 'sg-b'], SecondaryPrivateIpAddressCount: 1 }),
    );
    const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
    const mac = eni.NetworkInterface?.MacAddress as string;
    await x.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: x.instance, DeviceIndex: 1 }));
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 1 }));

    expect((await get(base, tok, 'network/interfaces/macs/')).body).toBe(`${primary?.mac}/\n${mac}/`);
    const at = (p: string): Promise<{ status: number; body: string }> => get(base, tok, `network/interfaces/macs/${mac}/${p}`);
    expect((await at('device-number')).body).toBe('1');
    expect((await at('interface-id')).body).toBe(eniId);
    expect((await at('local-ipv4s')).body.split('\n')).toEqual(eni.NetworkInterface?.PrivateIpAddresses?.map((a) => a.PrivateIpAddress));
    expect((await at('subnet-id')).body).toBe(x.subnetA);
    expect((await at('subnet-ipv4-cidr-block')).body).toBe('10.0.0.0/20');
    expect((await at('vpc-ipv4-cidr-blocks')).body).toBe('10.0.0.0/16');
    expect((await at('vpc-id')).body).toBe(eni.NetworkInterface?.VpcId);
    expect((await at('security-group-ids')).body).toBe('sg-a\nsg-b');
    expect((await at('ipv4-prefix')).body).toMatch(/^10\.0\.\d+\.\d+\/28$/);
    expect((await get(base, tok, `network/interfaces/macs/${primary?.mac}/ipv4-prefix`)).status).toBe(404);
    expect((await get(base, tok, 'no/such/thing')).status).toBe(404);
  });

  it('shows API changes only after the configured lag', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, imdsLagMs: 2000 });
    const x = h;
    const base = x.emu.imdsEndpoint(x.instance);
    const tok = await token(base);
    const mac = x.emu.instanceView(x.instance)?.enis[0]?.mac as string;
    const eniId = x.emu.instanceView(x.instance)?.enis[0]?.eniId as string;
    const before = (await get(base, tok, `network/interfaces/macs/${mac}/local-ipv4s`)).body;
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 2 }));
    await clock.advance(1000);
    expect((await get(base, tok, `network/interfaces/macs/${mac}/local-ipv4s`)).body).toBe(before);
    await clock.advance(1000);
    expect((await get(base, tok, `network/interfaces/macs/${mac}/local-ipv4s`)).body.split('\n')).toHaveLength(3);
  });

  it('keeps serving the last known state when a lag is switched on later', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock });
    const x = h;
    const base = x.emu.imdsEndpoint(x.instance);
    const tok = await token(base);
    const eniId = x.emu.instanceView(x.instance)?.enis[0]?.eniId as string;
    await clock.advance(10);
    x.emu.imds.setLag(5000);
    await x.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 }));
    expect((await get(base, tok, 'instance-id')).body).toBe(x.instance);
    expect((await get(base, tok, 'local-ipv4')).status).toBe(200);
  });

  it('lists an attached ENI only once its attach has finished', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, attachDelayMs: 2000 });
    const x = h;
    const base = x.emu.imdsEndpoint(x.instance);
    const tok = await token(base);
    const eni = await x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA }));
    await x.ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterface?.NetworkInterfaceId, InstanceId: x.instance, DeviceIndex: 1 }),
    );
    expect((await get(base, tok, 'network/interfaces/macs')).body.split('\n')).toHaveLength(1);
    await clock.advance(2000);
    expect((await get(base, tok, 'network/interfaces/macs')).body).toContain(eni.NetworkInterface?.MacAddress);
  });

  it('serves one instance at the root of its own listener, for SDK-style endpoint settings', async () => {
    h = await startHarness();
    const base = await h.emu.startImdsListener(h.instance, { port: 0 });
    const tok = await token(base);
    expect((await get(base, tok, 'instance-id')).body).toBe(h.instance);
  });
});
