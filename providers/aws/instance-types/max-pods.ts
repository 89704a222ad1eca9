// Max pods of an EC2 instance type by the rules of AWS's max-pods calculator (amazon-eks-ami,
// templates/al2/runtime/max-pods-calculator.sh; docs/providers/aws.md describes them):
//   ENIs for pods = NICs on the default network card, capped by --max-enis, minus one with
//                   custom networking (the primary ENI carries no pods then);
//   secondary IPs : ENIs x (IPv4 per ENI - 1) + 2;
//   prefixes      : ENIs x (IPv4 per ENI - 1) x 16 + 2, only where EC2 reports the Nitro hypervisor;
//   recommended   : at most 110 on 30 vCPUs or fewer, else at most 250 (unless showMaxAllowed).
import { VpcnetError } from '../../../src/errors.ts';
import { instanceTypeLimits, type InstanceTypeLimits } from '../limits.ts';
import { INSTANCE_TYPE_TABLE } from './table.ts';

export const ADDRESSES_PER_PREFIX = 16;
export const CEILING_LOW_CPU = 110;
export const CEILING_HIGH_CPU = 250;
/** Above this many vCPUs the high ceiling applies. */
export const CEILING_VCPU_THRESHOLD = 30;

export interface AwsMaxPodsOptions {
  prefixDelegation?: boolean;
  customNetworking?: boolean;
  /** Use at most this many ENIs for pods. */
  maxEnis?: number;
  /** The raw formula, without the vCPU ceiling (the calculator's --show-max-allowed). */
  showMaxAllowed?: boolean;
  /** vCPUs of the type, when the table cannot tell. */
  vcpus?: number;
}

export interface AwsMaxPods {
  maxPods: number;
  /** The formula's value before the ceiling. */
  maxAllowed: number;
  enis: number;
  mode: 'secondary-ip' | 'prefix';
  /** Undefined when showMaxAllowed or when the ceiling did not matter. */
  ceiling: number | undefined;
  vcpus: number | undefined;
}

// vCPUs where the size name misleads: hpc7a sizes count physical cores (SMT off), hs1 is old.
const VCPU_EXCEPTIONS: Record<string, number> = {
  'hpc7a.12xlarge': 24,
  'hpc7a.24xlarge': 48,
  'hpc7a.48xlarge': 96,
  'hpc7a.96xlarge': 192,
  'hs1.8xlarge': 16,
  'u-9tb1.metal': 448,
  'u-12tb1.metal': 448,
  'u-18tb1.metal': 448,
  'u-24tb1.metal': 448,
};

/** vCPUs from the size name: Nxlarge and metal-Nxl have 4N, xlarge 4, large and smaller at most 2. */
export function vcpusFromSize(size: string): number | undefined {
  const m = /^(?:metal-)?(\d*)(xlarge|xl)$/.exec(size);
  if (m) return 4 * (m[1] ? Number(m[1]) : 1);
  if (/^(large|medium|small|micro|nano)$/.test(size)) return 2;
  return undefined;
}

/**
 * vCPUs of an instance type: the known figure, else inferred from its size name; a plain
 * `.metal` type has as many as its family's largest virtualised size. Undefined when unknown.
 */
export function inferVcpus(instanceType: string): number | undefined {
  const known = instanceTypeLimits(instanceType)?.vcpus ?? VCPU_EXCEPTIONS[instanceType];
  if (known !== undefined) return known;
  const [family, size = ''] = instanceType.split('.');
  if (size !== 'metal') return vcpusFromSize(size);
  const siblings = INSTANCE_TYPE_TABLE.filter(([t]) => t.startsWith(`${family}.`) && t !== instanceType)
    .map(([t]) => inferVcpus(t))
    .filter((v): v is number => v !== undefined);
  return siblings.length ? Math.max(...siblings) : undefined;
}

/** The calculator's answer for one instance type; throws UNKNOWN_INSTANCE_TYPE or USAGE. */
export function awsMaxPods(instanceType: string, opts: AwsMaxPodsOptions = {}): AwsMaxPods {
  const l = instanceTypeLimits(instanceType);
  if (!l) throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', `unknown instance type "${instanceType}"`, { details: { instanceType } });
  return awsMaxPodsOf(l, opts);
}

export function awsMaxPodsOf(l: InstanceTypeLimits, opts: AwsMaxPodsOptions = {}): AwsMaxPods {
  let enis = opts.maxEnis === undefined ? l.maxNics : Math.min(opts.maxEnis, l.maxNics);
  if (opts.customNetworking) enis -= 1;
  enis = Math.max(0, enis);
  // The calculator tests the hypervisor field alone, so bare metal (none reported) stays per address.
  const prefix = opts.prefixDelegation === true && l.hypervisor === 'nitro';
  const perEni = (l.ipv4PerNic - 1) * (prefix ? ADDRESSES_PER_PREFIX : 1);
  const maxAllowed = enis * perEni + 2;
  const mode = prefix ? 'prefix' : 'secondary-ip';
  if (opts.showMaxAllowed || maxAllowed <= CEILING_LOW_CPU) {
    return { maxPods: maxAllowed, maxAllowed, enis, mode, ceiling: undefined, vcpus: opts.vcpus ?? inferVcpus(l.instanceType) };
  }
  const vcpus = opts.vcpus ?? inferVcpus(l.instanceType);
  if (vcpus === undefined) {
    throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', `vCPUs of ${l.instanceType} unknown: pass --vcpus N`, { details: { instanceType: l.instanceType } });
  }
  const ceiling = vcpus > CEILING_VCPU_THRESHOLD ? CEILING_HIGH_CPU : CEILING_LOW_CPU;
  return { maxPods: Math.min(ceiling, maxAllowed), maxAllowed, enis, mode, ceiling, vcpus };
}
