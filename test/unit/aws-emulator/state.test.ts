import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IdSource } from '../../../providers/aws/emulator/ids.ts';
import type { ChangeEvent } from '../../../providers/aws/emulator/model.ts';
import { QueryParams } from '../../../providers/aws/emulator/query.ts';
import { applyScenario } from '../../../providers/aws/emulator/scenario.ts';
import { Ec2State } from '../../../providers/aws/emulator/state.ts';
import { isVpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';

function setup(detachDelayMs = 0, describeLagMs = 0, attachDelayMs = 0): { s: Ec2State; clock: FakeClock; subnet: string; vpc: string } {
  const clock = new FakeClock();
  const s = new Ec2State({ clock, ids: new IdSource(3), region: 'us-west-2', ownerId: '111122223333', detachDelayMs, describeLagMs, attachDelayMs });
  const vpc = s.createVpc({ cidr: '10.1.0.0/16' });
  const subnet = s.createSubnet({ vpcId: vpc.id, cidr: '10.1.0.0/24', az: 'us-west-2b', tags: { tier: 'pods' } });
  return { s, clock, subnet: subnet.id, vpc: vpc.id };
}

function awsCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isVpcnetError(err)) return String(err.details.awsCode);
    throw err;
  }
  return undefined;
}

describe('emulated EC2 state', () => {
  it('launches an instance with its primary ENI at device index 0', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 'c5.18xlarge', subnetId: subnet });
    const view = s.instanceView(i.id);
    expect(view?.enis).toHaveLength(1);
    expect(view?.enis[0]?.deviceIndex).toBe(0);
    expect(view?.enis[0]?.primaryIp).toBe('10.1.0.4');
    expect(view?.az).toBe('us-west-2b');
    expect(awsCode(() => s.createInstance({ instanceType: 'z1.nope', subnetId: subnet }))).toBe('InvalidParameterValue');
  });

  it('allows maxNics - 1 more ENIs and per-NIC address slots including prefixes', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 't3.medium', subnetId: subnet }); // 3 NICs x 6
    const e1 = s.createNetworkInterface({ subnetId: subnet });
    const e2 = s.createNetworkInterface({ subnetId: subnet });
    const e3 = s.createNetworkInterface({ subnetId: subnet });
    s.attachNetworkInterface(e1.id, i.id, 1);
    expect(awsCode(() => s.attachNetworkInterface(e2.id, i.id, 1))).toBe('InvalidParameterValue');
    s.attachNetworkInterface(e2.id, i.id, 2);
    expect(awsCode(() => s.attachNetworkInterface(e3.id, i.id, 3))).toBe('AttachmentLimitExceeded');
    s.assignPrivateIpAddresses(e1.id, { count: 3 });
    s.assignPrivateIpAddresses(e1.id, { prefixCount: 2 });
    expect(awsCode(() => s.assignPrivateIpAddresses(e1.id, { count: 1 }))).toBe('PrivateIpAddressLimitExceeded');
    expect(awsCode(() => s.assignPrivateIpAddresses(e1.id, { count: 1, prefixCount: 1 }))).toBe('InvalidParameterCombination');
  });

  it('refuses to attach an ENI holding more addresses than the instance type allows', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 't3.micro', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet, secondaryCount: 2 });
    expect(awsCode(() => s.attachNetworkInterface(e.id, i.id, 1))).toBe('PrivateIpAddressLimitExceeded');
  });

  it('keeps a detaching ENI in use for the detach delay', async () => {
    const { s, clock, subnet } = setup(500);
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    const att = s.attachNetworkInterface(e.id, i.id, 1);
    s.detachNetworkInterface(att);
    expect(s.describeNetworkInterfaces([e.id], [])[0]?.attachment?.detachAt).toBeDefined();
    expect(awsCode(() => s.deleteNetworkInterface(e.id))).toBe('InvalidNetworkInterface.InUse');
    await clock.advance(500);
    s.deleteNetworkInterface(e.id);
    expect(awsCode(() => s.describeNetworkInterfaces([e.id], []))).toBe('InvalidNetworkInterfaceID.NotFound');
  });

  it('finds ENIs by instance through attach, detach and termination', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    const byInstance = (): string[] =>
      s.describeNetworkInterfaces([], [{ name: 'attachment.instance-id', values: [i.id, i.id] }]).map((x) => x.id).sort();
    const primary = s.enisOf(i.id)[0]!.id;
    const att = s.attachNetworkInterface(e.id, i.id, 1);
    expect(byInstance()).toEqual([primary, e.id].sort());
    expect(s.describeNetworkInterfaces([], [{ name: 'attachment.instance-id', values: ['i-*'] }])).toHaveLength(2);
    s.detachNetworkInterface(att);
    expect(byInstance()).toEqual([primary]);
    s.attachNetworkInterface(e.id, i.id, 2);
    s.terminateInstance(i.id);
    expect(byInstance()).toEqual([]);
    expect(s.enisOf(i.id)).toEqual([]);
  });

  it('hides a new ENI from describes for the describe lag', async () => {
    const { s, clock, subnet } = setup(0, 1000);
    const e = s.createNetworkInterface({ subnetId: subnet });
    expect(awsCode(() => s.describeNetworkInterfaces([e.id], []))).toBe('InvalidNetworkInterfaceID.NotFound');
    expect(s.describeNetworkInterfaces([], []).map((x) => x.id)).not.toContain(e.id);
    await clock.advance(1000);
    expect(s.describeNetworkInterfaces([e.id], [])).toHaveLength(1);
  });

  it('reports an attach in flight as attaching and leaves it out of the instance view', async () => {
    const { s, clock, subnet } = setup(0, 0, 3000);
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    const events: ChangeEvent[] = [];
    s.events.on('change', (ev) => events.push(ev));
    s.attachNetworkInterface(e.id, i.id, 1);
    const attachedAt = clock.now() + 3000;
    expect(s.describeNetworkInterfaces([], [{ name: 'attachment.status', values: ['attaching'] }]).map((x) => x.id)).toEqual([e.id]);
    expect(s.instanceView(i.id)?.enis.map((x) => x.eniId)).not.toContain(e.id);
    expect(s.listEnis().find((x) => x.eniId === e.id)?.attachmentStatus).toBe('attaching');
    // The device index is taken while attaching.
    const other = s.createNetworkInterface({ subnetId: subnet });
    expect(awsCode(() => s.attachNetworkInterface(other.id, i.id, 1))).toBe('InvalidParameterValue');
    await clock.advance(3500);
    expect(s.instanceView(i.id)?.enis.map((x) => x.eniId)).toContain(e.id);
    expect(events.filter((x) => x.kind === 'eni-attached')).toEqual([expect.objectContaining({ eniId: e.id, at: attachedAt })]);
  });

  it('never detaches the primary ENI without force and terminates instances like EC2', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const primary = s.enisOf(i.id)[0]!;
    expect(awsCode(() => s.detachNetworkInterface(primary.attachment!.id))).toBe('OperationNotPermitted');
    const keep = s.createNetworkInterface({ subnetId: subnet, secondaryCount: 2 });
    s.attachNetworkInterface(keep.id, i.id, 1);
    const free = s.subnetById(subnet)!.space.freeCount;
    s.terminateInstance(i.id);
    // The primary ENI (delete on termination) is gone and its address free; the other one leaks.
    expect(s.subnetById(subnet)!.space.freeCount).toBe(free + 1);
    expect(s.describeNetworkInterfaces([], [{ name: 'status', values: ['available'] }]).map((e) => e.id)).toEqual([keep.id]);
    expect(awsCode(() => s.attachNetworkInterface(keep.id, i.id, 1))).toBe('IncorrectInstanceState');
  });

  it('deletes a secondary ENI on termination once delete-on-termination is set', () => {
    const { s, subnet } = setup();
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    const att = s.attachNetworkInterface(e.id, i.id, 1);
    expect(awsCode(() => s.modifyNetworkInterfaceAttribute(e.id, { attachmentId: 'eni-attach-00000000', deleteOnTermination: true }))).toBe(
      'InvalidAttachmentID.NotFound',
    );
    s.modifyNetworkInterfaceAttribute(e.id, { attachmentId: att, deleteOnTermination: true, sourceDestCheck: false });
    expect(s.listEnis().find((x) => x.eniId === e.id)?.sourceDestCheck).toBe(false);
    s.terminateInstance(i.id);
    expect(s.listEnis()).toEqual([]);
  });

  it('frees addresses on unassign and delete, and refuses foreign or primary addresses', () => {
    const { s, subnet } = setup();
    const e = s.createNetworkInterface({ subnetId: subnet, secondaryIps: ['10.1.0.50'], prefixes: ['10.1.0.64/28'] });
    const space = s.subnetById(subnet)!.space;
    expect(awsCode(() => s.unassignPrivateIpAddresses(e.id, ['10.1.0.51'], []))).toBe('InvalidParameterValue');
    expect(awsCode(() => s.unassignPrivateIpAddresses(e.id, ['10.1.0.4'], []))).toBe('InvalidParameterValue');
    expect(awsCode(() => s.createNetworkInterface({ subnetId: subnet, primaryIp: '10.1.0.70' }))).toBe('InvalidIPAddress.InUse');
    expect(awsCode(() => s.createNetworkInterface({ subnetId: subnet, primaryIp: '10.2.0.9' }))).toBe('InvalidParameterValue');
    const before = space.freeCount;
    s.unassignPrivateIpAddresses(e.id, ['10.1.0.50'], ['10.1.0.64/28']);
    expect(space.freeCount).toBe(before + 17);
    s.deleteNetworkInterface(e.id);
    expect(space.freeCount).toBe(before + 18);
  });

  it('enforces the account ENI quota', () => {
    const clock = new FakeClock();
    const s = new Ec2State({ clock, ids: new IdSource(3), region: 'us-west-2', ownerId: '1', maxEnis: 2 });
    const vpc = s.createVpc({ cidr: '10.1.0.0/16' });
    const subnet = s.createSubnet({ vpcId: vpc.id, cidr: '10.1.0.0/24' }).id;
    s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    expect(awsCode(() => s.createNetworkInterface({ subnetId: subnet }))).toBe('NetworkInterfaceLimitExceeded');
    expect(awsCode(() => s.createInstance({ instanceType: 'm5.large', subnetId: subnet }))).toBe('NetworkInterfaceLimitExceeded');
    s.deleteNetworkInterface(e.id);
    s.createNetworkInterface({ subnetId: subnet });
  });

  it('rolls back every address of a call that fails half way', () => {
    const { s, subnet } = setup();
    const space = s.subnetById(subnet)!.space;
    const before = space.freeCount;
    expect(awsCode(() => s.createNetworkInterface({ subnetId: subnet, secondaryCount: 3, prefixCount: 20 }))).toBe('InsufficientCidrBlocks');
    expect(space.freeCount).toBe(before);
  });

  it('filters with tags, wildcards and several values, and rejects unknown filters', () => {
    const { s, subnet } = setup();
    const a = s.createNetworkInterface({ subnetId: subnet, tags: { cluster: 'blue', 'node.k8s/created': 'x' } });
    s.createNetworkInterface({ subnetId: subnet, tags: { cluster: 'green' } });
    s.createNetworkInterface({ subnetId: subnet });
    expect(s.describeNetworkInterfaces([], [{ name: 'tag:cluster', values: ['bl*'] }]).map((e) => e.id)).toEqual([a.id]);
    expect(s.describeNetworkInterfaces([], [{ name: 'tag:cluster', values: ['blue', 'green'] }])).toHaveLength(2);
    expect(s.describeNetworkInterfaces([], [{ name: 'tag-key', values: ['node.k8s/created'] }])).toHaveLength(1);
    expect(s.describeNetworkInterfaces([], [{ name: 'subnet-id', values: [subnet] }, { name: 'status', values: ['in-use'] }])).toHaveLength(0);
    expect(awsCode(() => s.describeNetworkInterfaces([], [{ name: 'colour', values: ['x'] }]))).toBe('InvalidParameterValue');
    expect(s.describeSubnets([], [{ name: 'tag:tier', values: ['pods'] }])).toHaveLength(1);
  });

  it('emits a change event with the addresses for every change', () => {
    const { s, subnet } = setup();
    const events: ChangeEvent[] = [];
    s.events.on('change', (e) => events.push(e));
    const i = s.createInstance({ instanceType: 'm5.large', subnetId: subnet });
    const e = s.createNetworkInterface({ subnetId: subnet });
    s.attachNetworkInterface(e.id, i.id, 1);
    s.assignPrivateIpAddresses(e.id, { ips: ['10.1.0.99'] });
    s.unassignPrivateIpAddresses(e.id, ['10.1.0.99'], []);
    expect(events.map((x) => x.kind)).toEqual([
      'eni-created', // the instance's primary ENI
      'instance-created',
      'eni-created',
      'eni-attached',
      'addresses-assigned',
      'addresses-unassigned',
    ]);
    expect(events[4]).toMatchObject({ eniId: e.id, instanceId: i.id, addresses: ['10.1.0.99'] });
    expect(events.map((x) => x.version)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('builds a scenario with subnets referenced by CIDR and instance counts', () => {
    const clock = new FakeClock();
    const s = new Ec2State({ clock, ids: new IdSource(1), region: 'eu-west-1', ownerId: '1' });
    const r = applyScenario(s, {
      vpcs: [{ cidr: '10.9.0.0/16', subnets: [{ cidr: '10.9.1.0/24', az: 'eu-west-1c' }] }],
      instances: [{ instanceType: 'm5.xlarge', subnet: '10.9.1.0/24', count: 3 }],
    });
    expect(r.instanceIds).toHaveLength(3);
    expect(s.listEnis().map((e) => e.deviceIndex)).toEqual([0, 0, 0]);
    expect(() => applyScenario(s, { vpcs: [{ cidr: 1 }] })).toThrow();
  });

  it('loads the example scenario shipped with the emulator', () => {
    const file = join(import.meta.dirname, '..', '..', '..', 'providers', 'aws', 'emulator', 'scenarios', 'example.json');
    const s = new Ec2State({ clock: new FakeClock(), ids: new IdSource(1), region: 'us-west-2', ownerId: '1' });
    const r = applyScenario(s, JSON.parse(readFileSync(file, 'utf8')));
    expect(r.instanceIds).toEqual(['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003']);
    expect(s.instanceView('i-0a1b2c3d4e5f60003')?.instanceType).toBe('t2.micro');
    expect(s.describeSubnets([], [{ name: 'tag:kubernetes.io/role/cni', values: ['1'] }])[0]?.cidr).toBe('100.64.0.0/18');
  });
});

describe('EC2 query parameters', () => {
  it('reads numbered lists, filters and tag specifications', () => {
    const p = new QueryParams(
      'Action=X&PrivateIpAddress.1=10.0.0.1&PrivateIpAddress.2=10.0.0.2&Filter.1.Name=tag%3Aa&Filter.1.Value.1=x&Filter.1.Value.2=y' +
        '&Filter.2.Name=status&Filter.2.Value.1=available&TagSpecification.1.ResourceType=network-interface' +
        '&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v&Ipv4Prefix.1.Ipv4Prefix=10.0.0.16%2F28',
    );
    expect(p.list('PrivateIpAddress')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(p.filters()).toEqual([
      { name: 'tag:a', values: ['x', 'y'] },
      { name: 'status', values: ['available'] },
    ]);
    expect(p.tagSpecifications('network-interface')).toEqual({ k: 'v' });
    expect(p.list('Ipv4Prefix', 'Ipv4Prefix')).toEqual(['10.0.0.16/28']);
    expect(awsCode(() => p.tagSpecifications('instance'))).toBe('InvalidParameterValue');
    expect(awsCode(() => new QueryParams('Count=-1').int('Count'))).toBe('InvalidParameterValue');
    expect(awsCode(() => p.required('SubnetId'))).toBe('MissingParameter');
  });
});
