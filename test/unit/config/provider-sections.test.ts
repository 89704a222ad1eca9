// One config section per provider, chosen by provider.name; the AWS VPC CNI aliases keep
// working on AWS and do not break another cloud's node; a cloud not implemented yet is a
// clear CONFIG_INVALID when the agent builds its provider.
import { describe, expect, it } from '@jest/globals';
import { createProvider } from '../../../src/agent/provider-factory.ts';
import { loadConfig, renderEffectiveConfig } from '../../../src/config/load.ts';
import { configFields } from '../../../src/config/fields.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { noopMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { silentLogger } from '../../../src/util/logger.ts';

function problems(fn: () => unknown): Array<{ path: string; source: string; message: string }> {
  try {
    fn();
  } catch (err) {
    expect((err as VpcnetError).code).toBe('CONFIG_INVALID');
    return (err as VpcnetError).details.problems as Array<{ path: string; source: string; message: string }>;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('provider sections', () => {
  it('a section without a name is AWS, with its defaults', () => {
    const { config } = loadConfig({ env: { AWS_REGION: 'eu-west-1', VPCNET_SUBNET_IDS: 'subnet-a,subnet-b' } });
    expect(config.provider).toEqual({ name: 'aws', region: 'eu-west-1', subnetIds: ['subnet-a', 'subnet-b'], subnetTags: {}, securityGroups: [], requestTimeoutMs: 10000, throttleMaxSpacingMs: 120000, nicFullCheckMs: 3600000, nicFullCheckMaxMs: 7200000 });
  });

  it('the EC2 throttle spacing and the full NIC check are set from the environment, within bounds', () => {
    const { config } = loadConfig({ env: { VPCNET_EC2_THROTTLE_MAX_SPACING_MS: '180000', VPCNET_NIC_FULL_CHECK_MS: '1800000', VPCNET_NIC_FULL_CHECK_MAX_MS: '3600000' } });
    expect(config.provider).toMatchObject({ throttleMaxSpacingMs: 180000, nicFullCheckMs: 1800000, nicFullCheckMaxMs: 3600000 });
    expect(problems(() => loadConfig({ env: { VPCNET_EC2_THROTTLE_MAX_SPACING_MS: '1000' } }))).toEqual([expect.objectContaining({ path: 'provider.throttleMaxSpacingMs', source: 'env:VPCNET_EC2_THROTTLE_MAX_SPACING_MS' })]);
  });

  it('azure and gcp sections hold their own keys and defaults', () => {
    const az = loadConfig({ env: { VPCNET_PROVIDER: 'azure', VPCNET_AZURE_SUBSCRIPTION_ID: 'sub-1', VPCNET_CLOUD_TIMEOUT_MS: '5000' } }).config.provider;
    expect(az).toEqual({ name: 'azure', subscriptionId: 'sub-1', lroPollMs: 1000, requestTimeoutMs: 5000 });
    const gcp = configSchema.parse({ provider: { name: 'gcp', project: 'p', secondaryRangeName: 'pods' } }).provider;
    expect(gcp).toEqual({ name: 'gcp', project: 'p', secondaryRangeName: 'pods', rangeMode: 'alias-ip', rangePrefixLength: 24, routePriority: 1000, requestTimeoutMs: 10000 });
  });

  it("a key of another cloud's section is an error, never ignored", () => {
    expect(configSchema.safeParse({ provider: { name: 'azure', subnetTags: { a: 'b' } } }).success).toBe(false);
    const p = problems(() => loadConfig({ env: { VPCNET_PROVIDER: 'gcp', VPCNET_AZURE_RESOURCE_GROUP: 'rg' } }));
    expect(p).toEqual([expect.objectContaining({ path: 'provider.resourceGroup', source: 'env:VPCNET_AZURE_RESOURCE_GROUP', message: expect.stringMatching(/azure only; provider.name is gcp/) })]);
    expect(problems(() => loadConfig({ env: { VPCNET_PROVIDER: 'openstack' } }))[0]?.path).toBe('provider.name');
  });

  it("an AWS alias variable set on another cloud's node is left alone (AWS_REGION is common in images)", () => {
    const { config } = loadConfig({ env: { VPCNET_PROVIDER: 'gcp', AWS_REGION: 'us-east-1' } });
    expect(config.provider.name).toBe('gcp');
  });

  it('the effective config and the reference show each key once, scoped to its provider', () => {
    const keys = configFields().map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(configFields().find((f) => f.key === 'provider.region')?.providers).toEqual(['aws']);
    expect(configFields().find((f) => f.key === 'provider.apiEndpoint')?.providers).toBeUndefined();
    const text = renderEffectiveConfig(loadConfig({ env: { VPCNET_PROVIDER: 'azure' } }));
    expect(text).toContain('provider.lroPollMs = 1000');
    expect(text).not.toContain('provider.subnetTags');
  });

  it('gcp builds the GCE provider through the registry (no cloud call until discover)', async () => {
    const p = await createProvider(configSchema.parse({ provider: { name: 'gcp' } }), { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() });
    expect(p.name).toBe('gcp');
    expect(p.nicLifecycle).toBeUndefined();
    expect(p.leakedNics).toBeUndefined();
  });

  it('azure builds the Azure provider through the registry (no cloud call until discover)', async () => {
    const p = await createProvider(configSchema.parse({ provider: { name: 'azure' } }), { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() });
    expect(p.name).toBe('azure');
    expect(p.nicLifecycle).toBeUndefined();
    expect(p.leakedNics).toBeUndefined();
  });

  it('azure workload identity without its tenant, client id or token file is a clear CONFIG_INVALID', async () => {
    const config = configSchema.parse({ provider: { name: 'azure', identity: 'workload', tenantId: 't' } });
    const err = await createProvider(config, { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', details: { path: 'provider' } });
  });

  it('aws builds the AWS provider through the registry', async () => {
    const p = await createProvider(configSchema.parse({}), { clock: new FakeClock(), metrics: noopMetrics, logger: silentLogger() });
    expect(p.name).toBe('aws');
    expect(p.nicLifecycle).toBeDefined();
  });
});
