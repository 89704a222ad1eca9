// Instance type -> NodeLimits: the built-in table first, else DescribeInstanceTypes, cached per type for the process.
import type { Ec2Ops, InstanceTypeInfo } from './ec2-types.ts';
import { VpcnetError } from '../../../src/errors.ts';
import type { NodeLimits } from '../../provider.ts';
import { instanceTypeLimits, maxPodsFor } from '../limits.ts';

/** Prefix delegation (/28 per slot) exists only on the Nitro system, bare metal included. */
export function isNitro(info: InstanceTypeInfo): boolean {
  return info.Hypervisor === 'nitro' || info.BareMetal === true;
}

export function limitsFromInstanceType(info: InstanceTypeInfo, prefixDelegation: boolean): NodeLimits {
  const net = info.NetworkInfo;
  const type = info.InstanceType ?? 'unknown';
  // Pods use NICs on network card 0 only (as AWS's VPC CNI does); its maximum can be below the total.
  const card0 = net?.NetworkCards?.find((c) => c.NetworkCardIndex === 0)?.MaximumNetworkInterfaces;
  const maxNics = card0 ?? net?.MaximumNetworkInterfaces;
  const perNic = net?.Ipv4AddressesPerInterface;
  if (!maxNics || !perNic) {
    throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', `EC2 reports no network limits for instance type ${type}`, {
      details: { instanceType: type },
    });
  }
  const prefix = prefixDelegation && isNitro(info);
  return {
    maxNics,
    addressesPerNic: perNic,
    blockKinds: prefix ? ['prefix', 'ip'] : ['ip'],
    prefixLength: 28,
    maxPods: maxPodsFor({ maxNics, addressesPerNic: perNic }),
  };
}

export class InstanceLimitsCache {
  private readonly cache = new Map<string, Promise<InstanceTypeInfo>>();
  private readonly describe: (instanceType: string) => Promise<Ec2Ops['DescribeInstanceTypes'][1]>;

  constructor(describe: (instanceType: string) => Promise<Ec2Ops['DescribeInstanceTypes'][1]>) {
    this.describe = describe;
  }

  async limitsFor(instanceType: string, prefixDelegation: boolean): Promise<NodeLimits> {
    return limitsFromInstanceType(await this.info(instanceType), prefixDelegation);
  }

  info(instanceType: string): Promise<InstanceTypeInfo> {
    let pending = this.cache.get(instanceType);
    if (!pending) {
      pending = this.fetch(instanceType);
      this.cache.set(instanceType, pending);
      // A failure is not cached: the next discover asks again.
      pending.catch(() => this.cache.delete(instanceType));
    }
    return pending;
  }

  private async fetch(instanceType: string): Promise<InstanceTypeInfo> {
    // The built-in table first (as AWS's VPC CNI does): no EC2 call for the types it knows.
    const builtIn = instanceTypeLimits(instanceType);
    if (builtIn) return fromTable(instanceType, builtIn);
    let out;
    try {
      out = await this.describe(instanceType);
    } catch (err) {
      if (err instanceof VpcnetError && (err.code === 'UNKNOWN_INSTANCE_TYPE' || err.details.awsCode === 'InvalidParameterValue')) {
        throw unknownType(instanceType, err);
      }
      // Without ec2:DescribeInstanceTypes, fall back to the built-in table (as AWS's VPC CNI does).
      const known = err instanceof VpcnetError && err.code === 'CLOUD_PERMISSION_DENIED' ? instanceTypeLimits(instanceType) : undefined;
      if (known) return fromTable(instanceType, known);
      throw err;
    }
    const info = out.InstanceTypes?.find((t) => t.InstanceType === instanceType);
    if (!info) throw unknownType(instanceType);
    return info;
  }
}

function fromTable(instanceType: string, known: NonNullable<ReturnType<typeof instanceTypeLimits>>): InstanceTypeInfo {
  return {
    InstanceType: instanceType,
    Hypervisor: known.hypervisor,
    BareMetal: known.bareMetal,
    NetworkInfo: { MaximumNetworkInterfaces: known.maxNics, Ipv4AddressesPerInterface: known.ipv4PerNic },
  };
}

function unknownType(instanceType: string, cause?: unknown): VpcnetError {
  return new VpcnetError(
    'UNKNOWN_INSTANCE_TYPE',
    `instance type ${instanceType} is unknown to EC2 DescribeInstanceTypes in this region; vpcnet cannot size the pool`,
    { cause, details: { instanceType } },
  );
}
