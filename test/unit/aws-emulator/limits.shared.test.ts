// The instance-type table must agree with AWS's own figures where the vendor excerpt has them.
import { describe, expect, it } from '@jest/globals';
import { readSharedPayload } from '../../support/shared-payloads.ts';
import { INSTANCE_TYPE_LIMITS, instanceTypeLimits, maxPodsSecondaryIp } from '../../../providers/aws/limits.ts';


interface VendorRow {
  'MaximumNetworkInterfaces(ENILimit)': number;
  'Ipv4AddressesPerInterface(IPv4Limit)': number;
  Hypervisor: string;
}

describe('instance type limits against the vendor table (../shared)', () => {
  it('match the AWS VPC CNI table for every type both know', () => {
    const vendor = (JSON.parse(readSharedPayload('aws', 'ec2-instance-type-eni-limits-vpc-cni.json')) as { limits: Record<string, VendorRow> }).limits;
    const shared = Object.keys(vendor).filter((t) => INSTANCE_TYPE_LIMITS.has(t));
    expect(shared.length).toBeGreaterThanOrEqual(10);
    for (const t of shared) {
      const ours = instanceTypeLimits(t);
      const theirs = vendor[t] as VendorRow;
      expect([t, ours?.maxNics, ours?.ipv4PerNic, ours?.hypervisor]).toEqual([
        t,
        theirs['MaximumNetworkInterfaces(ENILimit)'],
        theirs['Ipv4AddressesPerInterface(IPv4Limit)'],
        theirs.Hypervisor,
      ]);
    }
  });

  it('gives the max pods EKS publishes for common types', () => {
    expect(maxPodsSecondaryIp(instanceTypeLimits('m5.large')!)).toBe(29);
    expect(maxPodsSecondaryIp(instanceTypeLimits('t3.medium')!)).toBe(17);
    expect(maxPodsSecondaryIp(instanceTypeLimits('c5.18xlarge')!)).toBe(737);
    expect(instanceTypeLimits('t2.micro')?.prefixDelegation).toBe(false);
    expect(instanceTypeLimits('nope.large')).toBeUndefined();
  });
});
