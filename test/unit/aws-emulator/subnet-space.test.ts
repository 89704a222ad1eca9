import { describe, expect, it } from '@jest/globals';
import { IdSource } from '../../../providers/aws/emulator/ids.ts';
import { formatIpv4, parseCidr, parseIpv4 } from '../../../providers/aws/emulator/ipv4.ts';
import { SubnetSpace } from '../../../providers/aws/emulator/subnet-space.ts';

function space(cidr: string, pick: 'lowest' | 'random' = 'lowest'): SubnetSpace {
  return new SubnetSpace(parseCidr(cidr)!, pick, new IdSource(7).random());
}
const ip = (t: string): number => parseIpv4(t)!;

describe('subnet address space', () => {
  it('reserves the first four and the last address', () => {
    const s = space('10.0.0.0/28');
    expect(s.freeCount).toBe(11);
    expect(s.allocate(11)?.map(formatIpv4)).toEqual([...Array(11).keys()].map((i) => `10.0.0.${i + 4}`));
    expect(s.allocate(1)).toBeUndefined();
    expect(s.isFree(ip('10.0.0.15'))).toBe(false);
  });

  it('takes all or nothing when fewer addresses are free than asked', () => {
    const s = space('10.0.0.0/28');
    expect(s.allocate(12)).toBeUndefined();
    expect(s.freeCount).toBe(11);
  });

  it('delegates only aligned, fully free /28s', () => {
    const s = space('10.0.0.0/26');
    // .0/28 and .48/28 hold reserved addresses.
    expect(s.freePrefixCount()).toBe(2);
    s.take(ip('10.0.0.17'));
    expect(s.allocatePrefixes(1)?.map(formatIpv4)).toEqual(['10.0.0.32']);
    expect(s.allocatePrefixes(1)).toBeUndefined();
    expect(s.freeCount).toBe(59 - 17);
    s.release(ip('10.0.0.17'));
    expect(s.allocatePrefixes(1)?.map(formatIpv4)).toEqual(['10.0.0.16']);
  });

  it('fragments: scattered single addresses leave free space but no /28', () => {
    const s = space('10.0.0.0/24', 'random');
    const taken = s.allocate(40)!;
    expect(new Set(taken).size).toBe(40);
    expect(s.freeCount).toBe(251 - 40);
    // 40 random picks over 16 blocks of 16 hit every block with overwhelming odds; seeded, so stable.
    expect(s.freePrefixCount()).toBe(0);
    expect(s.allocatePrefixes(1)).toBeUndefined();
  });

  it('reuses released addresses, lowest first', () => {
    const s = space('10.0.0.0/24');
    const [a, b] = s.allocate(2)!;
    s.release(a!);
    expect(s.allocate(1)).toEqual([a]);
    expect(s.allocate(1)?.[0]).toBeGreaterThan(b!);
    // Reserved addresses never become free.
    s.releasePrefix(ip('10.0.0.0'));
    expect(s.isFree(ip('10.0.0.0'))).toBe(false);
    expect(s.isFree(ip('10.0.0.4'))).toBe(true);
  });
});

describe('ids', () => {
  it('are deterministic for a seed and distinct across calls', () => {
    const a = new IdSource(42);
    const b = new IdSource(42);
    expect(a.next('eni')).toBe(b.next('eni'));
    expect(a.next('eni')).toMatch(/^eni-[0-9a-f]{17}$/);
    expect(a.mac()).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(a.mac()).not.toBe(a.mac());
  });
});
