// One address allocator for every fake cloud and emulator: a finite IPv4 space (a subnet, a
// GCE secondary range) that hands out single addresses and aligned blocks of any length (AWS
// /28 prefixes, GCE alias ranges such as a /24 per node), takes all or nothing, and
// fragments the way real subnets do: addresses scattered by other tenants or a random pick
// leave free space but no free aligned block.
// One byte per address: a /16 costs 64 KiB, fine for subnets and pod ranges up to /12 or so.
import { formatCidr, parseCidr } from '../../src/util/ip.ts';

export type Pick = 'lowest' | 'random';

export interface AddressSpaceOptions {
  /** Addresses the cloud keeps at the start of the space (AWS: 4; alias/secondary ranges: 0). */
  reservedHead?: number;
  /** Addresses kept at the end (AWS: the last one). */
  reservedTail?: number;
  pick?: Pick;
  random?: () => number;
}

export class AddressSpace {
  /** The network, first address as a number. */
  readonly base: number;
  readonly size: number;
  readonly prefixLength: number;
  private readonly used: Uint8Array;
  private readonly reservedHead: number;
  private readonly reservedTail: number;
  private free: number;
  /** Every index below this one is in use: scans start here. */
  private firstMaybeFree = 0;
  private readonly pick: Pick;
  private readonly random: () => number;

  /** `network`: a CIDR without host bits ("10.0.0.0/24"). */
  constructor(network: string | { base: number; prefixLength: number }, opts: AddressSpaceOptions = {}) {
    const c = typeof network === 'string' ? parseCidr(network) : network;
    this.base = c.base;
    this.prefixLength = c.prefixLength;
    this.size = 2 ** (32 - c.prefixLength);
    this.pick = opts.pick ?? 'lowest';
    this.random = opts.random ?? Math.random;
    this.used = new Uint8Array(this.size);
    this.reservedHead = Math.min(opts.reservedHead ?? 0, this.size);
    // A space too small to hold more than its head reservation keeps no tail (a /30 test subnet).
    this.reservedTail = this.size > this.reservedHead ? Math.min(opts.reservedTail ?? 0, this.size - this.reservedHead) : 0;
    for (let i = 0; i < this.reservedHead; i++) this.used[i] = 1;
    for (let i = 0; i < this.reservedTail; i++) this.used[this.size - 1 - i] = 1;
    this.free = this.size - this.reservedHead - this.reservedTail;
  }

  /** The space as CIDR text. */
  get network(): string {
    return formatCidr(this.base, this.prefixLength);
  }

  get freeCount(): number {
    return this.free;
  }

  contains(ip: number): boolean {
    return ip >= this.base && ip < this.base + this.size;
  }

  /** The whole block [start, start + 2^(32-len)) lies inside this space. */
  containsBlock(start: number, length: number): boolean {
    return length >= this.prefixLength && this.contains(start) && this.contains(start + 2 ** (32 - length) - 1);
  }

  isFree(ip: number): boolean {
    return this.contains(ip) && this.used[ip - this.base] === 0;
  }

  isReserved(ip: number): boolean {
    const off = ip - this.base;
    return off < this.reservedHead || off >= this.size - this.reservedTail;
  }

  /** True when the aligned block of `length` at `start` is inside the space and wholly free. */
  isBlockFree(start: number, length: number): boolean {
    const n = 2 ** (32 - length);
    if (!this.containsBlock(start, length) || start % n !== 0) return false;
    const off = start - this.base;
    for (let i = 0; i < n; i++) if (this.used[off + i]) return false;
    return true;
  }

  /** Marks one address used (a chosen address, or another tenant's). Taking a used one is a no-op. */
  take(ip: number): void {
    const off = ip - this.base;
    if (!this.contains(ip) || this.used[off]) return;
    this.used[off] = 1;
    this.free--;
  }

