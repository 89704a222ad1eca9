// The address space of one subnet: which addresses are taken, by whom, and how to find free
// single addresses or aligned, fully free /28 prefixes. AWS reserves the first four addresses
// and the last one of every subnet, so a subnet can have free addresses yet no free /28.
import { cidrSize, type Cidr } from './ipv4.ts';

export const PREFIX_LENGTH = 28;
const PREFIX_SIZE = 2 ** (32 - PREFIX_LENGTH);
const RESERVED_HEAD = 4;

export type Pick = 'lowest' | 'random';

export class SubnetSpace {
  readonly cidr: Cidr;
  private readonly used: Uint8Array;
  private free: number;
  /** Every index below this one is in use: scans start here. */
  private firstMaybeFree = 0;
  private readonly pick: Pick;
  private readonly random: () => number;

  constructor(cidr: Cidr, pick: Pick = 'lowest', random: () => number = Math.random) {
    this.cidr = cidr;
    this.pick = pick;
    this.random = random;
    const size = cidrSize(cidr);
    this.used = new Uint8Array(size);
    for (let i = 0; i < Math.min(RESERVED_HEAD, size); i++) this.used[i] = 1;
    if (size > RESERVED_HEAD) this.used[size - 1] = 1;
    this.free = this.used.reduce((n, u) => n + (u ? 0 : 1), 0);
  }

  get freeCount(): number {
    return this.free;
  }

  contains(ip: number): boolean {
    return ip >= this.cidr.base && ip < this.cidr.base + this.used.length;
  }

  isFree(ip: number): boolean {
    return this.contains(ip) && this.used[ip - this.cidr.base] === 0;
  }

  /** True when the whole aligned prefix at `base` is inside the subnet and free. */
  isPrefixFree(base: number): boolean {
    if (!this.contains(base) || !this.contains(base + PREFIX_SIZE - 1) || base % PREFIX_SIZE !== 0) return false;
    const off = base - this.cidr.base;
    for (let i = 0; i < PREFIX_SIZE; i++) if (this.used[off + i]) return false;
    return true;
  }

  take(ip: number): void {
    this.used[ip - this.cidr.base] = 1;
    this.free--;
  }

  takePrefix(base: number): void {
    for (let i = 0; i < PREFIX_SIZE; i++) this.take(base + i);
  }

  isReserved(ip: number): boolean {
    const off = ip - this.cidr.base;
    return off < RESERVED_HEAD || off === this.used.length - 1;
  }

  release(ip: number): void {
    if (!this.contains(ip) || this.isReserved(ip) || this.used[ip - this.cidr.base] === 0) return;
    this.used[ip - this.cidr.base] = 0;
    this.free++;
    this.firstMaybeFree = Math.min(this.firstMaybeFree, ip - this.cidr.base);
  }

  releasePrefix(base: number): void {
    for (let i = 0; i < PREFIX_SIZE; i++) this.release(base + i);
  }

  /** Takes `count` free addresses, or none when fewer are free. */
  allocate(count: number): number[] | undefined {
    if (count > this.free) return undefined;
    const chosen = this.pick === 'lowest' ? this.lowestFree(count) : this.randomFree(count);
    for (const ip of chosen) this.take(ip);
    return chosen;
  }

  /** Takes `count` aligned, fully free /28 prefixes, or none when fewer exist. */
  allocatePrefixes(count: number): number[] | undefined {
    const firstBlock = Math.floor(this.firstMaybeFree / PREFIX_SIZE) * PREFIX_SIZE;
    const candidates: number[] = [];
    for (let off = firstBlock; off + PREFIX_SIZE <= this.used.length; off += PREFIX_SIZE) {
      if (this.isPrefixFree(this.cidr.base + off)) candidates.push(this.cidr.base + off);
      if (this.pick === 'lowest' && candidates.length === count) break;
    }
    if (candidates.length < count) return undefined;
    const chosen = this.pick === 'lowest' ? candidates : this.sample(candidates, count);
    for (const b of chosen) this.takePrefix(b);
    return chosen;
  }

  /** Free aligned /28 prefixes left. */
  freePrefixCount(): number {
    let n = 0;
    for (let b = this.cidr.base; b + PREFIX_SIZE <= this.cidr.base + this.used.length; b += PREFIX_SIZE) {
      if (this.isPrefixFree(b)) n++;
    }
    return n;
  }

  private lowestFree(count: number): number[] {
    const out: number[] = [];
    let i = this.firstMaybeFree;
    for (; i < this.used.length && out.length < count; i++) if (!this.used[i]) out.push(this.cidr.base + i);
    // Everything before the first hit was in use, and the hits are about to be taken.
    this.firstMaybeFree = out.length ? (out[0] as number) - this.cidr.base : i;
    return out;
  }

  private randomFree(count: number): number[] {
    // Rejection sampling is cheap while the subnet has room; a nearly full one is scanned.
    const out = new Set<number>();
    for (let tries = 0; out.size < count && tries < count * 32; tries++) {
      const i = Math.floor(this.random() * this.used.length);
      if (!this.used[i]) out.add(this.cidr.base + i);
    }
    if (out.size < count) {
      const rest: number[] = [];
      for (let i = 0; i < this.used.length; i++) if (!this.used[i] && !out.has(this.cidr.base + i)) rest.push(this.cidr.base + i);
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
