import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../src/util/clock.ts';

describe('FakeClock', () => {
  it('wakes sleepers in due order, ties in arrival order, and moves time to each', async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    const park = (name: string, ms: number): void => {
      void clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`));
    };
    park('c', 30);
    park('a', 10);
    park('b', 10);
    park('late', 100);
    await clock.advance(50);
    expect(woke).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now()).toBe(50);
    expect(clock.pending).toBe(1);
  });

  it('lets woken code sleep again within one advance', async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(10);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(45);
    expect(ticks).toEqual([10, 20, 30, 40]);
  });

  it('drops aborted sleepers and rejects them with the reason', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = clock.sleep(10, ac.signal);
    expect(clock.pending).toBe(1);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    expect(clock.nextAt()).toBeUndefined();
  });

  it('holds thousands of sleepers and serves them through nextAt/advanceTo (the virtual-time driver)', async () => {
    const clock = new FakeClock(0);
    const n = 20_000;
    let woken = 0;
    let last = -1;
    let ordered = true;
    for (let i = 0; i < n; i++) {
      const due = (i * 7919) % n; // a permutation of 0..n-1
      void clock.sleep(due).then(() => {
        if (clock.now() < last) ordered = false;
        last = clock.now();
        woken++;
      });
    }
    expect(clock.pending).toBe(n);
    expect(clock.nextAt()).toBe(0);
    for (let next = clock.nextAt(); next !== undefined; next = clock.nextAt()) {
      clock.advanceTo(next);
      await Promise.resolve();
    }
    await new Promise<void>((r) => setImmediate(r));
    expect(woken).toBe(n);
    expect(ordered).toBe(true);
    expect(clock.now()).toBe(n - 1);
  });
});
