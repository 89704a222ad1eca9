// Retry with exponential backoff and full jitter on a Clock, for throttled (403
// rateLimitExceeded: GCE refills per minute) and unavailable answers. Local until the shared
// kit's retry lands (providers/kit); same contract, so switching is a one-line change.
import type { Clock } from '../../../src/util/clock.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { isRetryable } from './gce-errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 250, capMs: 15_000 };

export async function retrying<T>(clock: Clock, policy: RetryPolicy, random: () => number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof VpcnetError) || !isRetryable(err) || attempt + 1 >= policy.attempts) throw err;
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
      await clock.sleep(Math.floor(random() * ceiling));
    }
  }
}
