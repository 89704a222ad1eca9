// Every EC2 call goes through here: rate limit per bucket, our own retries with backoff and
// jitter (the SDK's retries are off), one error mapping, metrics and a per-action counter.
import type { Logger } from 'pino';
import type { VpcnetError } from '../../../src/errors.ts';
import type { Metrics } from '../../../src/metrics/metrics.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { isFilteredInput } from '../ec2-throttling.ts';
import { mapAwsError } from './aws-errors.ts';
import { isAmbiguous } from '../../kit/classify.ts';
import { withRetry, type BackoffPolicy } from '../../kit/retry.ts';
import type { Ec2Action, Ec2Ops, Ec2Transport } from './ec2-types.ts';
import type { Ec2RateLimiter } from './rate-limiter.ts';

export type { Ec2Action, Ec2Ops, Ec2Transport } from './ec2-types.ts';

export interface Ec2ApiDeps {
  transport: Ec2Transport;
  limiter: Ec2RateLimiter;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  backoff: BackoffPolicy;
  random: () => number;
}

export interface CallOptions<O> {
  /**
   * After an ambiguous failure (timeout, 5xx: EC2 may have acted), before any retry: finds out
   * whether the call took effect. An answer ends the call as if EC2 had returned it; undefined
   * lets the retry go ahead.
   */
  settleAmbiguous?: (err: VpcnetError) => Promise<O | undefined>;
}

export class Ec2Api {
  private readonly deps: Ec2ApiDeps;
  private readonly counts = new Map<string, number>();

  constructor(deps: Ec2ApiDeps) {
    this.deps = deps;
  }

  /** One logical call: retried on throttling, 5xx, timeouts and connection errors up to the deadline. */
  async call<A extends Ec2Action>(action: A, input: Ec2Ops[A][0], opts: CallOptions<Ec2Ops[A][1]> = {}): Promise<Ec2Ops[A][1]> {
    const { clock, metrics, logger, limiter } = this.deps;
    return withRetry(
      async () => {
        this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
        const started = clock.now();
        try {
          const out = (await limiter.run(action, () => this.deps.transport.send(action, input), {
            filtered: isFilteredInput(input),
            isThrottled: (err) => mapAwsError(err, action).code === 'CLOUD_THROTTLED',
          })) as Ec2Ops[A][1];
          metrics.inc('vpcnet_cloud_calls_total', { action, outcome: 'ok' });
          return out;
        } catch (err) {
          const mapped = mapAwsError(err, action);
          metrics.inc('vpcnet_cloud_calls_total', { action, outcome: mapped.code });
          if (mapped.code === 'CLOUD_THROTTLED') metrics.inc('vpcnet_cloud_throttles_total', { action });
          if (opts.settleAmbiguous && isAmbiguous(mapped.code)) {
            const settled = await opts.settleAmbiguous(mapped);
            if (settled !== undefined) return settled;
          }
          throw mapped;
        } finally {
          metrics.observe('vpcnet_cloud_call_seconds', (clock.now() - started) / 1000, { action });
        }
      },
      {
        clock,
        policy: this.deps.backoff,
        random: this.deps.random,
        isRetryable: (err) => (err as VpcnetError).retryable,
        onRetry: (err, attempt, delayMs) => {
          const e = err as VpcnetError;
          logger.warn({ action, code: e.code, awsCode: e.details.awsCode, attempt, delayMs }, 'ec2 call failed, retrying');
        },
      },
      (err, info) => {
        const e = err as VpcnetError;
        e.details.attempts = info.attempts;
        return e;
      },
    );
  }

  /** Calls sent per action since this provider started (retries included). */
  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
