import { describe, expect, it } from '@jest/globals';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { limitsFromInstanceType } from '../../../providers/aws/client/instance-limits.ts';
import { chooseSubnet, type SubnetCandidate } from '../../../providers/aws/client/subnet-select.ts';
import { VpcnetError } from '../../../src/errors.ts';

const subnet = (id: string, availableIps: number, over: Partial<SubnetCandidate> = {}): SubnetCandidate => ({
  id,
  cidr: '10.0.0.0/24',
  zone: 'us-west-2b',
  vpcId: 'vpc-1',
  availableIps,
  tags: {},
  ...over,
});
const rules = { zone: 'us-west-2b', vpcId: 'vpc-1' };

describe('subnet selection', () => {
  it('takes the subnet with the most free addresses in the node zone and VPC', () => {
    const chosen = chooseSubnet(
      [subnet('subnet-a', 10), subnet('subnet-b', 300), subnet('subnet-c', 900, { zone: 'us-west-2a' }), subnet('subnet-d', 999, { vpcId: 'vpc-2' })],
      rules,
    );
    expect(chosen.id).toBe('subnet-b');
  });

  it('prefers subnets carrying the configured tags, even with fewer free addresses', () => {
    const tags = { 'kubernetes.io/role/cni': '1' };
    const chosen = chooseSubnet([subnet('subnet-a', 1000), subnet('subnet-b', 50, { tags }), subnet('subnet-c', 40, { tags })], { ...rules, tags });
    expect(chosen.id).toBe('subnet-b');
  });

  it('never picks a subnet opted out with kubernetes.io/role/cni=0', () => {
    const chosen = chooseSubnet([subnet('subnet-a', 1000, { tags: { 'kubernetes.io/role/cni': '0' } }), subnet('subnet-b', 5)], rules);
    expect(chosen.id).toBe('subnet-b');
  });

  it('uses only configured subnet ids, and says so when none is in the zone', () => {
    expect(chooseSubnet([subnet('subnet-a', 1000), subnet('subnet-b', 5)], { ...rules, subnetIds: ['subnet-b'] }).id).toBe('subnet-b');
    let err: unknown;
    try {
      chooseSubnet([subnet('subnet-a', 1000), subnet('subnet-x', 5, { zone: 'us-west-2a' })], { ...rules, subnetIds: ['subnet-x'] });
    } catch (e) {
      err = e;
    }
    expect((err as VpcnetError).code).toBe('CONFIG_INVALID');
    expect((err as VpcnetError).message).toContain('subnet-x');
  });

  it('breaks ties deterministically', () => {
    expect(chooseSubnet([subnet('subnet-b', 10), subnet('subnet-a', 10)], rules).id).toBe('subnet-a');
  });
});

describe('instance type limits', () => {
  it('offers prefix blocks only on Nitro (or bare metal) and only when enabled', () => {
    const net = { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 6 };
    expect(limitsFromInstanceType({ InstanceType: 't3.medium', Hypervisor: 'nitro', NetworkInfo: net }, true).blockKinds).toEqual(['prefix', 'ip']);
    expect(limitsFromInstanceType({ InstanceType: 't3.medium', Hypervisor: 'nitro', NetworkInfo: net }, false).blockKinds).toEqual(['ip']);
    expect(limitsFromInstanceType({ InstanceType: 'm4.large', Hypervisor: 'xen', NetworkInfo: net }, true).blockKinds).toEqual(['ip']);
    expect(limitsFromInstanceType({ InstanceType: 'c5.metal', BareMetal: true, NetworkInfo: net }, true).blockKinds).toEqual(['prefix', 'ip']);
  });

  it('counts NICs of network card 0 only on multi-card types', () => {
    const info: InstanceTypeInfo = {
      InstanceType: 'p4d.24xlarge',
      Hypervisor: 'nitro',
      NetworkInfo: {
        MaximumNetworkInterfaces: 60,
        Ipv4AddressesPerInterface: 50,
        NetworkCards: [
          { NetworkCardIndex: 0, MaximumNetworkInterfaces: 15 },
          { NetworkCardIndex: 1, MaximumNetworkInterfaces: 15 },
        ],
      },
    };
    expect(limitsFromInstanceType(info, false).maxNics).toBe(15);
  });

  it('rejects a type without network limits with UNKNOWN_INSTANCE_TYPE', () => {
    expect(() => limitsFromInstanceType({ InstanceType: 'x9.weird' as never }, false)).toThrow(VpcnetError);
  });
});
