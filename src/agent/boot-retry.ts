// Boot steps that talk to the cloud. The agent uses retryUntilReady (below): every failure is
// retried, the agent never exits over a cloud error. retryTransient, the older rule kept for the
// scale bench's simulated nodes, retries transient failures only (throttled, 5xx, timeouts,
// unreachable metadata) and fails at once on a permanent one.
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

/** Why the start-up is not done yet: what `vpcnet status`, /readyz and the node condition say. */
export interface StartupBlock {
  step: string;
  code: string;
  message: string;
  attempts: number;
  /** When this step first failed (Clock ms). */
  since: number;
  /** The next attempt, in ms from the failure. */
  retryInMs: number;
}

export interface UntilReadyOptions extends Omit<BootRetryOptions, 'deadlineMs'> {
  /** Called after each failure, before the wait. */
  onBlocked?(block: StartupBlock): void;
  /** Failures no retry can mend (a corrupt checkpoint): thrown at once. */
  isFatal?(err: unknown): boolean;
}

/**
 * A start-up step that never gives up: the agent must come up and serve as soon as the cloud
 * lets it, not exit and be restarted by the DaemonSet (which starts the same calls over, and
 * under throttling makes the account's state worse). Every failure is retried with full jitter:
 * transient ones (throttled, 5xx, unreachable metadata) from 1 s doubling to 30 s, the others
 * (permission denied, a cloud setting to fix) from 5 s doubling to 5 min, so fixing the IAM
 * policy or the subnet is picked up without a restart. Only `signal` (the agent stopping) ends it.
 */
export async function retryUntilReady<T>(what: string, fn: () => Promise<T>, o: UntilReadyOptions): Promise<T> {
  let since: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (o.signal?.aborted || o.isFatal?.(err)) throw err;
      since ??= o.clock.now();
      const transient = isVpcnetError(err) && (err.retryable || err.code === 'METADATA_UNREACHABLE');
      const [base, cap] = transient ? [1000, 30_000] : [5000, 300_000];
      const delay = Math.max(1, Math.floor((o.random ?? Math.random)() * Math.min(cap, base * 2 ** Math.min(attempt, 20))));
      const code = isVpcnetError(err) ? err.code : 'INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      o.logger.warn({ step: what, attempt: attempt + 1, delayMs: delay, code, err }, 'start-up step failed, retrying');
      o.onBlocked?.({ step: what, code, message, attempts: attempt + 1, since, retryInMs: delay });
      await o.clock.sleep(delay, o.signal);
    }
  }
}
