// Fragmentation-aware placement: single addresses go into /28s that are already broken, so the
// aligned /28s prefix delegation needs stay free.
import { describe, expect, it } from '@jest/globals';
import { freeAlignedPrefixes, placeSingles, prefixUsage, subnetView } from '../../../providers/kit/placement.ts';
import { intToIp, ipToInt } from '../../../src/util/ip.ts';

const BASE = ipToInt('10.0.0.0');
const ips = (...last: number[]): Set<number> => new Set(last.map((n) => BASE + n));
const text = (xs: number[]): string[] => xs.map(intToIp);

describe('placeSingles', () => {
  it('puts singles inside a broken /28 and leaves every free /28 free', () => {
    const view = subnetView(BASE, 24, ips(200));
    expect(freeAlignedPrefixes(view)).toBe(15);
    const chosen = placeSingles(view, 3);
    expect(text(chosen)).toEqual(['10.0.0.192', '10.0.0.193', '10.0.0.194']);
    expect(freeAlignedPrefixes(subnetView(BASE, 24, new Set([...ips(200), ...chosen])))).toBe(15);
  });

  it('fills the fullest broken /28 first, then the next, before breaking a free one', () => {
    // /28 #1 has 14 used (2 free), /28 #3 has 1 used (15 free).
    const used = new Set([...Array.from({ length: 14 }, (_, i) => BASE + 16 + i), BASE + 48]);
    const chosen = placeSingles(subnetView(BASE, 24, used), 5);
    expect(text(chosen)).toEqual(['10.0.0.30', '10.0.0.31', '10.0.0.49', '10.0.0.50', '10.0.0.51']);
  });

  it("counts EC2's reservations as used: the first and last /28 take singles before any free /28", () => {
    const view = subnetView(BASE, 24, new Set(), { head: 4, tail: 1 });
    expect(freeAlignedPrefixes(view)).toBe(14);
    const chosen = placeSingles(view, 20);
    expect(chosen.every((ip) => ip - BASE < 16 || ip - BASE >= 240)).toBe(true);
    expect(freeAlignedPrefixes(subnetView(BASE, 24, new Set(chosen), { head: 4, tail: 1 }))).toBe(14);
  });

  it('breaks a free /28 only when the broken ones are full, and the lowest one', () => {
    const used = new Set(Array.from({ length: 15 }, (_, i) => BASE + 32 + i));
    const chosen = placeSingles(subnetView(BASE, 26, used), 3);
    expect(text(chosen)).toEqual(['10.0.0.47', '10.0.0.0', '10.0.0.1']);
  });

  it('gives fewer than asked when the subnet has fewer free addresses, and none for zero', () => {
    const view = subnetView(BASE, 28, new Set(), { head: 4, tail: 1 });
    expect(placeSingles(view, 20)).toHaveLength(11);
    expect(placeSingles(view, 0)).toEqual([]);
    expect(prefixUsage(view)).toEqual([5]);
  });

  it('in a subnet smaller than a /28 takes the free addresses in order', () => {
    expect(text(placeSingles(subnetView(BASE, 29, ips(0, 2)), 2))).toEqual(['10.0.0.1', '10.0.0.3']);
  });
});