  takeBlock(start: number, length: number): void {
    for (let i = 0; i < 2 ** (32 - length); i++) this.take(start + i);
  }

  /** Gives an address back; reserved, outside or already free addresses are ignored. */
  release(ip: number): void {
    if (!this.contains(ip) || this.isReserved(ip) || this.used[ip - this.base] === 0) return;
    this.used[ip - this.base] = 0;
    this.free++;
    this.firstMaybeFree = Math.min(this.firstMaybeFree, ip - this.base);
  }

  releaseBlock(start: number, length: number): void {
    for (let i = 0; i < 2 ** (32 - length); i++) this.release(start + i);
  }

  /** Takes `count` free addresses, or none when fewer are free. */
  allocate(count: number): number[] | undefined {
    if (count > this.free) return undefined;
    const chosen = this.pick === 'lowest' ? this.lowestFree(count) : this.randomFree(count);
    for (const ip of chosen) this.take(ip);
    return chosen;
  }

  /** Takes `count` aligned, wholly free blocks of `length` (first addresses), or none when fewer exist. */
  allocateBlocks(length: number, count: number): number[] | undefined {
    const n = 2 ** (32 - length);
    if (length < this.prefixLength || length > 32) return undefined;
    const firstBlock = Math.floor(this.firstMaybeFree / n) * n;
    const candidates: number[] = [];
    for (let off = firstBlock; off + n <= this.size; off += n) {
      if (this.isBlockFree(this.base + off, length)) candidates.push(this.base + off);
      if (this.pick === 'lowest' && candidates.length === count) break;
    }
    if (candidates.length < count) return undefined;
    const chosen = this.pick === 'lowest' ? candidates : this.sample(candidates, count);
    for (const b of chosen) this.takeBlock(b, length);
    return chosen;
  }

  /** Aligned, wholly free blocks of `length` left. */
  freeBlockCount(length: number): number {
    const n = 2 ** (32 - length);
    let count = 0;
    for (let b = this.base; b + n <= this.base + this.size; b += n) if (this.isBlockFree(b, length)) count++;
    return count;
  }

  /**
   * Occupies a `fraction` of the free addresses at random, as other tenants (instances, load
   * balancers, endpoints) do over a subnet's life; returns what it took so a test can free it.
   */
  fragment(fraction: number, random: () => number = this.random): number[] {
    const want = Math.floor(this.free * Math.min(1, Math.max(0, fraction)));
    const out: number[] = [];
    while (out.length < want) {
      const i = Math.floor(random() * this.size);
      if (this.used[i]) continue;
      this.take(this.base + i);
      out.push(this.base + i);
    }
    return out;
  }

  private lowestFree(count: number): number[] {
    const out: number[] = [];
    let i = this.firstMaybeFree;
    for (; i < this.size && out.length < count; i++) if (!this.used[i]) out.push(this.base + i);
    // Everything before the first hit was in use, and the hits are about to be taken.
    this.firstMaybeFree = out.length ? (out[0] as number) - this.base : i;
    return out;
  }

  private randomFree(count: number): number[] {
    // Rejection sampling is cheap while the space has room; a nearly full one is scanned.
    const out = new Set<number>();
    for (let tries = 0; out.size < count && tries < count * 32; tries++) {
      const i = Math.floor(this.random() * this.size);
      if (!this.used[i]) out.add(this.base + i);
    }
    if (out.size < count) {
      const rest: number[] = [];
      for (let i = 0; i < this.size; i++) if (!this.used[i] && !out.has(this.base + i)) rest.push(this.base + i);
      for (const ip of this.sample(rest, count - out.size)) out.add(ip);
    }
    return [...out];
  }

  private sample(candidates: number[], count: number): number[] {
    const pool = [...candidates];
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const j = Math.floor(this.random() * pool.length);
      out.push(pool[j] as number);
      pool[j] = pool[pool.length - 1] as number;
      pool.pop();
    }
    return out;
  }
}
