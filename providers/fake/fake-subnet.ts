// The fake cloud's address space in strings: the kit's AddressSpace (lowest-first) behind the
// text API the fake provider speaks. Refuses (undefined) when nothing fits.
import { AddressSpace } from '../kit/allocator.ts';
import { formatCidr, intToIp, ipToInt, parseCidr } from '../../src/util/ip.ts';

export class FakeSubnet {
  readonly cidr: string;
  private readonly space: AddressSpace;

  /** reservedLow/High: addresses the cloud keeps (AWS: first 4 and the last). */
  constructor(cidr: string, reservedLow = 0, reservedHigh = 0) {
    this.space = new AddressSpace(cidr, { reservedHead: reservedLow, reservedTail: reservedHigh });
    this.cidr = this.space.network;
  }

  get free(): number {
    return this.space.freeCount;
  }

  takeAddress(): string | undefined {
    const got = this.space.allocate(1);
    return got ? intToIp(got[0] as number) : undefined;
  }

  /** A fully free, aligned block of the given prefix length. */
  takeBlock(prefixLength: number): string | undefined {
    const got = this.space.allocateBlocks(prefixLength, 1);
    return got ? formatCidr(got[0] as number, prefixLength) : undefined;
  }

  giveBack(cidr: string): void {
    const c = parseCidr(cidr);
    this.space.releaseBlock(c.base, c.prefixLength);
  }

  /** Marks addresses as used by someone else (another node, a fragmenting tenant). */
  occupy(ip: string): void {
    this.space.take(ipToInt(ip));
  }

  /** Occupies a fraction of the free addresses at random (other tenants over time). */
  fragment(fraction: number, random: () => number): void {
    this.space.fragment(fraction, random);
  }

  contains(cidr: string): boolean {
    const c = parseCidr(cidr);
    return this.space.containsBlock(c.base, c.prefixLength);
  }
}
