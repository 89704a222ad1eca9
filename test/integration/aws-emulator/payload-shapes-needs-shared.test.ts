// The emulator's XML must have the element structure of the vendor's sample payloads
// (../shared/cloud-payloads/aws, see SOURCES.md there): every element the vendor sample has
// is emitted (except ones outside the emulator's model, listed below), and every element the
// emulator emits is either in the sample or a name from the EC2 service model.
import { describe, expect, it } from '@jest/globals';
import { ACTIONS } from '../../../providers/aws/emulator/actions.ts';
import { IdSource } from '../../../providers/aws/emulator/ids.ts';
import { QueryParams } from '../../../providers/aws/emulator/query.ts';
import { Ec2State } from '../../../providers/aws/emulator/state.ts';
import { errorResponse } from '../../../providers/aws/emulator/xml.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { intToIp } from '../../../src/util/ip.ts';
import { readSharedPayload } from '../../support/shared-payloads.ts';


/** Element paths below the root ("networkInterfaceSet/item/attachment/deviceIndex"), and the root. */
function shape(xml: string): { root: string; paths: Set<string> } {
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  const stack: string[] = [];
  const paths = new Set<string>();
  let root = '';
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m as unknown as [string, string, string, string];
    if (close) {
      stack.pop();
      continue;
    }
    if (!root) root = name;
    else paths.add([...stack.slice(1), name].join('/'));
    if (!selfClose) stack.push(name);
  }
  return { root, paths };
}

function vendor(file: string): { root: string; paths: Set<string> } {
  return shape(readSharedPayload('aws', file));
}

/** Every locationName of the EC2 service model subset, the names the SDK's parser knows. */
function modelNames(): Set<string> {
  const model = JSON.parse(readSharedPayload('aws', 'botocore-ec2-shapes-subset.json')) as {
    shapes: Record<string, { members?: Record<string, { locationName?: string }> }>;
  };
  const names = new Set(['item', 'requestId', 'return', 'nextToken']);
  for (const s of Object.values(model.shapes)) for (const m of Object.values(s.members ?? {})) if (m.locationName) names.add(m.locationName);
  return names;
}

// Vendor elements outside the emulator's model (public IPs, IPv6, EBS, IAM, key pairs).
const NOT_MODELLED = [
  /(^|\/)association(\/|$)/,
  /(^|\/)ipv6AddressesSet\/item/,
  /(^|\/)ipv6CidrBlockAssociationSet\/item/,
  /(^|\/)blockDeviceMapping\/item/,
  /(^|\/)iamInstanceProfile/,
  /(^|\/)cpuOptions/,
  /\/(keyName|ipAddress|clientToken|requesterId)$/,
  /\/vCpuInfo\/(validCores|validThreadsPerCore)/,
];

function world(): { s: Ec2State; eni: string; bare: string; instance: string; attachment: string } {
  const s = new Ec2State({ clock: new FakeClock(), ids: new IdSource(5), region: 'us-west-2', ownerId: '123456789012' });
  const vpc = s.createVpc({ cidr: '10.0.0.0/16' });
  const subnet = s.createSubnet({ vpcId: vpc.id, cidr: '10.0.0.0/24', tags: { Name: 'pods' } });
  const inst = s.createInstance({ instanceType: 'm5.large', subnetId: subnet.id, tags: { Name: 'n1' } });
  const eni = s.createNetworkInterface({ subnetId: subnet.id, secondaryCount: 2, tags: { k: 'v' } });
  const attachment = s.attachNetworkInterface(eni.id, inst.id, 1);
  const bare = s.createNetworkInterface({ subnetId: subnet.id, prefixCount: 1 });
  return { s, eni: eni.id, bare: bare.id, instance: inst.id, attachment };
}

function call(s: Ec2State, body: string): string {
  const p = new QueryParams(body);
  const handler = ACTIONS[p.action ?? ''];
  if (!handler) throw new Error(`no handler for ${body}`);
  return handler(p, s, '00000000-0000-0000-0000-000000000000');
}

function expectSameShape(ours: string, vendorFile: string, extraModelled: string[] = []): void {
  const v = vendor(vendorFile);
  const o = shape(ours);
  if (v.root.endsWith('Response')) expect(o.root).toBe(v.root);
  const required = [...v.paths].filter((p) => !NOT_MODELLED.some((re) => re.test(p)));
  expect(required.filter((p) => !o.paths.has(p))).toEqual([]);
  const known = modelNames();
  const unknown = [...o.paths].filter((p) => !v.paths.has(p) && !known.has(p.split('/').pop() as string) && !extraModelled.includes(p));
  expect(unknown).toEqual([]);
}

