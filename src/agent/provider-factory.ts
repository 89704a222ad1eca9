// Builds the CloudProvider the config names. The only place that knows every provider.
import type { Logger } from 'pino';
import type { CloudProvider } from '../../providers/provider.ts';
import { AwsProvider } from '../../providers/aws/client/aws-provider.ts';
import type { VpcnetConfig } from '../config/schema.ts';
import { VpcnetError } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock } from '../util/clock.ts';

export interface ProviderDeps {
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Fixed credentials (the demo and tests against emulators); default: the SDK's chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createProvider(config: VpcnetConfig, deps: ProviderDeps): CloudProvider {
  const p = config.provider;
  switch (p.name) {
    case 'aws':
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
        ...(deps.credentials ? { credentials: deps.credentials } : {}),
        clock: deps.clock,
        metrics: deps.metrics,
        logger: deps.logger,
      });
    default:
      throw new VpcnetError('CONFIG_INVALID', `provider "${p.name}" is not available in this release (only aws)`, {
        details: { path: 'provider.name', value: p.name },
      });
  }
}
