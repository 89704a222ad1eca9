// The instance-type table must agree with AWS's own figures where the vendor excerpt has them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { INSTANCE_TYPE_LIMITS, instanceTypeLimits, maxPodsSecondaryIp } from '../../../providers/aws/limits.ts';

const file = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'cloud-payloads', 'aws', 'ec2-instance-type-eni-limits-vpc-cni.json');

interface VendorRow {
  'MaximumNetworkInterfaces(ENILimit)': number;
  'Ipv4AddressesPerInterface(IPv4Limit)': number;
  Hypervisor: string;
}

describe('instance type limits', () => {
  it('match the AWS VPC CNI table for every type both know', () => {
    const vendor = (JSON.parse(readFileSync(file, 'utf8')) as { limits: Record<string, VendorRow> }).limits;
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
