// A finite, fragmentable address space for the fake cloud: hands out single addresses and
// aligned blocks lowest-first, and refuses (undefined) when none is free.
import { formatCidr, intToIp, ipToInt, parseCidr } from '../../src/util/ip.ts';

export class FakeSubnet {
  readonly cidr: string;
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();

  /** reservedLow/High: addresses the cloud keeps (AWS: first 4 and the last). */
  constructor(cidr: string, reservedLow = 0, reservedHigh = 0) {
    const c = parseCidr(cidr);
    this.cidr = formatCidr(c.base, c.prefixLength);
    this.base = c.base;
    this.size = c.size;
    for (let i = 0; i < reservedLow; i++) this.used.add(c.base + i);
    for (let i = 0; i < reservedHigh; i++) this.used.add(c.base + c.size - 1 - i);
  }

  get free(): number {
    return this.size - this.used.size;
  }

  takeAddress(): string | undefined {
    for (let n = this.base; n < this.base + this.size; n++) {
      if (this.used.has(n)) continue;
      this.used.add(n);
      return intToIp(n);
    }
    return undefined;
  }

  /** A fully free, aligned block of the given prefix length. */
  takeBlock(prefixLength: number): string | undefined {
    const step = 2 ** (32 - prefixLength);
    for (let start = this.base; start + step <= this.base + this.size; start += step) {
      if (!this.rangeFree(start, step)) continue;
      for (let n = start; n < start + step; n++) this.used.add(n);
      return formatCidr(start, prefixLength);
    }
    return undefined;
  }

  giveBack(cidr: string): void {
    const c = parseCidr(cidr);
    for (let n = c.base; n < c.base + c.size; n++) this.used.delete(n);
  }

  /** Marks addresses as used by someone else (another node, a fragmenting tenant). */
  occupy(ip: string): void {
    this.used.add(ipToInt(ip));
  }

  contains(cidr: string): boolean {
    const c = parseCidr(cidr);
    return c.base >= this.base && c.base + c.size <= this.base + this.size;
  }

  private rangeFree(start: number, count: number): boolean {
    for (let n = start; n < start + count; n++) if (this.used.has(n)) return false;
    return true;
  }
}