describe('rendered XML matches the vendor payload shapes (../shared)', () => {
  it('DescribeNetworkInterfaces (attached ENI with secondary IPs)', () => {
    const w = world();
    expectSameShape(call(w.s, `Action=DescribeNetworkInterfaces&NetworkInterfaceId.1=${w.eni}`), 'ec2-describe-network-interfaces.xml');
  });

  it('DescribeNetworkInterfaces (ENI with an IPv4 prefix)', () => {
    const w = world();
    expectSameShape(
      call(w.s, `Action=DescribeNetworkInterfaces&NetworkInterfaceId.1=${w.bare}`),
      'ec2-describe-network-interfaces-ipv4-prefix.ASSEMBLED.xml',
    );
  });

  it('CreateNetworkInterface', () => {
    const w = world();
    const subnet = w.s.describeSubnets([], [])[0]?.id ?? '';
    expectSameShape(
      call(w.s, `Action=CreateNetworkInterface&SubnetId=${subnet}&SecondaryPrivateIpAddressCount=4`),
      'ec2-create-network-interface-secondary-ips.xml',
    );
  });

  it('AssignPrivateIpAddresses for addresses, a count, and a prefix count', () => {
    const w = world();
    expectSameShape(call(w.s, `Action=AssignPrivateIpAddresses&NetworkInterfaceId=${w.eni}&PrivateIpAddress.1=10.0.0.100`), 'ec2-assign-private-ip-addresses.xml');
    expectSameShape(
      call(w.s, `Action=AssignPrivateIpAddresses&NetworkInterfaceId=${w.eni}&SecondaryPrivateIpAddressCount=2`),
      'ec2-assign-private-ip-addresses-count.xml',
    );
    expectSameShape(
      call(w.s, `Action=AssignPrivateIpAddresses&NetworkInterfaceId=${w.eni}&Ipv4PrefixCount=1`),
      'ec2-assign-private-ip-addresses-ipv4-prefix.ASSEMBLED.xml',
    );
  });

  it('Unassign, Attach, Detach, Delete', () => {
    const w = world();
    const ip = w.s.describeNetworkInterfaces([w.eni], [])[0]?.secondaryIps[0] ?? 0;
    const ipText = intToIp(ip);
    expectSameShape(
      call(w.s, `Action=UnassignPrivateIpAddresses&NetworkInterfaceId=${w.eni}&PrivateIpAddress.1=${ipText}`),
      'ec2-unassign-private-ip-addresses.xml',
    );
    expectSameShape(call(w.s, `Action=DetachNetworkInterface&AttachmentId=${w.attachment}`), 'ec2-detach-network-interface.xml');
    expectSameShape(
      call(w.s, `Action=AttachNetworkInterface&NetworkInterfaceId=${w.eni}&InstanceId=${w.instance}&DeviceIndex=1`),
      'ec2-attach-network-interface.xml',
    );
    expectSameShape(call(w.s, `Action=DeleteNetworkInterface&NetworkInterfaceId=${w.bare}`), 'ec2-delete-network-interface.xml');
  });

  it('DescribeInstances', () => {
    const w = world();
    expectSameShape(call(w.s, `Action=DescribeInstances&InstanceId.1=${w.instance}`), 'ec2-describe-instances.xml');
  });

  it('DescribeSubnets', () => {
    const w = world();
    expectSameShape(call(w.s, 'Action=DescribeSubnets'), 'ec2-describe-subnets.xml');
  });

  it('DescribeInstanceTypes', () => {
    const w = world();
    expectSameShape(call(w.s, 'Action=DescribeInstanceTypes&InstanceType.1=t3.micro'), 'ec2-describe-instance-types-t1micro.xml', [
      'instanceTypeSet/item/networkInfo/networkCards/item/networkPerformance',
    ]);
  });

  it('error envelope', () => {
    for (const f of [
      'ec2-error-docs-example.xml',
      'ec2-error-request-limit-exceeded.xml',
      'ec2-error-insufficient-free-addresses-in-subnet.xml',
      'ec2-error-private-ip-address-limit-exceeded.xml',
    ]) {
      const v = vendor(f);
      const o = shape(errorResponse('RequestLimitExceeded', 'Request limit exceeded.', 'x'));
      expect(o.root).toBe(v.root);
      expect([...o.paths].sort()).toEqual([...v.paths].sort());
    }
  });
});
