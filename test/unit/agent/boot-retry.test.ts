import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { retryTransient } from '../../../src/agent/boot-retry.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';

const logger = pino({ level: 'silent' });

async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const tracked = p.finally(() => (done = true));
  for (let i = 0; i < 1000 && !done; i++) await clock.advance(1000);
  return tracked;
}

describe('boot steps against a throttled account', () => {
  it('retries throttled and unavailable answers instead of failing the start', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const out = await drive(
      clock,
      retryTransient(
        'list-nics',
        async () => {
          calls++;
          if (calls < 4) throw new VpcnetError(calls % 2 ? 'CLOUD_THROTTLED' : 'CLOUD_UNAVAILABLE', 'RequestLimitExceeded');
          return 'nics';
        },
        { clock, logger, random: () => 0.5 },
      ),
    );
    expect(out).toBe('nics');
    expect(calls).toBe(4);
  });

  it('fails at once on a permanent error', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const err = await retryTransient(
      'discover',
      async () => {
        calls++;
        throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', 'instance type z9 is unknown');
      },
      { clock, logger },
    ).catch((e: unknown) => e);
    expect((err as VpcnetError).code).toBe('UNKNOWN_INSTANCE_TYPE');
    expect(calls).toBe(1);
  });
});
