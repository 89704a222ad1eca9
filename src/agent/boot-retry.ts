// Boot steps that talk to the cloud (discover, the first NIC listing) are retried while the
// failure is transient (throttled, 5xx, timeouts, unreachable metadata): a throttled account at
// boot must not restart the agent, which would only start the same calls over. Permanent
// failures (unknown instance type, permission denied) still fail the start at once.
import type { Logger } from 'pino';
import { isVpcnetError } from '../errors.ts';
import type { Clock } from '../util/clock.ts';

export interface BootRetryOptions {
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Give up after this long (then the start fails and the DaemonSet restarts the agent); default 15 min. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export async function retryTransient<T>(what: string, fn: () => Promise<T>, o: BootRetryOptions): Promise<T> {
  const end = o.clock.now() + (o.deadlineMs ?? 900_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = isVpcnetError(err) && (err.retryable || err.code === 'METADATA_UNREACHABLE');
      // Full jitter, 1 s doubling to 60 s.
      const delay = Math.floor((o.random ?? Math.random)() * Math.min(60_000, 1000 * 2 ** attempt));
      if (!transient || o.clock.now() + delay > end) throw err;
      o.logger.warn({ step: what, attempt: attempt + 1, delayMs: delay, code: err.code }, 'boot step failed, retrying');
      await o.clock.sleep(delay, o.signal);
    }
  }
}
