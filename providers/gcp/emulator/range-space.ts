// Address space of one subnet range (primary or secondary) handed out as aligned blocks: the
// alias IP ranges of the instances and the primary addresses of their NICs. Lowest fitting
// aligned block first, so a range fills and fragments the way GCE's does when nodes come and go.
import { formatCidr, intToIp, parseCidr, type Cidr } from '../../../src/util/ip.ts';

interface Used {
  base: number;
  size: number;
  owner: string;
}

export class RangeSpace {
  readonly cidr: string;
  private readonly net: Cidr;
  private used: Used[] = [];

  constructor(cidr: string, reserved: { low?: number; high?: number } = {}) {
    this.cidr = cidr;
    this.net = parseCidr(cidr);
    const low = reserved.low ?? 0;
    const high = reserved.high ?? 0;
    for (let i = 0; i < low; i++) this.used.push({ base: this.net.base + i, size: 1, owner: 'reserved' });
    for (let i = 0; i < high; i++) this.used.push({ base: this.net.base + this.net.size - 1 - i, size: 1, owner: 'reserved' });
    this.sort();
  }

  /** Takes the lowest free aligned block of this prefix length; undefined when none fits. */
  allocate(prefixLength: number, owner: string): string | undefined {
    if (prefixLength < this.net.prefixLength || prefixLength > 32) return undefined;
    const size = 2 ** (32 - prefixLength);
    const end = this.net.base + this.net.size;
    let candidate = this.net.base;
    for (const u of this.used) {
      if (u.base + u.size <= candidate) continue;
      if (u.base >= candidate + size) break;
      candidate = Math.ceil((u.base + u.size) / size) * size;
    }
    if (candidate + size > end) return undefined;
    this.used.push({ base: candidate, size, owner });
    this.sort();
    return formatCidr(candidate, prefixLength);
  }

  /** Reserves exactly this block; false when it is outside the range or overlaps a used one. */
  reserve(cidr: string, owner: string): boolean {
    const c = parseCidr(cidr);
    if (c.base < this.net.base || c.base + c.size > this.net.base + this.net.size) return false;
    if (this.used.some((u) => u.base < c.base + c.size && c.base < u.base + u.size)) return false;
    this.used.push({ base: c.base, size: c.size, owner });
    this.sort();
    return true;
  }

  /** Who holds a block that overlaps this one, if anyone. */
  holderOf(cidr: string): string | undefined {
    const c = parseCidr(cidr);
    return this.used.find((u) => u.base < c.base + c.size && c.base < u.base + u.size)?.owner;
  }

  contains(cidr: string): boolean {
    const c = parseCidr(cidr);
    return c.base >= this.net.base && c.base + c.size <= this.net.base + this.net.size;
  }

  release(cidr: string): void {
    const c = parseCidr(cidr);
    this.used = this.used.filter((u) => !(u.base === c.base && u.size === c.size && u.owner !== 'reserved'));
  }

  /** Free addresses and the largest aligned block still available (fragmentation shows here). */
  usage(): { freeAddresses: number; largestFreePrefix: number | undefined } {
    const taken = this.used.reduce((n, u) => n + u.size, 0);
    let largest: number | undefined;
    for (let len = this.net.prefixLength; len <= 32; len++) {
      if (this.fits(len)) {
        largest = len;
        break;
      }
    }
    return { freeAddresses: this.net.size - taken, largestFreePrefix: largest };
  }

  /** The n-th usable address (the primary range's NIC addresses). */
  firstFreeAddress(owner: string): string | undefined {
    const cidr = this.allocate(32, owner);
    return cidr ? intToIp(parseCidr(cidr).base) : undefined;
  }

  private fits(prefixLength: number): boolean {
    const size = 2 ** (32 - prefixLength);
    let candidate = this.net.base;
    for (const u of this.used) {
      if (u.base + u.size <= candidate) continue;
      if (u.base >= candidate + size) break;
      candidate = Math.ceil((u.base + u.size) / size) * size;
    }
    return candidate + size <= this.net.base + this.net.size;
  }

  private sort(): void {
    this.used.sort((a, b) => a.base - b.base);
  }
}
