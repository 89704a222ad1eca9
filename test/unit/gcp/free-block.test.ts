// Route mode with provider.clusterCidr: which /len a node asks GCE to route to it. Nodes booting
// together must not all race for the same first free block (each loss costs a routes.insert,
// an operation wait and a routes.get), and a node coming back prefers the block it had.
import { describe, expect, it } from '@jest/globals';
import { freeBlock, instanceSeed } from '../../../providers/gcp/client/gcp-provider.ts';

const link = (zone: string, name: string): string => `https://compute.googleapis.com/compute/v1/projects/p/zones/${zone}/instances/${name}`;

describe('freeBlock', () => {
  it('spreads 200 nodes over a /16 of /24s: few pick a block another node also picked first', () => {
    const firsts = Array.from({ length: 200 }, (_, i) => freeBlock('10.64.0.0/16', 24, [], instanceSeed(link('europe-west1-b', `node-${i}`))));
    const distinct = new Set(firsts).size;
    // 200 picks from 256 blocks at random collide ~60 times; the first-free scan collided 199 times
    expect(distinct).toBeGreaterThan(100);
    expect(firsts.every((c) => c !== undefined && /^10\.64\.\d+\.0\/24$/.test(c))).toBe(true);
  });

  it('is stable for one instance whatever the form of its link', () => {
    const a = instanceSeed(link('us-central1-a', 'node-7'));
    const b = instanceSeed('projects/123456/zones/us-central1-a/instances/node-7');
    expect(a).toBe(b);
    expect(freeBlock('10.64.0.0/16', 24, [], a)).toBe(freeBlock('10.64.0.0/16', 24, [], b));
  });

  it('skips taken and overlapping ranges, wrapping past the end', () => {
    // 4 blocks of /26 in a /24; a seed that starts at the last one
    expect(freeBlock('10.0.0.0/24', 26, [], 3)).toBe('10.0.0.192/26');
    expect(freeBlock('10.0.0.0/24', 26, ['10.0.0.192/26'], 3)).toBe('10.0.0.0/26');
    expect(freeBlock('10.0.0.0/24', 26, ['10.0.0.192/26', '10.0.0.0/25'], 3)).toBe('10.0.0.128/26');
    expect(freeBlock('10.0.0.0/24', 26, ['10.0.0.0/24'], 3)).toBeUndefined();
  });

  it('a range larger than the cluster CIDR has no free block', () => {
    expect(freeBlock('10.0.0.0/24', 16, [], 0)).toBeUndefined();
  });
});
