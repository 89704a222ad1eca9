// Where single addresses go in a subnet that also serves /28 prefixes. Asking the cloud for
// "any N addresses" lets it scatter them, and every address that lands in a wholly free aligned
// /28 takes that /28 away from prefix delegation. Fragmentation-aware placement names the
// addresses instead: first inside /28s that are already broken (fullest first, so they close
// up), and only when those are full does it break a free /28 (lowest first, so the next
// singles follow it there). Pure: the caller says what it knows to be in use.

export const PREFIX_LENGTH = 28;
const BLOCK = 2 ** (32 - PREFIX_LENGTH);

export interface SubnetView {
  /** First address of the subnet as a number (host bits clear). */
  base: number;
  prefixLength: number;
  /** Whether an address is known to be in use (the cloud's own reservations included). */
  isUsed(ip: number): boolean;
}

/** A view over a set of used addresses, with the cloud's reservations at each end (EC2: 4 and 1). */
export function subnetView(base: number, prefixLength: number, used: ReadonlySet<number>, reserved: { head: number; tail: number } = { head: 0, tail: 0 }): SubnetView {
  const size = 2 ** (32 - prefixLength);
  return {
    base,
    prefixLength,
    isUsed: (ip) => ip - base < reserved.head || ip - base >= size - reserved.tail || used.has(ip),
  };
}

/** Used addresses in each aligned /28 of the subnet (a subnet smaller than a /28 has none). */
export function prefixUsage(view: SubnetView): number[] {
  if (view.prefixLength > PREFIX_LENGTH) return [];
  const blocks = 2 ** (PREFIX_LENGTH - view.prefixLength);
  const out = new Array<number>(blocks).fill(0);
  for (let b = 0; b < blocks; b++) {
    const start = view.base + b * BLOCK;
    for (let i = 0; i < BLOCK; i++) if (view.isUsed(start + i)) out[b]! += 1;
  }
  return out;
}

/** Aligned /28s with no address in use: what prefix delegation can still get. */
export function freeAlignedPrefixes(view: SubnetView): number {
  return prefixUsage(view).filter((u) => u === 0).length;
}

/**
 * `count` free addresses chosen so that wholly free /28s survive: broken /28s first, fullest
 * first; then free /28s, lowest first. Fewer when the view has fewer free addresses.
 */
export function placeSingles(view: SubnetView, count: number): number[] {
  if (count <= 0) return [];
  if (view.prefixLength > PREFIX_LENGTH) return freeIn(view, view.base, 2 ** (32 - view.prefixLength), count);
  const usage = prefixUsage(view);
  const order = usage
    .map((used, index) => ({ used, index }))
    .filter((b) => b.used < BLOCK)
    // Broken before free; among broken, fullest first; then by address.
    .sort((a, b) => Number(a.used === 0) - Number(b.used === 0) || b.used - a.used || a.index - b.index);
  const out: number[] = [];
  for (const b of order) {
    out.push(...freeIn(view, view.base + b.index * BLOCK, BLOCK, count - out.length));
    if (out.length >= count) break;
  }
  return out;
}

function freeIn(view: SubnetView, start: number, size: number, want: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size && out.length < want; i++) if (!view.isUsed(start + i)) out.push(start + i);
  return out;
}
