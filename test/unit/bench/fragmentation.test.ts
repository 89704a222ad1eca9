// bench:fragmentation smoke test: a small run prints one JSON line with both sides' figures,
// and fragmentation-aware placement does not lose to today's on the same seed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';

const SCRIPT = join(import.meta.dirname, '../../bench/fragmentation.ts');

test('npm run bench:fragmentation -- --json ends with one JSON line carrying naive and aware figures', () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--json', '--cidr', '10.0.0.0/22', '--nodes', '12', '--steps', '1500', '--seed', '7'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const last = r.stdout.trimEnd().split('\n').pop() ?? '';
  const out = JSON.parse(last) as Record<string, Record<string, number>>;
  expect(out.bench).toBe('fragmentation');
  for (const side of ['naive', 'aware'] as const) {
    expect(out[side]).toEqual(expect.objectContaining({ prefixFallbacks: expect.any(Number), free28End: expect.any(Number) }));
  }
  expect(out.aware!.prefixFallbacks!).toBeLessThanOrEqual(out.naive!.prefixFallbacks!);
  expect(out.aware!.free28End!).toBeGreaterThanOrEqual(out.naive!.free28End!);
});
