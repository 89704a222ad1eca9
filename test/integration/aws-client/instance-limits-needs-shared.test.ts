// Instance type limits read from vendor-written payloads (../shared/cloud-payloads/aws).
import { describe, expect, it } from '@jest/globals';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { limitsFromInstanceType } from '../../../providers/aws/client/instance-limits.ts';
import { maxPodsFor } from '../../../providers/aws/limits.ts';
import { readSharedPayload } from '../../support/shared-payloads.ts';

describe('instance type limits from the vendor payloads (needs ../shared)', () => {
  it('reads the vendor DescribeInstanceTypes example: t2.micro (xen) has 2 NICs x 2 addresses, no prefixes', () => {
    const doc = JSON.parse(readSharedPayload('aws', 'ec2-cli-describe-instance-types.json')) as { InstanceTypes: InstanceTypeInfo[] };
    const info = doc.InstanceTypes[0];
    if (!info) throw new Error('payload has no instance type');
    const limits = limitsFromInstanceType(info, true);
    expect(limits).toMatchObject({ maxNics: 2, addressesPerNic: 2, blockKinds: ['ip'], maxPods: 4 });
    expect(maxPodsFor(limits)).toBe(4);
  });

  it('matches the AWS VPC CNI max-pods figures for its limit table', () => {
    const doc = JSON.parse(readSharedPayload('aws', 'ec2-instance-type-eni-limits-vpc-cni.json')) as {
      limits: Record<string, Record<string, unknown>>;
    };
    // eni-max-pods.txt published by AWS: t3.medium 17, t3.large 35
    const expected: Record<string, number> = { 't3.medium': 17, 't3.large': 35 };
    for (const [type, pods] of Object.entries(expected)) {
      const l = doc.limits[type];
      if (!l) throw new Error(`payload lacks ${type}`);
      const info: InstanceTypeInfo = {
        InstanceType: type as never,
        Hypervisor: l.Hypervisor as never,
        BareMetal: l.BareMetal as boolean,
        NetworkInfo: {
          MaximumNetworkInterfaces: l['MaximumNetworkInterfaces(ENILimit)'] as number,
          Ipv4AddressesPerInterface: l['Ipv4AddressesPerInterface(IPv4Limit)'] as number,
          NetworkCards: l.NetworkCards as never,
        },
      };
      expect(maxPodsFor(limitsFromInstanceType(info, false))).toBe(pods);
    }
  });
});
