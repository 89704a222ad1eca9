// Per-instance-type network limits, as EC2 DescribeInstanceTypes reports them (NetworkInfo).
// Figures follow AWS's own VPC CNI table (generated from DescribeInstanceTypes). Shared by the
// EC2 client (fallback when DescribeInstanceTypes is denied) and the emulator (enforcement).

export type Hypervisor = 'nitro' | 'xen';

export interface InstanceTypeLimits {
  instanceType: string;
  /** NICs the instance can have, the primary included (NetworkInfo.MaximumNetworkInterfaces). */
  maxNics: number;
  /** IPv4 addresses per NIC, the NIC's primary included; a /28 prefix takes one slot. */
  ipv4PerNic: number;
  ipv6PerNic: number;
  hypervisor: Hypervisor;
  /** /28 prefix delegation needs a Nitro instance. */
  prefixDelegation: boolean;
  networkPerformance: string;
  vcpus: number;
  memoryMiB: number;
}

type Row = [type: string, maxNics: number, ipv4PerNic: number, vcpus: number, memoryMiB: number, perf: string];

const NITRO: Row[] = [
  ['t3.micro', 2, 2, 2, 1024, 'Up to 5 Gigabit'],
  ['t3.small', 3, 4, 2, 2048, 'Up to 5 Gigabit'],
  ['t3.medium', 3, 6, 2, 4096, 'Up to 5 Gigabit'],
  ['t3.large', 3, 12, 2, 8192, 'Up to 5 Gigabit'],
  ['t3.xlarge', 4, 15, 4, 16384, 'Up to 5 Gigabit'],
  ['t3.2xlarge', 4, 15, 8, 32768, 'Up to 5 Gigabit'],
  ['m5.large', 3, 10, 2, 8192, 'Up to 10 Gigabit'],
  ['m5.xlarge', 4, 15, 4, 16384, 'Up to 10 Gigabit'],
  ['m5.2xlarge', 4, 15, 8, 32768, 'Up to 10 Gigabit'],
  ['m5.4xlarge', 8, 30, 16, 65536, 'Up to 10 Gigabit'],
  ['m5.8xlarge', 8, 30, 32, 131072, '10 Gigabit'],
  ['m5.12xlarge', 8, 30, 48, 196608, '12 Gigabit'],
  ['m5.16xlarge', 15, 50, 64, 262144, '20 Gigabit'],
  ['m5.24xlarge', 15, 50, 96, 393216, '25 Gigabit'],
  ['c5.large', 3, 10, 2, 4096, 'Up to 10 Gigabit'],
  ['c5.xlarge', 4, 15, 4, 8192, 'Up to 10 Gigabit'],
  ['c5.2xlarge', 4, 15, 8, 16384, 'Up to 10 Gigabit'],
  ['c5.4xlarge', 8, 30, 16, 32768, 'Up to 10 Gigabit'],
  ['c5.9xlarge', 8, 30, 36, 73728, '12 Gigabit'],
  ['c5.12xlarge', 8, 30, 48, 98304, '12 Gigabit'],
  ['c5.18xlarge', 15, 50, 72, 147456, '25 Gigabit'],
  ['c5.24xlarge', 15, 50, 96, 196608, '25 Gigabit'],
  ['c5n.18xlarge', 15, 50, 72, 196608, '100 Gigabit'],
  ['r5.large', 3, 10, 2, 16384, 'Up to 10 Gigabit'],
  ['r5.xlarge', 4, 15, 4, 32768, 'Up to 10 Gigabit'],
  ['m6i.large', 3, 10, 2, 8192, 'Up to 12.5 Gigabit'],
];

const XEN: Row[] = [['t2.micro', 2, 2, 1, 1024, 'Low to Moderate']];

function toLimits(row: Row, hypervisor: Hypervisor): InstanceTypeLimits {
  const [instanceType, maxNics, ipv4PerNic, vcpus, memoryMiB, networkPerformance] = row;
  return {
    instanceType,
    maxNics,
    ipv4PerNic,
    ipv6PerNic: ipv4PerNic,
    hypervisor,
    prefixDelegation: hypervisor === 'nitro',
    networkPerformance,
    vcpus,
    memoryMiB,
  };
}

export const INSTANCE_TYPE_LIMITS: ReadonlyMap<string, InstanceTypeLimits> = new Map(
  [...NITRO.map((r) => toLimits(r, 'nitro')), ...XEN.map((r) => toLimits(r, 'xen'))].map((l) => [l.instanceType, l]),
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
