// The GCE provider as the agent's composition root builds it from the config (registry entry).
import type { VpcnetConfig } from '../../src/config/schema.ts';
import { VpcnetError } from '../../src/errors.ts';
import type { CloudProvider } from '../provider.ts';
import type { ProviderDeps } from '../registry.ts';
import { SdkComputeApi } from './client/compute-api.ts';
import { GcpProvider, ROUTE_SWEEP_LEASE, routeSweepLeaseMs } from './client/gcp-provider.ts';
import { MetadataClient } from './client/metadata-client.ts';

export function createProvider(config: VpcnetConfig, deps: ProviderDeps): CloudProvider {
  const p = config.provider;
  if (p.name !== 'gcp') throw new VpcnetError('CONFIG_INVALID', `the GCE provider got a ${p.name} section`, { details: { path: 'provider.name' } });
  const metadata = new MetadataClient({ ...(p.metadataEndpoint ? { endpoint: p.metadataEndpoint } : {}), timeoutMs: p.requestTimeoutMs, now: () => deps.clock.now() });
  const logger = deps.logger.child({ provider: 'gcp' });
  let api: SdkComputeApi | undefined;
  const lazyApi = async (): Promise<SdkComputeApi> => {
    // the project comes from the metadata server unless configured
    api ??= new SdkComputeApi({
      project: p.project ?? (await metadata.projectId()),
      ...(p.apiEndpoint ? { endpoint: p.apiEndpoint } : {}),
      metadata,
      clock: deps.clock,
      requestTimeoutMs: p.requestTimeoutMs,
    });
    return api;
  };
  return new GcpProvider({
    clusterName: config.clusterName,
    api: {
      getInstance: async (...a) => (await lazyApi()).getInstance(...a),
      setAliasRanges: async (...a) => (await lazyApi()).setAliasRanges(...a),
      getSubnetwork: async (...a) => (await lazyApi()).getSubnetwork(...a),
      insertRoute: async (...a) => (await lazyApi()).insertRoute(...a),
      deleteRoute: async (...a) => (await lazyApi()).deleteRoute(...a),
      getRoute: async (...a) => (await lazyApi()).getRoute(...a),
      listRoutes: async (...a) => (await lazyApi()).listRoutes(...a),
    },
    metadata,
    clock: deps.clock,
    logger,
    rangeMode: p.rangeMode === 'route' ? 'route' : 'alias-ip',
    ...(p.project ? { project: p.project } : {}),
    ...(p.secondaryRangeName ? { secondaryRangeName: p.secondaryRangeName } : {}),
    rangePrefixLength: p.rangePrefixLength,
    ...(p.podCidr ? { podCidr: p.podCidr } : {}),
    ...(p.clusterCidr ? { clusterCidr: p.clusterCidr } : {}),
    routePriority: p.routePriority,
    routeSweepIntervalMs: config.reconcile.intervalMs,
    // With Kubernetes: the stale-route sweep under a Lease, the range from Node.spec.podCIDR
    ...(deps.cluster
      ? {
          sweepGate: deps.cluster.lock(ROUTE_SWEEP_LEASE, routeSweepLeaseMs(config.reconcile.intervalMs)),
          nodePodCidrs: (o?: { fresh?: boolean }) => deps.cluster?.nodePodCidrs(o) ?? Promise.resolve(undefined),
        }
      : {}),
  });
}
