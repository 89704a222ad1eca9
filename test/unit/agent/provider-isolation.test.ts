// An agent on one cloud never loads another cloud's SDK: each case runs in a fresh node
// process with a module resolution hook that records every module loaded (import and require).
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// AWS: the SDK's packages and the Smithy runtime its signer comes from.
const SDKS = { aws: ['/node_modules/@aws-sdk/', '/node_modules/@smithy/'], azure: ['/node_modules/@azure/'], gcp: ['/node_modules/@google-cloud/'] };

/** Runs `body` (ESM, top-level await) after the hook is in place; returns the URLs of the modules loaded. */
function loaded(body: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.add(r.url); return r; } });
    const root = ${JSON.stringify(`${ROOT}/`)};
    ${body}
    process.stdout.write(JSON.stringify([...seen]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as string[];
}

const sdksIn = (urls: string[]): string[] => Object.entries(SDKS).filter(([, dirs]) => urls.some((u) => dirs.some((d) => u.includes(d)))).map(([name]) => name);

describe('providers load on demand', () => {
  it('the composition root and the registry load no cloud SDK until a provider is chosen', () => {
    const urls = loaded(`
      await import(root + 'src/agent/agent.ts');
      await import(root + 'providers/registry.ts');`);
    expect(urls.some((u) => u.endsWith('/src/agent/agent.ts'))).toBe(true);
    expect(sdksIn(urls)).toEqual([]);
  });

  it('building the AWS provider loads the AWS SDK and no other cloud SDK', () => {
    const urls = loaded(`
      const { createProvider } = await import(root + 'src/agent/provider-factory.ts');
      const { configSchema } = await import(root + 'src/config/schema.ts');
      const { noopMetrics } = await import(root + 'src/metrics/metrics.ts');
      const { silentLogger } = await import(root + 'src/util/logger.ts');
      const { FakeClock } = await import(root + 'src/util/clock.ts');
      const p = await createProvider(configSchema.parse({}), { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() });
      if (p.name !== 'aws') throw new Error('not aws');`);
    expect(sdksIn(urls)).toEqual(['aws']);
    // The agent's EC2 client is our own Query client: the SDK's EC2 client (test-side) is never loaded.
    expect(urls.filter((u) => u.includes('/node_modules/@aws-sdk/client-ec2/'))).toEqual([]);
  });

  it('building the Azure provider loads the Azure SDKs and no other cloud SDK', () => {
    const urls = loaded(`
      const { createProvider } = await import(root + 'src/agent/provider-factory.ts');
      const { configSchema } = await import(root + 'src/config/schema.ts');
      const { noopMetrics } = await import(root + 'src/metrics/metrics.ts');
      const { silentLogger } = await import(root + 'src/util/logger.ts');
      const { FakeClock } = await import(root + 'src/util/clock.ts');
      const p = await createProvider(configSchema.parse({ provider: { name: 'azure' } }), { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() });
      if (p.name !== 'azure') throw new Error('not azure');`);
    expect(sdksIn(urls)).toEqual(['azure']);
  });

  it('the pool core and the fake provider load no cloud SDK', () => {
    const urls = loaded(`
      await import(root + 'src/ipam/pool-manager.ts');
      await import(root + 'providers/fake/fake-provider.ts');`);
    expect(urls.some((u) => u.endsWith('/src/ipam/pool-manager.ts'))).toBe(true);
    expect(sdksIn(urls)).toEqual([]);
  });
});
