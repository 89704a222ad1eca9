// Builds the CloudProvider the config names, through the registry: only the chosen cloud's
// module (and so its SDK) is loaded.
import type { CloudProvider, NodeInfo, NodeLimits } from '../../providers/provider.ts';
import { CLOUDS, availableClouds, isAvailableCloud, type ProviderDeps } from '../../providers/registry.ts';
import type { VpcnetConfig } from '../config/schema.ts';
import { VpcnetError } from '../errors.ts';

export type { ProviderDeps } from '../../providers/registry.ts';

/**
 * Pods this node can run, as `vpcnet max-pods` computes it for its type and mode (AWS: the
 * max-pods calculator's rules), capped by pool.maxPods; published on the Node for tooling.
 */
export async function nodeMaxPods(config: VpcnetConfig, node: NodeInfo, limits: NodeLimits): Promise<number> {
  const name = config.provider.name;
  const computed = isAvailableCloud(name) ? (await CLOUDS[name].maxPods()).forNode(node.instanceType, limits, config.pool.prefixDelegation) : limits.maxPods;
  return Math.min(computed, config.pool.maxPods ?? Number.POSITIVE_INFINITY);
}

export async function createProvider(config: VpcnetConfig, deps: ProviderDeps): Promise<CloudProvider> {
  const name = config.provider.name;
  if (!isAvailableCloud(name)) {
    throw new VpcnetError('CONFIG_INVALID', `provider "${name}" is not implemented in this release (available: ${availableClouds().join(', ')})`, {
      details: { path: 'provider.name', value: name, available: availableClouds() },
    });
  }
  const module = await CLOUDS[name].provider();
  return module.createProvider(config, deps);
}
