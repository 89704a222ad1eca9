import { describe, expect, it } from '@jest/globals';
import { AddressSpace } from '../../../providers/kit/allocator.ts';
import { cidrAddresses, formatCidr, intToIp, ipToInt } from '../../../src/util/ip.ts';
import { mulberry32 } from '../../support/prng.ts';

describe('AddressSpace', () => {
  it('refuses a network with host bits', () => {
    expect(() => new AddressSpace('10.0.0.5/24')).toThrow(/host bits/);
  });

  it('hands out aligned blocks of any length: GCE alias /24s from a secondary /20', () => {
    const s = new AddressSpace('10.100.0.0/20');
    const got = s.allocateBlocks(24, 3)!.map((b) => formatCidr(b, 24));
    expect(got).toEqual(['10.100.0.0/24', '10.100.1.0/24', '10.100.2.0/24']);
    expect(s.freeBlockCount(24)).toBe(13);
    expect(s.allocateBlocks(24, 14)).toBeUndefined(); // all or nothing
    expect(s.freeBlockCount(24)).toBe(13);
    expect(s.allocateBlocks(19, 1)).toBeUndefined(); // wider than the space
    s.releaseBlock(ipToInt('10.100.1.0'), 24);
    expect(s.allocateBlocks(24, 1)!.map(intToIp)).toEqual(['10.100.1.0']);
  });

  it('keeps alignment when a single address sits in the way', () => {
    const s = new AddressSpace('10.0.0.0/24', { reservedHead: 4, reservedTail: 1 });
    s.take(ipToInt('10.0.0.20'));
    // .0/28 holds reserved addresses, .16/28 holds .20: the first free /28 is .32
    expect(s.allocateBlocks(28, 1)!.map(intToIp)).toEqual(['10.0.0.32']);
    expect(s.allocateBlocks(26, 1)!.map(intToIp)).toEqual(['10.0.0.64']);
    for (const b of [28, 27, 26]) {
      const n = 2 ** (32 - b);
      const got = s.allocateBlocks(b, 1);
      if (got) expect((got[0]! - ipToInt('10.0.0.0')) % n).toBe(0);
    }
  });

  it('fragments realistically: a third of the addresses taken at random leaves almost no free /28', () => {
    const s = new AddressSpace('10.0.0.0/22', { reservedHead: 4, reservedTail: 1 });
    const before = s.freeBlockCount(28);
    const taken = s.fragment(1 / 3, mulberry32(42));
    expect(taken).toHaveLength(Math.floor(1019 / 3));
    expect(new Set(taken).size).toBe(taken.length);
    expect(s.freeCount).toBe(1019 - taken.length);
    // With a third of 1024 addresses taken, P(a /28 stays free) = (2/3)^16, about 0.15 %.
    expect(before).toBe(62);
    expect(s.freeBlockCount(28)).toBeLessThanOrEqual(2);
    // ... yet single addresses are plentiful: the subnet is fragmented, not full.
    expect(s.allocate(600)).toHaveLength(600);
  });

  it('random pick scatters addresses, lowest pick packs them', () => {
    const random = new AddressSpace('10.0.0.0/24', { pick: 'random', random: mulberry32(3) });
    const lowest = new AddressSpace('10.0.0.0/24');
    random.allocate(32);
    lowest.allocate(32);
    expect(lowest.freeBlockCount(28)).toBe(14);
    expect(random.freeBlockCount(28)).toBeLessThan(14);
  });

  it('reserved addresses never become free; outside addresses are ignored', () => {
    const s = new AddressSpace('10.0.0.0/28', { reservedHead: 4, reservedTail: 1 });
    expect(s.freeCount).toBe(11);
    s.release(ipToInt('10.0.0.0'));
    s.release(ipToInt('10.0.0.15'));
    s.take(ipToInt('10.0.1.1'));
    expect(s.freeCount).toBe(11);
    expect(s.allocate(11)!.map(intToIp)).toEqual(cidrAddresses('10.0.0.0/28').slice(4, 15));
    expect(s.allocate(1)).toBeUndefined();
  });
});
