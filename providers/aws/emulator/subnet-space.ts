// The address space of one EC2 subnet: the kit's AddressSpace with EC2's reservations (the
// first four addresses and the last one) and /28 prefix delegation, so a subnet can have free
// addresses yet no free /28.
import { AddressSpace, type Pick } from '../../kit/allocator.ts';
import type { Cidr } from './ipv4.ts';

export type { Pick };

export const PREFIX_LENGTH = 28;

export class SubnetSpace extends AddressSpace {
  readonly cidr: Cidr;

  constructor(cidr: Cidr, pick: Pick = 'lowest', random: () => number = Math.random) {
    super({ base: cidr.base, prefixLength: cidr.length }, { reservedHead: 4, reservedTail: 1, pick, random });
    this.cidr = cidr;
  }

  /** True when the whole aligned /28 at `base` is inside the subnet and free. */
  isPrefixFree(base: number): boolean {
    return this.isBlockFree(base, PREFIX_LENGTH);
  }

  takePrefix(base: number): void {
    this.takeBlock(base, PREFIX_LENGTH);
  }

  releasePrefix(base: number): void {
    this.releaseBlock(base, PREFIX_LENGTH);
  }

  /** Takes `count` aligned, fully free /28 prefixes, or none when fewer exist. */
  allocatePrefixes(count: number): number[] | undefined {
    return this.allocateBlocks(PREFIX_LENGTH, count);
  }

  /** Free aligned /28 prefixes left. */
  freePrefixCount(): number {
    return this.freeBlockCount(PREFIX_LENGTH);
  }
}
