// NodeNetworkConfig (vpcnet.io/v1alpha1, cluster-scoped): subnet and security groups for
// the secondary NICs of some nodes (the AWS "custom networking" case). A node picks one by
// label or annotation vpcnet.io/network-config=<name>; otherwise the one whose spec.zone is
// the node's topology.kubernetes.io/zone. Changes apply to NICs created afterwards.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import type { Backoff } from '../../providers/kit/retry.ts';
import type { KubeClient, KubeNode, NodeNetworkConfig, NodeNetworkConfigSpec } from './kube-client.ts';
import { ZONE_LABEL } from './node-identity.ts';
import { Reflector } from './reflector.ts';

export const NETWORK_CONFIG_KEY = 'vpcnet.io/network-config';

export type EffectiveNetworkConfig =
  | { source: 'selected' | 'zone'; name: string; spec: NodeNetworkConfigSpec }
  /** No config applies: secondary NICs use the primary NIC's subnet and security groups. */
  | { source: 'none' }
  /** The node names a config that does not exist: do not guess; hold NIC creation. */
  | { source: 'missing'; name: string };

type NodeSelectors = Pick<KubeNode, 'labels' | 'annotations'>;

/** Pure resolution. Several configs for one zone: the first by name wins (deterministic on every node). */
export function resolveNetworkConfig(node: NodeSelectors, configs: Iterable<NodeNetworkConfig>): EffectiveNetworkConfig {
  const all = [...configs].sort((a, b) => a.name.localeCompare(b.name));
  const selected = node.labels[NETWORK_CONFIG_KEY] ?? node.annotations[NETWORK_CONFIG_KEY];
  if (selected) {
    const c = all.find((x) => x.name === selected);
    return c ? { source: 'selected', name: c.name, spec: c.spec } : { source: 'missing', name: selected };
  }
  const zone = node.labels[ZONE_LABEL];
  const byZone = zone ? all.find((x) => x.spec.zone === zone) : undefined;
  return byZone ? { source: 'zone', name: byZone.name, spec: byZone.spec } : { source: 'none' };
}

export interface NetworkConfigWatcherOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  backoff?: Backoff;
  watchTimeoutSeconds?: number;
}

export class NetworkConfigWatcher {
  private readonly reflector: Reflector<NodeNetworkConfig>;
  private node: NodeSelectors | undefined;
  private currentValue: EffectiveNetworkConfig | undefined;
  private readonly listeners: ((c: EffectiveNetworkConfig) => void)[] = [];
  private readonly opts: NetworkConfigWatcherOptions;

  constructor(opts: NetworkConfigWatcherOptions) {
    this.opts = opts;
    const timeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    this.reflector = new Reflector<NodeNetworkConfig>(
      {
        list: () => opts.client.listNetworkConfigs(),
        watch: (resourceVersion, onEvent) =>
          opts.client.watchNetworkConfigs({ resourceVersion, allowBookmarks: true, timeoutSeconds }, onEvent),
      },
      (c) => c.name,
      (c) => c.resourceVersion,
      {
        clock: opts.clock,
        logger: opts.logger.child({ component: 'network-config' }),
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      },
    );
    this.reflector.onChange(() => this.reresolve());
  }

  /** Starts watching; `node` is this node's labels/annotations (refresh with setNode). */
  start(node: NodeSelectors): void {
    this.node = node;
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** Call when the node's labels or annotations change. */
  setNode(node: NodeSelectors): void {
    this.node = node;
    this.reresolve();
  }

  get synced(): boolean {
    return this.reflector.synced;
  }

  /** The effective config; undefined until the first list. */
  current(): EffectiveNetworkConfig | undefined {
    return this.currentValue;
  }

  /** Called with the new effective config whenever it changes (also the first time). */
  onChange(listener: (c: EffectiveNetworkConfig) => void): void {
    this.listeners.push(listener);
  }

  private reresolve(): void {
    if (!this.reflector.synced || !this.node) return;
    const next = resolveNetworkConfig(this.node, this.reflector.items().values());
    if (JSON.stringify(next) === JSON.stringify(this.currentValue)) return;
    this.currentValue = next;
    this.opts.logger.info({ config: next }, 'effective network config changed');
    for (const l of this.listeners) l(next);
  }
}
