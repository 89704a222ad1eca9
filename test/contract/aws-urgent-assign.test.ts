// Pods waiting on an empty pool while EC2 throttles: the pool's assign is urgent, so after
// RequestLimitExceeded it is retried at the pace the bucket refills (a token's time), not after
// the >= 10 s spacing a warm-target top-up keeps. With the production limiter (no test
// shortcuts), every waiting ADD gets its address within its deadline (no POOL_EXHAUSTED, which
// the runtime would see as CNI code 11).
import { afterEach, describe, expect, it } from '@jest/globals';
import { Ec2RateLimiter } from '../../providers/aws/client/rate-limiter.ts';
import { DEFAULT_BACKOFF } from '../../providers/kit/retry.ts';
import { MemoryCheckpointStore } from '../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../src/ipam/pool-manager.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

describe('AWS: ADDs waiting through throttled assigns', () => {
  let env: AwsEmulatorEnv | undefined;
  let pm: PoolManager | undefined;
  afterEach(async () => {
    await pm?.stop();
    await env?.cleanup();
  });

  it('two ADDs more than the warm pool holds, AssignPrivateIpAddresses throttled twice: all served within a 5 s deadline', async () => {
    // the production limiter and backoff, not the setup's fast test timings
    env = await startAwsEmulatorEnv({ provider: { rateLimiter: new Ec2RateLimiter(), backoff: DEFAULT_BACKOFF } });
    const { limits } = await env.provider.discover();
    pm = new PoolManager({ provider: env.provider, store: new MemoryCheckpointStore(), limits, targets: { warmIps: 1, prefixDelegation: false, cooldownMs: 1000 }, allocateDeadlineMs: 5000 });
    await pm.start();
    const warm = pm.status().counts.available;
    env.emu.faults.add({ action: 'AssignPrivateIpAddresses', code: 'RequestLimitExceeded', count: 2 });
    const pods = warm + 2;
    const results = await Promise.allSettled(Array.from({ length: pods }, (_, i) => pm!.allocate({ containerId: `c${i}`, ifname: 'eth0' })));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code?: string });
    expect(failed.map((e) => e.code)).toEqual([]);
    expect(new Set(results.map((r) => (r as PromiseFulfilledResult<{ ip: string }>).value.ip)).size).toBe(pods);
    expect(env.emu.faults.list()).toEqual([]); // both throttles were answered
  }, 30_000);
});
