import { describe, expect, it } from '@jest/globals';
import { pollUntil } from '../../../providers/kit/poll.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('pollUntil', () => {
  it('reads at once, then on a doubling interval, until done (an EC2 attachment)', async () => {
    const clock = new FakeClock(0);
    const reads: number[] = [];
    const done = pollUntil({
      clock,
      poll: async () => {
        reads.push(clock.now());
        return reads.length >= 4 ? 'attached' : 'attaching';
      },
      done: (s) => s === 'attached',
      interval: { baseMs: 100, capMs: 250 },
      deadlineMs: 10_000,
    });
    await clock.advance(5_000);
    expect(await done).toBe('attached');
    expect(reads).toEqual([0, 100, 300, 550]);
  });

  it("follows the operation's Retry-After (an ARM Azure-AsyncOperation status)", async () => {
    const clock = new FakeClock(0);
    const statuses = [
      { status: 'InProgress', retryAfterMs: 10_000 },
      { status: 'InProgress', retryAfterMs: 0 },
      { status: 'Succeeded', retryAfterMs: undefined },
    ];
    const reads: number[] = [];
    const done = pollUntil({
      clock,
      poll: async (i) => {
        reads.push(clock.now());
        return statuses[i] as (typeof statuses)[number];
      },
      done: (s) => s.status !== 'InProgress',
      interval: 2000,
      retryAfterMs: (s) => s.retryAfterMs,
      deadlineMs: 60_000,
    });
    await clock.advance(60_000);
    expect((await done).status).toBe('Succeeded');
    expect(reads).toEqual([0, 10_000, 12_000]);
  });

  it('passes a terminal failure thrown by the read straight through', async () => {
    const clock = new FakeClock(0);
    const err = await pollUntil({
      clock,
      poll: async () => {
        throw new VpcnetError('CLOUD_BAD_REQUEST', 'operation Failed');
      },
      done: () => false,
      interval: 1000,
      deadlineMs: 60_000,
    }).catch((e: unknown) => e);
    expect((err as VpcnetError).message).toBe('operation Failed');
  });

  it('times out with CLOUD_TIMEOUT (or the caller’s error) before a wait that would pass the deadline', async () => {
    const clock = new FakeClock(0);
    let reads = 0;
    const done = pollUntil({
      clock,
      poll: async () => {
        reads++;
        return 'RUNNING';
      },
      done: (s) => s === 'DONE',
      interval: 0, // a GCE zonal `wait` call blocks server-side; no wait between calls
      what: 'zone operation',
      deadlineMs: 0,
    }).catch((e: unknown) => e);
    await clock.advance(1);
    expect(((await done) as VpcnetError).code).toBe('CLOUD_TIMEOUT');
    expect(reads).toBe(1);

    const custom = pollUntil({
      clock,
      poll: async () => 'RUNNING',
      done: () => false,
      interval: 500,
      deadlineMs: 1200,
      onTimeout: (last, attempts) => new Error(`still ${last} after ${attempts}`),
    }).catch((e: unknown) => e);
    await clock.advance(5000);
    expect(((await custom) as Error).message).toBe('still RUNNING after 3');
  });
});
