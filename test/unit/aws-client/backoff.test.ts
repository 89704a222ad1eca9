import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { backoffDelay, withRetry } from '../../../providers/kit/retry.ts';
import { Ec2Api } from '../../../providers/aws/client/ec2-api.ts';
import { Ec2RateLimiter, bucketOf } from '../../../providers/aws/client/rate-limiter.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { ScriptedEc2, awsError, thrower } from './helpers.ts';

const policy = { baseMs: 100, capMs: 1000, deadlineMs: 5000 };

describe('backoff with full jitter', () => {
  it('grows exponentially up to the cap, scaled by the jitter draw', () => {
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(10, policy, () => 0.5)).toBe(500);
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
  });

  it('retries retryable failures on the clock and stops at the deadline', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const done = withRetry(
      async () => {
        calls++;
        throw new VpcnetError('CLOUD_THROTTLED', 'slow down');
      },
      { clock, policy, random: () => 1, isRetryable: (e) => (e as VpcnetError).retryable },
      (err, info) => Object.assign(err as VpcnetError, { attemptsSeen: info.attempts }),
    ).catch((e: unknown) => e);
    // ceilings 100, 200, 400, 800, 1000, 1000, 1000 ... until 5000 ms would be passed
    await clock.advance(10_000);
    const err = (await done) as VpcnetError & { attemptsSeen: number };
    expect(err.code).toBe('CLOUD_THROTTLED');
    expect(calls).toBe(err.attemptsSeen);
    expect(calls).toBe(8); // waits 100+200+400+800+1000+1000+1000 = 4500; the next 1000 would pass 5000
    expect(clock.now()).toBe(10_000);
  });

  it('does not retry errors that are not retryable', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new VpcnetError('CLOUD_PERMISSION_DENIED', 'no');
      },
      { clock, policy, random: () => 1, isRetryable: (e) => (e as VpcnetError).retryable },
    ).catch((e: unknown) => e);
    expect((err as VpcnetError).code).toBe('CLOUD_PERMISSION_DENIED');
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });
});

