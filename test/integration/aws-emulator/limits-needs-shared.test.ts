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

describe('the generated instance-type table', () => {
  it('covers current families: Graviton, 7th and 8th generation, bare metal', () => {
    expect(INSTANCE_TYPE_LIMITS.size).toBeGreaterThan(1000);
    const m7g = instanceTypeLimits('m7g.large');
    expect([m7g?.maxNics, m7g?.ipv4PerNic, m7g?.architecture, m7g?.prefixDelegation]).toEqual([3, 10, 'arm64', true]);
    for (const t of ['c7g.large', 'r7g.xlarge', 'm7i.large', 'c7i.2xlarge', 'm7a.large', 'r7iz.large', 'c8g.large', 'm8g.xlarge', 't4g.micro']) {
      expect([t, instanceTypeLimits(t) !== undefined]).toEqual([t, true]);
    }
    expect(instanceTypeLimits('m7i.large')?.architecture).toBe('x86_64');
    const metal = instanceTypeLimits('c7i.metal-24xl');
    // Bare metal reports no hypervisor but is the Nitro system: prefixes work.
    expect([metal?.hypervisor, metal?.bareMetal, metal?.prefixDelegation]).toEqual([undefined, true, true]);
    expect(instanceTypeLimits('t2.micro')?.hypervisor).toBe('xen');
    expect(instanceTypeLimits('t4g.micro')?.burstable).toBe(true);
  });

  it('multi-card types keep card 0 as the pod NIC limit and list every card', () => {
    const p5 = instanceTypeLimits('p5.48xlarge')!;
    expect(p5.networkCards.length).toBeGreaterThan(1);
    expect(p5.maxNics).toBe(p5.networkCards[0]);
  });
});
