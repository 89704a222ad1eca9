// What a node knows of a subnet's used addresses, for fragmentation-aware placement of single
// addresses (providers/kit/placement.ts). EC2's DescribeSubnets gives only a free count, so the
// used addresses are read from the subnet's NICs (DescribeNetworkInterfaces filtered by
// subnet-id: every NIC's addresses and prefixes), read only when single addresses are about to
// be taken and kept for `ttlMs`, with our own assigns added in between (addresses given back count as used until the next
// read, which errs on the safe side). docs/ipam.md weighs the
// cost of that read.
import type { Metrics } from '../../../src/metrics/metrics.ts';
import type { SubnetSpaceReport } from '../../provider.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { intToIp, tryParseCidr, tryParseIpv4 } from '../../../src/util/ip.ts';
import { freeAlignedPrefixes, placeSingles, subnetView } from '../../kit/placement.ts';
import type { NetworkInterface } from './ec2-types.ts';

/** EC2 keeps the first four addresses of every subnet and the last one. */
const EC2_RESERVED = { head: 4, tail: 1 } as const;
export const DEFAULT_SUBNET_USAGE_TTL_MS = 60_000;

interface Entry {
  cidr: { base: number; prefixLength: number; text: string };
  used: Set<number>;
  readAt: number;
}

export interface SubnetUsageDeps {
  /** Every NIC of the subnet (all pages). */
  describeSubnetNics: (subnetId: string) => Promise<NetworkInterface[]>;
  clock: Clock;
  metrics?: Metrics;
  ttlMs?: number;
}

export class SubnetUsage {
  private readonly entries = new Map<string, Entry>();

  private readonly deps: SubnetUsageDeps;

  constructor(deps: SubnetUsageDeps) {
    this.deps = deps;
  }

  /** `count` addresses to name in the assign, or undefined to let EC2 pick (unknown subnet, or too few free). */
  async choose(subnetId: string, cidrText: string, count: number): Promise<string[] | undefined> {
    const e = await this.entry(subnetId, cidrText);
    if (!e) return undefined;
    const chosen = placeSingles(this.view(e), count);
    if (chosen.length < count) return undefined;
    for (const ip of chosen) e.used.add(ip);
    this.publish(subnetId, e);
    return chosen.map(intToIp);
  }

  /** A named address was someone else's: read the subnet again next time. */
  forget(subnetId: string): void {
    this.entries.delete(subnetId);
  }

  report(): SubnetSpaceReport[] {
    return [...this.entries].map(([subnetId, e]) => {
      const view = this.view(e);
      const size = 2 ** (32 - e.cidr.prefixLength);
      let free = 0;
      for (let i = 0; i < size; i++) if (!view.isUsed(e.cidr.base + i)) free++;
      return { subnetId, cidr: e.cidr.text, freePrefixes: freeAlignedPrefixes(view), prefixes: Math.floor(size / 16), freeAddresses: free, readAt: e.readAt };
    });
  }

  private view(e: Entry): ReturnType<typeof subnetView> {
    return subnetView(e.cidr.base, e.cidr.prefixLength, e.used, EC2_RESERVED);
  }

  private async entry(subnetId: string, cidrText: string): Promise<Entry | undefined> {
    const now = this.deps.clock.now();
    const cached = this.entries.get(subnetId);
    if (cached && now - cached.readAt < (this.deps.ttlMs ?? DEFAULT_SUBNET_USAGE_TTL_MS)) return cached;
    const c = tryParseCidr(cidrText);
    // Placement works on IPv4 subnets up to a /16 (one scan per /28 of the subnet).
    if (!subnetId || !c || c.prefixLength < 16) return undefined;
    const used = new Set<number>();
    for (const nic of await this.deps.describeSubnetNics(subnetId)) {
      for (const a of nic.PrivateIpAddresses ?? []) {
        const n = a.PrivateIpAddress ? tryParseIpv4(a.PrivateIpAddress) : undefined;
        if (n !== undefined) used.add(n);
      }
      const primary = nic.PrivateIpAddress ? tryParseIpv4(nic.PrivateIpAddress) : undefined;
      if (primary !== undefined) used.add(primary);
      for (const p of nic.Ipv4Prefixes ?? []) {
        const pc = p.Ipv4Prefix ? tryParseCidr(p.Ipv4Prefix) : undefined;
        if (pc) for (let i = 0; i < 2 ** (32 - pc.prefixLength); i++) used.add(pc.base + i);
      }
    }
    const e: Entry = { cidr: { base: c.base, prefixLength: c.prefixLength, text: cidrText }, used, readAt: now };
    this.entries.set(subnetId, e);
    this.publish(subnetId, e);
    return e;
  }

  private publish(subnetId: string, e: Entry): void {
    this.deps.metrics?.set('vpcnet_subnet_free_prefixes', freeAlignedPrefixes(this.view(e)), { subnet: subnetId });
  }
}
