// The scale benchmarks' boot loop: a node that keeps failing is given up and reported, the run
// goes on (a throw here once ended a whole 1000-node GCE run).
import { expect, test } from '@jest/globals';
import { bootWithRestarts, MAX_BOOT_RESTARTS } from '../../bench/boot-restarts.ts';
import { FakeClock } from '../../../src/util/clock.ts';

/** Runs `p` on a fake clock, advancing it until `p` settles. */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  while (!done) await clock.advance(10_000);
  return p;
}

test('a boot that never succeeds is given up after MAX_BOOT_RESTARTS restarts, with its last error, without throwing', async () => {
  const clock = new FakeClock();
  let attempts = 0;
  let restarts = 0;
  const out = await drive(
    clock,
    bootWithRestarts(
      async () => {
        attempts++;
        throw new Error(`metadata timeout ${attempts}`);
      },
      { clock, onRestart: () => restarts++ },
    ),
  );
  expect(out.booted).toBe(false);
  expect(out.booted === false && (out.error as Error).message).toBe(`metadata timeout ${MAX_BOOT_RESTARTS + 1}`);
  expect(restarts).toBe(MAX_BOOT_RESTARTS);
  expect(attempts).toBe(MAX_BOOT_RESTARTS + 1);
});

test('a boot that fails a few times restarts after a pause and then boots', async () => {
  const clock = new FakeClock();
  const started = clock.now();
  let attempts = 0;
  const restarts: string[] = [];
  const out = await drive(
    clock,
    bootWithRestarts(
      async () => {
        if (++attempts < 3) throw new Error('throttled');
      },
      { clock, onRestart: (err) => restarts.push((err as Error).message), pauseMs: 10_000 },
    ),
  );
  expect(out).toEqual({ booted: true });
  expect(restarts).toEqual(['throttled', 'throttled']);
  expect(clock.now() - started).toBeGreaterThanOrEqual(20_000);
});
