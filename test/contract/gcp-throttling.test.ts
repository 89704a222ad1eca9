// GCE throttling as GCE sends it, through the real SDK and the emulator: a spent rate quota is
// HTTP 403 with reason rateLimitExceeded in the classic envelope (no ErrorInfo detail). It is
// throttling, retried, never "permission denied".
import { afterEach, describe, expect, it } from '@jest/globals';
import { startGcpEnv, type GcpEnv } from './gcp-emulator-setup.ts';

describe('GCE provider: 403 rateLimitExceeded is throttling', () => {
  let env: GcpEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('discover succeeds after instances.get answered 403 rateLimitExceeded twice', async () => {
    env = await startGcpEnv({ provider: { retry: { attempts: 5, baseMs: 5, capMs: 20 } } });
    env.emulator.faults.add({ method: 'instances.get', status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', count: 2 });
    const { node } = await env.provider.discover();
    expect(node.provider).toBe('gcp');
    expect(env.emulator.stats().calls['instances.get']).toBeGreaterThanOrEqual(3);
  });

  it('a bare 403 (reason forbidden) is still permission denied, not retried', async () => {
    env = await startGcpEnv();
    env.emulator.faults.add({ method: 'instances.get', status: 403, reason: 'forbidden', message: "Required 'compute.instances.get' permission" });
    const err = await env.provider.discover().then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err?.code).toBe('CLOUD_PERMISSION_DENIED');
    expect(env.emulator.stats().calls['instances.get']).toBe(1);
  });
});
