// The values AWS's max-pods calculator (amazon-eks-ami max-pods-calculator.sh) prints, and the
// ones its --show-max-allowed prints (the ENI formula alone, as eni-max-pods.txt lists it).
import { describe, expect, it } from '@jest/globals';
import { awsMaxPods, inferVcpus, vcpusFromSize } from '../../../providers/aws/instance-types/max-pods.ts';
import { INSTANCE_TYPE_LIMITS } from '../../../providers/aws/limits.ts';

const pods = (t: string, o: Parameters<typeof awsMaxPods>[1] = {}): number => awsMaxPods(t, o).maxPods;

describe('AWS max pods (the calculator\'s rules)', () => {
  it('secondary IPs: ENIs x (IPv4 per ENI - 1) + 2', () => {
    expect(pods('m5.large')).toBe(29);
    expect(pods('t3.medium')).toBe(17);
    expect(pods('t3.micro')).toBe(4);
    expect(pods('t2.micro')).toBe(4);
    expect(pods('m5.xlarge')).toBe(58);
    expect(pods('c5.9xlarge')).toBe(234);
    expect(pods('c5.18xlarge', { showMaxAllowed: true })).toBe(737);
    expect(pods('m5.4xlarge', { showMaxAllowed: true })).toBe(234);
  });

  it('caps at 110 on 30 vCPUs or fewer and at 250 above, unless the max allowed is asked for', () => {
    expect(pods('c5.18xlarge')).toBe(250);
    expect(pods('m5.4xlarge')).toBe(110); // 16 vCPUs
    expect(pods('c5.9xlarge')).toBe(234); // 36 vCPUs, under 250
  });

  it('prefix delegation: x16 per slot on Nitro types, then the ceiling', () => {
    expect(pods('m5.large', { prefixDelegation: true })).toBe(110);
    expect(pods('t3.medium', { prefixDelegation: true })).toBe(110);
    expect(pods('t3.micro', { prefixDelegation: true })).toBe(34);
    expect(pods('c5.18xlarge', { prefixDelegation: true })).toBe(250);
    expect(pods('m5.large', { prefixDelegation: true, showMaxAllowed: true })).toBe(434);
    // Xen types have no prefixes: the secondary-IP formula stays.
    expect(pods('m4.large', { prefixDelegation: true })).toBe(20);
  });

  it('custom networking leaves the primary ENI out; --max-enis caps the ENIs', () => {
    expect(pods('m5.large', { customNetworking: true })).toBe(20);
    expect(pods('t3.medium', { customNetworking: true })).toBe(12);
    expect(pods('m5.large', { customNetworking: true, prefixDelegation: true, showMaxAllowed: true })).toBe(290);
    expect(pods('c5.18xlarge', { maxEnis: 2 })).toBe(100);
  });

  it('unknown types and unknown vCPUs (where the ceiling depends on them) are errors with a code', () => {
    expect(() => awsMaxPods('nope.large')).toThrow(expect.objectContaining({ code: 'UNKNOWN_INSTANCE_TYPE' }));
    expect(() => awsMaxPods('mac1.metal')).toThrow(expect.objectContaining({ code: 'UNKNOWN_INSTANCE_TYPE' }));
    expect(pods('mac1.metal', { vcpus: 12 })).toBe(110);
  });

  it('infers vCPUs from size names as the known figures have them', () => {
    const known = [...INSTANCE_TYPE_LIMITS.values()].filter((l) => l.vcpus !== undefined);
    expect(known.length).toBeGreaterThan(20);
    for (const l of known) {
      const size = l.instanceType.split('.')[1]!;
      // Sizes up to large count as 2 (some have 1): only the side of the 30-vCPU line matters there.
      if (/xlarge$/.test(size)) expect([l.instanceType, vcpusFromSize(size)]).toEqual([l.instanceType, l.vcpus]);
      else expect(vcpusFromSize(size)! > 30).toBe(l.vcpus! > 30);
    }
    expect(inferVcpus('c5.metal')).toBe(96);
    expect(inferVcpus('a1.metal')).toBe(16);
    expect(inferVcpus('m7i.metal-24xl')).toBe(96);
    expect(inferVcpus('hpc7a.12xlarge')).toBe(24);
  });
});
