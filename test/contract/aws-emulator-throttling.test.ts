// The emulator's EC2 token buckets against the provider: with client-side limiting off, a
// burst is throttled and our backoff still gets every call through; with the limiter sized
// below the bucket's refill, the same burst is never throttled. Assertions are on counts,
// never on elapsed time.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Ec2RateLimiter } from '../../providers/aws/client/rate-limiter.ts';
import { MemoryMetrics } from '../../src/metrics/metrics.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

const burst = 8;

describe('AWS provider and EC2 token buckets (emulator)', () => {
  let env: AwsEmulatorEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
  });

  it('a burst that drains the bucket is retried with backoff until every call succeeds', async () => {
    const metrics = new MemoryMetrics();
    const open = { perSecond: 10_000, concurrency: 64 };
    env = await startAwsEmulatorEnv({
      emulator: { throttling: true, buckets: { AssignPrivateIpAddresses: { capacity: 2, refillPerSecond: 10 } } },
      provider: {
        metrics,
        // Off the production floor (10 s after a throttle): this wall-clock test is about the retries, not their spacing.
        rateLimiter: new Ec2RateLimiter({ rates: { '*': open }, throttledMinIntervalMs: 0 }),
        backoff: { baseMs: 50, capMs: 400, deadlineMs: 20_000 },
      },
    });
    const { node } = await env.provider.discover();
    const got = await Promise.all(
      Array.from({ length: burst }, () => env!.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 1 })),
    );
    expect(new Set(got.flat().map((b) => b.cidr)).size).toBe(burst);
    const throttled = env.emu.stats().throttled.AssignPrivateIpAddresses ?? 0;
    expect(throttled).toBeGreaterThan(0);
    expect(metrics.get('vpcnet_cloud_throttles_total', { action: 'AssignPrivateIpAddresses' })).toBe(throttled);
    expect(metrics.get('vpcnet_cloud_calls_total', { action: 'AssignPrivateIpAddresses', outcome: 'ok' })).toBe(burst);
  });

  it('the client-side limiter keeps the same burst under the bucket: no throttling at all', async () => {
    env = await startAwsEmulatorEnv({
      emulator: { throttling: true, buckets: { AssignPrivateIpAddresses: { capacity: 5, refillPerSecond: 5 } } },
      provider: {
        rateLimiter: new Ec2RateLimiter({ rates: { '*': { perSecond: 4, burst: 4, concurrency: 4 }, describe: { perSecond: 8, concurrency: 8 } } }),
      },
    });
    const { node } = await env.provider.discover();
    const got = await Promise.all(
      Array.from({ length: burst }, () => env!.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 1 })),
    );
    expect(got.flat()).toHaveLength(burst);
    expect(env.emu.stats().throttled).toEqual({});
    expect(env.provider.callCounts().AssignPrivateIpAddresses).toBe(burst);
  });
});
