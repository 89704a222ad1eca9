// The model behind bench:fragmentation (docs/benchmarks.md says what it models and what not).
// One EC2 subnet (the emulator's SubnetSpace: EC2's reservations, aligned /28s), a seeded churn
// of nodes joining, leaving and changing their pod count; prefix-mode nodes grow by /28 and,
// when no free aligned /28 is left, by single addresses (a prefix fallback); secondary-IP nodes
// grow by single addresses. The churn comes from one seeded stream and is the same for every
// placement; only where single addresses land differs:
//   naive      "any N addresses", as vpcnet asks today; EC2 picks (modelled as a seeded random pick)
//   naiveLowest the same, if EC2 picked the lowest free addresses (a kinder EC2, for reference)
//   aware      placeSingles over the subnet's used addresses (one extra read of the subnet)
//   awareOwn   placeSingles knowing only the node's own addresses; a named address someone else
//              holds fails the call (InvalidIPAddress.InUse) and the node asks for "any" instead
import { SubnetSpace } from '../../providers/aws/emulator/subnet-space.ts';
import { parseCidr } from '../../providers/aws/emulator/ipv4.ts';
import { freeAlignedPrefixes, placeSingles, subnetView, type SubnetView } from '../../providers/kit/placement.ts';
import { mulberry32 } from '../support/prng.ts';

export const PLACEMENTS = ['naive', 'naiveLowest', 'aware', 'awareOwn'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface FragmentationOptions {
  seed: number;
  /** Subnet CIDR (default a /20: 256 aligned /28s). */
  cidr: string;
  /** Most nodes at once. */
  nodes: number;
  /** Churn events. */
  steps: number;
  /** Share of nodes in prefix mode; the rest use secondary IPs. */
  prefixShare: number;
  /** Share of the subnet other tenants hold from the start, scattered. */
  tenants: number;
}

export const DEFAULTS: FragmentationOptions = { seed: 1, cidr: '10.0.0.0/20', nodes: 48, steps: 6000, prefixShare: 0.7, tenants: 0.01 };

export interface SideResult {
  /** Times a node wanted a /28 and none was free. */
  prefixRequests: number;
  prefixFallbacks: number;
  singlesPlaced: number;
  /** Free aligned /28s at the start, at the end, and the fewest seen. */
  free28Start: number;
  free28End: number;
  free28Min: number;
  freeAddressesEnd: number;
  /** Addresses a node needed and the subnet could not give at all. */
  unmet: number;
  /** awareOwn only: calls refused because a named address was someone else's. */
  conflicts: number;
}

interface Node {
  prefix: boolean;
  pods: number;
  primary: number;
  prefixes: number[];
  singles: number[];
}

const BLOCK = 16;
const MAX_PODS = 110;

/** One run of the churn with one placement. */
export function runSide(placement: Placement, o: FragmentationOptions): SideResult {
  const cidr = parseCidr(o.cidr);
  if (!cidr) throw new Error(`not a CIDR: ${o.cidr}`);
  // EC2's own pick of "any" addresses: its own seeded stream, apart from the churn's.
  const space = new SubnetSpace(cidr, placement === 'naiveLowest' ? 'lowest' : 'random', mulberry32(o.seed * 7919 + 1));
  const churn = mulberry32(o.seed);
  space.fragment(o.tenants, mulberry32(o.seed * 104_729 + 3));
  const full: SubnetView = { base: cidr.base, prefixLength: cidr.length, isUsed: (ip) => !space.isFree(ip) };
  const r: SideResult = { prefixRequests: 0, prefixFallbacks: 0, singlesPlaced: 0, free28Start: 0, free28End: 0, free28Min: 0, freeAddressesEnd: 0, unmet: 0, conflicts: 0 };
  r.free28Start = r.free28Min = space.freePrefixCount();
  const nodes: (Node | undefined)[] = new Array(o.nodes).fill(undefined);

  const any = (n: number): number[] => space.allocate(n) ?? space.allocate(space.freeCount) ?? [];
  const singles = (node: Node, n: number): number[] => {
    if (placement === 'naive' || placement === 'naiveLowest') return any(n);
    if (placement === 'aware') return takeAll(placeSingles(full, n));
    const own = new Set([node.primary, ...node.singles, ...node.prefixes.flatMap((p) => range(p, BLOCK))]);
    const chosen = placeSingles(subnetView(cidr.base, cidr.length, own, { head: 4, tail: 1 }), n);
    if (chosen.some((ip) => !space.isFree(ip))) {
      r.conflicts++;
      return any(n);
    }
    return takeAll(chosen);
  };
  const takeAll = (ips: number[]): number[] => {
    for (const ip of ips) space.take(ip);
    return ips;
  };

  const reconcile = (node: Node): void => {
    const capacity = (): number => node.prefixes.length * BLOCK + node.singles.length;
    const need = node.pods + (node.prefix ? 1 : 2);
    while (capacity() < need) {
      if (node.prefix) {
        r.prefixRequests++;
        const got = space.allocatePrefixes(1);
        if (got) {
          node.prefixes.push(...got);
          continue;
        }
        r.prefixFallbacks++;
      }
      const want = need - capacity();
      const got = singles(node, want);
      r.singlesPlaced += got.length;
      node.singles.push(...got);
      if (got.length < want) {
        r.unmet += want - got.length;
        break;
      }
    }
    // Idle blocks go back: singles first (newest first), then a prefix when one whole /28 is spare.
    while (node.singles.length && capacity() - 1 >= need + (node.prefix ? 0 : 4)) space.release(node.singles.pop()!);
    while (node.prefixes.length && capacity() - BLOCK >= need + BLOCK) space.releasePrefix(node.prefixes.pop()!);
  };

  for (let step = 0; step < o.steps; step++) {
    const i = Math.floor(churn() * o.nodes);
    const roll = churn();
    const delta = Math.round((churn() - 0.45) * 24);
    const kind = churn() < o.prefixShare;
    let node = nodes[i];
    if (!node) {
      const primary = any(1)[0];
      if (primary === undefined) continue;
      node = { prefix: kind, pods: 0, primary, prefixes: [], singles: [] };
      nodes[i] = node;
    } else if (roll < 0.06) {
      // The node leaves: every address it held goes back to the subnet.
      for (const p of node.prefixes) space.releasePrefix(p);
      for (const ip of [node.primary, ...node.singles]) space.release(ip);
      nodes[i] = undefined;
      continue;
    }
    node.pods = Math.max(0, Math.min(MAX_PODS, node.pods + delta));
    reconcile(node);
    r.free28Min = Math.min(r.free28Min, space.freePrefixCount());
  }
  r.free28End = space.freePrefixCount();
  r.freeAddressesEnd = space.freeCount;
  // The pure count and the emulator's agree (the metric uses the former).
  if (freeAlignedPrefixes(full) !== r.free28End) throw new Error('free /28 counts disagree');
  return r;
}

function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => start + k);
}

export function runFragmentation(o: FragmentationOptions): Record<Placement, SideResult> {
  return Object.fromEntries(PLACEMENTS.map((p) => [p, runSide(p, o)])) as Record<Placement, SideResult>;
}
