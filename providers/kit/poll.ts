// Long-running operation polling on the Clock: EC2 attachment states, ARM operations
// (Azure-AsyncOperation / Location URLs with Retry-After), GCE zonal operations (the `wait`
// call blocks server-side up to its own limit, so the interval between calls can be 0).
import { VpcnetError } from '../../src/errors.ts';
import type { Clock } from '../../src/util/clock.ts';
import { backoffCeiling, type Backoff } from './retry.ts';

export interface PollOptions<T> {
  clock: Clock;
  /** One status read. Throw for a terminal failure (ARM `Failed`/`Canceled`, a GCE error). */
  poll(attempt: number): Promise<T>;
  /** True once the operation has reached the state we wait for. */
  done(value: T): boolean;
  /**
   * Wait between reads: a fixed number of ms, or a backoff whose ceiling doubles per read
   * (no jitter by default: polls of one operation do not herd; pass `jitter: true` for many).
   */
  interval: number | Backoff;
  jitter?: boolean;
  /** The server's hint for the next read (Retry-After on an operation status). Raises the wait. */
  retryAfterMs?(value: T): number | undefined;
  /** ms from the first read; the wait that would end past it is not started. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** The error thrown at the deadline; default CLOUD_TIMEOUT naming `what`. */
  onTimeout?(last: T, attempts: number): unknown;
  what?: string;
}

/** Reads until `done`, or throws at the deadline. The first read is immediate. */
export async function pollUntil<T>(opts: PollOptions<T>): Promise<T> {
  const deadline = opts.clock.now() + opts.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    const value = await opts.poll(attempt);
    if (opts.done(value)) return value;
    const delay = pollDelay(opts, attempt, value);
    const now = opts.clock.now();
    // A read at or past the deadline is the last one, also with a zero interval.
    if (now >= deadline || now + delay > deadline) {
      throw opts.onTimeout
        ? opts.onTimeout(value, attempt + 1)
        : new VpcnetError('CLOUD_TIMEOUT', `${opts.what ?? 'operation'} did not finish in ${opts.deadlineMs} ms`, {
            details: { attempts: attempt + 1, deadlineMs: opts.deadlineMs },
          });
    }
    await opts.clock.sleep(delay, opts.signal);
  }
}

function pollDelay<T>(opts: PollOptions<T>, attempt: number, value: T): number {
  let delay: number;
  if (typeof opts.interval === 'number') delay = opts.interval;
  else {
    const ceiling = backoffCeiling(attempt, opts.interval);
    delay = opts.jitter ? Math.floor((opts.interval.random ?? Math.random)() * ceiling) : ceiling;
  }
  const hint = opts.retryAfterMs?.(value);
  return hint !== undefined && hint > delay ? hint : delay;
}
