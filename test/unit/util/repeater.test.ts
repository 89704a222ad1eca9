import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../../src/util/clock.ts';
import { Repeater } from '../../../src/util/repeater.ts';

/** A pass that counts and can be held open until released. */
function passes(): { run: () => Promise<void>; count: () => number; active: () => number; hold: () => () => void } {
  let count = 0;
  let active = 0;
  let gate: Promise<void> | undefined;
  return {
    count: () => count,
    active: () => active,
    hold: () => {
      let open = (): void => undefined;
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
    run: async () => {
      count++;
      active++;
      try {
        await gate;
      } finally {
        active--;
      }
    },
  };
}

describe('Repeater', () => {
  it('runs a pass every interval, none before the first interval has passed', async () => {
    const clock = new FakeClock();
    const p = passes();
    const r = new Repeater(1000, p.run, () => undefined, clock);
    r.start();
    await clock.advance(999);
    expect(p.count()).toBe(0);
    await clock.advance(1);
    expect(p.count()).toBe(1);
    await clock.advance(2000);
    expect(p.count()).toBe(3);
    await r.stop();
  });

  it('keeps going after a failed pass and reports the failure', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let n = 0;
    const r = new Repeater(
      10,
      async () => {
        if (++n === 1) throw new Error('first pass fails');
      },
      (err) => errors.push(err),
      clock,
    );
    r.start();
    await clock.advance(30);
    expect(n).toBe(3);
    expect(errors).toEqual([new Error('first pass fails')]);
    await r.stop();
  });

  it('never runs two passes at once: the next interval starts after a slow pass ends', async () => {
    const clock = new FakeClock();
    const p = passes();
    const release = p.hold();
    const r = new Repeater(10, p.run, () => undefined, clock);
    r.start();
    await clock.advance(100);
    expect(p.count()).toBe(1);
    expect(p.active()).toBe(1);
    release();
    await clock.advance(0);
    expect(p.count()).toBe(1);
    await clock.advance(10);
    expect(p.count()).toBe(2);
    await r.stop();
  });

  it('stop() waits for the pass in flight, and no pass runs after it', async () => {
    const clock = new FakeClock();
    const p = passes();
    const release = p.hold();
    const r = new Repeater(10, p.run, () => undefined, clock);
    r.start();
    await clock.advance(10);
    expect(p.active()).toBe(1);
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(p.active()).toBe(0);
    await clock.advance(1000);
    expect(p.count()).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('an interval of 0 never runs, while the same repeater with an interval does', async () => {
    const clock = new FakeClock();
    const never = passes();
    const every = passes();
    const r0 = new Repeater(0, never.run, () => undefined, clock);
    const r1 = new Repeater(5, every.run, () => undefined, clock);
    r0.start();
    r1.start();
    await clock.advance(1000);
    expect(never.count()).toBe(0);
    expect(every.count()).toBe(200);
    await r0.stop();
    await r1.stop();
  });

  it('a stopped repeater does not start again', async () => {
    const clock = new FakeClock();
    const p = passes();
    const r = new Repeater(10, p.run, () => undefined, clock);
    await r.stop();
    r.start();
    await clock.advance(100);
    expect(p.count()).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
