// The AWS provider as the agent's composition root builds it from the config (registry entry).
import type { VpcnetConfig } from '../../src/config/schema.ts';
import { VpcnetError } from '../../src/errors.ts';
import type { CloudProvider } from '../provider.ts';
import type { ProviderDeps } from '../registry.ts';
import { AwsProvider } from './client/aws-provider.ts';

export function createProvider(config: VpcnetConfig, deps: ProviderDeps): CloudProvider {
  const p = config.provider;
  if (p.name !== 'aws') throw new VpcnetError('CONFIG_INVALID', `the AWS provider got a ${p.name} section`, { details: { path: 'provider.name' } });
  return new AwsProvider({
    clusterName: config.clusterName,
    ...(p.region ? { region: p.region } : {}),
    ...(p.apiEndpoint ? { ec2Endpoint: p.apiEndpoint } : {}),
    ...(p.metadataEndpoint ? { metadataEndpoint: p.metadataEndpoint } : {}),
    ...(p.subnetIds.length ? { subnetIds: p.subnetIds } : {}),
    ...(Object.keys(p.subnetTags).length ? { subnetTags: p.subnetTags } : {}),
    ...(p.securityGroups.length ? { securityGroups: p.securityGroups } : {}),
    prefixDelegation: config.pool.prefixDelegation,
    timeouts: { requestMs: p.requestTimeoutMs },
    throttleMaxIntervalMs: p.throttleMaxSpacingMs,
    nicState: { fullCheckMs: p.nicFullCheckMs, fullCheckMaxMs: p.nicFullCheckMaxMs },
    ...(deps.credentials ? { credentials: deps.credentials } : {}),
    clock: deps.clock,
    metrics: deps.metrics,
    logger: deps.logger,
  });
}
