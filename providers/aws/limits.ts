// Per-instance-type network limits, as EC2 DescribeInstanceTypes reports them (NetworkInfo).
// The figures of every instance type come from instance-types/table.ts, generated from AWS's
// VPC CNI data (see its header for the source and commit). Shared by the EC2 client (fallback
// when DescribeInstanceTypes is denied) and the emulator (enforcement, DescribeInstanceTypes).
import { INSTANCE_TYPE_TABLE, type TableRow } from './instance-types/table.ts';

export type Hypervisor = 'nitro' | 'xen';
export type Architecture = 'x86_64' | 'arm64' | 'x86_64_mac' | 'arm64_mac';

export interface InstanceTypeLimits {
  instanceType: string;
  /** NICs on network card 0, the primary included (what pods can use; AWS VPC CNI's ENILimit). */
  maxNics: number;
  /** IPv4 addresses per NIC, the NIC's primary included; a /28 prefix takes one slot. */
  ipv4PerNic: number;
  ipv6PerNic: number;
  /** Undefined where EC2 reports none (bare metal). */
  hypervisor: Hypervisor | undefined;
  bareMetal: boolean;
  /** /28 prefix delegation needs the Nitro system (bare metal included). */
  prefixDelegation: boolean;
  /** Maximum NICs per network card, by card index (most types have one card). */
  networkCards: readonly number[];
  architecture: Architecture;
  burstable: boolean;
  currentGeneration: boolean;
  /** Known only for the types listed in DETAILS below. */
  networkPerformance: string | undefined;
  vcpus: number | undefined;
  memoryMiB: number | undefined;
}

// vCPUs, memory and network performance of common types (EC2 instance type pages); the
// emulator's DescribeInstanceTypes leaves them out for the other types.
const DETAILS: Record<string, [vcpus: number, memoryMiB: number, perf: string]> = {
  't2.micro': [1, 1024, 'Low to Moderate'],
  't3.micro': [2, 1024, 'Up to 5 Gigabit'],
  't3.small': [2, 2048, 'Up to 5 Gigabit'],
  't3.medium': [2, 4096, 'Up to 5 Gigabit'],
  't3.large': [2, 8192, 'Up to 5 Gigabit'],
  't3.xlarge': [4, 16384, 'Up to 5 Gigabit'],
  't3.2xlarge': [8, 32768, 'Up to 5 Gigabit'],
  'm5.large': [2, 8192, 'Up to 10 Gigabit'],
  'm5.xlarge': [4, 16384, 'Up to 10 Gigabit'],
  'm5.2xlarge': [8, 32768, 'Up to 10 Gigabit'],
  'm5.4xlarge': [16, 65536, 'Up to 10 Gigabit'],
  'm5.8xlarge': [32, 131072, '10 Gigabit'],
  'm5.12xlarge': [48, 196608, '12 Gigabit'],
  'm5.16xlarge': [64, 262144, '20 Gigabit'],
  'm5.24xlarge': [96, 393216, '25 Gigabit'],
  'c5.large': [2, 4096, 'Up to 10 Gigabit'],
  'c5.xlarge': [4, 8192, 'Up to 10 Gigabit'],
  'c5.2xlarge': [8, 16384, 'Up to 10 Gigabit'],
  'c5.4xlarge': [16, 32768, 'Up to 10 Gigabit'],
  'c5.9xlarge': [36, 73728, '12 Gigabit'],
  'c5.12xlarge': [48, 98304, '12 Gigabit'],
  'c5.18xlarge': [72, 147456, '25 Gigabit'],
  'c5.24xlarge': [96, 196608, '25 Gigabit'],
  'c5n.18xlarge': [72, 196608, '100 Gigabit'],
  'r5.large': [2, 16384, 'Up to 10 Gigabit'],
  'r5.xlarge': [4, 32768, 'Up to 10 Gigabit'],
  'm6i.large': [2, 8192, 'Up to 12.5 Gigabit'],
  'm7g.large': [2, 8192, 'Up to 12.5 Gigabit'],
  'c7g.large': [2, 4096, 'Up to 12.5 Gigabit'],
  'm7i.large': [2, 8192, 'Up to 12.5 Gigabit'],
  'c7i.large': [2, 4096, 'Up to 12.5 Gigabit'],
};

/** Families EC2 lists as previous generation. */
const PREVIOUS_GENERATION = new Set(['t1', 'm1', 'm2', 'm3', 'c1', 'c3', 'cc2', 'cr1', 'g2', 'hs1', 'i2', 'r3']);

function architectureOf(family: string): Architecture {
  if (family === 'mac1') return 'x86_64_mac';
  if (family.startsWith('mac')) return 'arm64_mac';
  // Graviton: a1, and a "g" right after the generation digit (m7g, c6gn, r8gd, im4gn, is4gen, x2gd).
  return family === 'a1' || /^[a-z]+\d+g/.test(family) ? 'arm64' : 'x86_64';
}

function toLimits(row: TableRow): InstanceTypeLimits {
  const [instanceType, maxNics, ipv4PerNic, hv, metal, cards] = row;
  const family = instanceType.split('.')[0]!;
  const hypervisor = hv === 'n' ? 'nitro' : hv === 'x' ? 'xen' : undefined;
  const details = DETAILS[instanceType];
  return {
    instanceType,
    maxNics,
    ipv4PerNic,
    ipv6PerNic: ipv4PerNic,
    hypervisor,
    bareMetal: metal === 1,
    prefixDelegation: hypervisor === 'nitro' || metal === 1,
    networkCards: cards,
    architecture: architectureOf(family),
    burstable: /^t\d/.test(family),
    currentGeneration: !PREVIOUS_GENERATION.has(family),
    networkPerformance: details?.[2],
    vcpus: details?.[0],
    memoryMiB: details?.[1],
  };
}

export const INSTANCE_TYPE_LIMITS: ReadonlyMap<string, InstanceTypeLimits> = new Map(
  INSTANCE_TYPE_TABLE.map((r) => [r[0], toLimits(r)] as const),
);

export function instanceTypeLimits(instanceType: string): InstanceTypeLimits | undefined {
  return INSTANCE_TYPE_LIMITS.get(instanceType);
}

/** Pods a node can run as the AWS VPC CNI computes it in secondary-IP mode. */
export function maxPodsSecondaryIp(l: InstanceTypeLimits): number {
  return maxPodsFor({ maxNics: l.maxNics, addressesPerNic: l.ipv4PerNic });
}

/** Max pods as the AWS VPC CNI computes it: NICs x (IPv4 per NIC - 1) + 2 host-network pods. */
export function maxPodsFor(limits: { maxNics: number; addressesPerNic: number }): number {
  return limits.maxNics * (limits.addressesPerNic - 1) + 2;
}

/** ENIs use jumbo frames inside the VPC (EC2 User Guide, "Network maximum transmission unit (MTU) for your EC2 instance"). */
export const AWS_NIC_MTU = 9001;