describe('Ec2Api', () => {
  const make = (ec2: ScriptedEc2, clock: FakeClock, metrics: MemoryMetrics): Ec2Api =>
    new Ec2Api({
      transport: ec2,
      limiter: new Ec2RateLimiter({ rates: { '*': { perSecond: 1000, concurrency: 100 } }, adaptive: false }),
      clock,
      metrics,
      logger: pino({ level: 'silent' }),
      backoff: policy,
      random: () => 0.5,
    });

  it('retries throttling and 5xx, counts calls, throttles and outcomes', async () => {
    const clock = new FakeClock(0);
    const metrics = new MemoryMetrics();
    const ec2 = new ScriptedEc2().on(
      'AssignPrivateIpAddresses',
      thrower(awsError('RequestLimitExceeded', 503)),
      thrower(awsError('InternalError', 500)),
      () => ({ AssignedPrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.9' }] }),
    );
    const api = make(ec2, clock, metrics);
    const pending = api.call('AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', SecondaryPrivateIpAddressCount: 1 });
    await clock.advance(1000);
    const out = await pending;
    expect(out.AssignedPrivateIpAddresses?.[0]?.PrivateIpAddress).toBe('10.0.0.9');
    expect(ec2.count('AssignPrivateIpAddresses')).toBe(3);
    expect(api.callCounts()).toEqual({ AssignPrivateIpAddresses: 3 });
    expect(metrics.get('vpcnet_cloud_calls_total', { action: 'AssignPrivateIpAddresses', outcome: 'ok' })).toBe(1);
    expect(metrics.get('vpcnet_cloud_calls_total', { action: 'AssignPrivateIpAddresses', outcome: 'CLOUD_THROTTLED' })).toBe(1);
    expect(metrics.get('vpcnet_cloud_calls_total', { action: 'AssignPrivateIpAddresses', outcome: 'CLOUD_UNAVAILABLE' })).toBe(1);
    expect(metrics.get('vpcnet_cloud_throttles_total', { action: 'AssignPrivateIpAddresses' })).toBe(1);
    expect(metrics.observed('vpcnet_cloud_call_seconds', { action: 'AssignPrivateIpAddresses' })).toHaveLength(3);
  });

  it('gives up after the deadline with the mapped error and the attempt count', async () => {
    const clock = new FakeClock(0);
    const ec2 = new ScriptedEc2().on('DescribeSubnets', thrower(awsError('RequestLimitExceeded', 503, 'req-77')));
    const api = make(ec2, clock, new MemoryMetrics());
    const pending = api.call('DescribeSubnets', {}).catch((e: unknown) => e);
    await clock.advance(60_000);
    const err = (await pending) as VpcnetError;
    expect(err.code).toBe('CLOUD_THROTTLED');
    expect(err.details.requestId).toBe('req-77');
    expect(err.details.attempts).toBe(ec2.count('DescribeSubnets'));
    expect(ec2.count('DescribeSubnets')).toBeGreaterThan(3);
  });

  it('fails at once on non-retryable errors', async () => {
    const ec2 = new ScriptedEc2().on('CreateNetworkInterface', thrower(awsError('UnauthorizedOperation', 403)));
    const err = (await make(ec2, new FakeClock(0), new MemoryMetrics())
      .call('CreateNetworkInterface', { SubnetId: 'subnet-1' })
      .catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('CLOUD_PERMISSION_DENIED');
    expect(ec2.count('CreateNetworkInterface')).toBe(1);
  });

  it('puts each action into its own EC2 bucket', () => {
    expect(bucketOf('DescribeNetworkInterfaces')).toBe('describe:DescribeNetworkInterfaces');
    expect(bucketOf('AssignPrivateIpAddresses')).toBe('AssignPrivateIpAddresses');
    expect(bucketOf('AttachNetworkInterface')).toBe('mutating:AttachNetworkInterface');
    expect(bucketOf('CreateTags')).toBe('CreateTags');
  });
});

describe('Ec2RateLimiter', () => {
  it('holds calls beyond the rate of their own bucket, and only of that bucket, metering the clock', async () => {
    const clock = new FakeClock(0);
    const limiter = new Ec2RateLimiter(
      { rates: { 'mutating:AttachNetworkInterface': { perSecond: 2, burst: 2, concurrency: 10 }, '*': { perSecond: 100, concurrency: 10 } }, adaptive: false },
      clock,
    );
    const started: string[] = [];
    const run = (action: string, tag = action): Promise<void> =>
      limiter.run(action, async () => {
        started.push(tag);
      });
    const pending = [run('AttachNetworkInterface', 'a1'), run('AttachNetworkInterface', 'a2'), run('AttachNetworkInterface', 'a3')];
    // Detach shares the mutating figures but not Attach's bucket: it is not held.
    await Promise.all([run('DetachNetworkInterface'), run('DescribeSubnets'), run('AssignPrivateIpAddresses')]);
    await pending[1];
    expect(started).not.toContain('a3');
    expect(limiter.waiting()['mutating:AttachNetworkInterface']).toBe(1);
    expect(started).toEqual(expect.arrayContaining(['a1', 'a2', 'DetachNetworkInterface', 'DescribeSubnets', 'AssignPrivateIpAddresses']));
    await clock.advance(499);
    expect(started).not.toContain('a3');
    await clock.advance(1);
    await Promise.all(pending);
    expect(started).toContain('a3');
  });

  it('drops to one call per 10 s when throttled, then divides its rate by 3 per throttle down to one per 120 s, and recovers slowly', async () => {
    const clock = new FakeClock(0);
    const limiter = new Ec2RateLimiter({ random: () => 1 }, clock);
    const throttle = new Error('RequestLimitExceeded');
    const isThrottled = (e: unknown): boolean => e === throttle;
    const fail = (): Promise<unknown> => limiter.run('AssignPrivateIpAddresses', () => Promise.reject(throttle), { isThrottled }).catch(() => undefined);
    const ok = (): Promise<unknown> => limiter.run('AssignPrivateIpAddresses', async () => 'ok', { isThrottled });
    const first = 10_000;
    await fail();
    expect(limiter.intervals().AssignPrivateIpAddresses).toBe(first);
    // The next call waits the new spacing instead of hammering the empty bucket.
    const next = ok();
    await clock.advance(first - 1);
    let done = false;
    void next.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    await clock.advance(1);
    await next;
    expect(limiter.intervals().AssignPrivateIpAddresses).toBe(first * 0.8);
    const again = fail();
    await clock.advance(60_000);
    await again;
    expect(limiter.intervals().AssignPrivateIpAddresses).toBe(first * 0.8 * 3);
    for (let i = 0; i < 5; i++) {
      const failed = fail();
      await clock.advance(120_000);
      await failed;
    }
    // Repeated throttles: at most one call per 2 minutes (a congested account), no slower.
    expect(limiter.intervals().AssignPrivateIpAddresses).toBe(120_000);
  });
});
