import { describe, expect, it } from '@jest/globals';
import { Repeater } from '../../../src/util/repeater.ts';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Repeater', () => {
  it('runs passes one at a time, keeps going after a failed one, and stop() waits for the pass in flight', async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    const errors: unknown[] = [];
    let release: (() => void) | undefined;
    const r = new Repeater(
      1,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        passes++;
        if (passes === 1) {
          active--;
          throw new Error('first pass fails');
        }
        if (passes === 3) await new Promise<void>((res) => (release = res));
        active--;
      },
      (err) => errors.push(err),
    );
    r.start();
    while (!release) await tick(2);
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await tick(10);
    expect(stopped).toBe(false); // the third pass is still running
    release();
    await stopping;
    await tick(10);
    expect(passes).toBe(3); // none after stop
    expect(maxActive).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('an interval of 0 never runs', async () => {
    let passes = 0;
    const r = new Repeater(0, async () => void passes++, () => undefined);
    r.start();
    await tick(20);
    await r.stop();
    expect(passes).toBe(0);
  });
});
