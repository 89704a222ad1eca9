// A CloudProvider decorator that applies this node's NodeNetworkConfig (subnet, security
// groups), so the pure pool never learns about Kubernetes. It decorates by capability and
// exposes exactly the capabilities of the provider it wraps (the pool and reconciler detect
// them, so a wrapper that claimed more would make them plan what the cloud cannot do):
// - NIC lifecycle: new NICs go where the config says; a node that names a config which does
//   not exist gets no new NICs at all (guessing a subnet would put pods where the user said
//   they must not be).
// - No NIC lifecycle (Azure- and GCE-shaped nodes): addresses come from the NIC the node
//   has, so a config naming another subnet cannot be applied; the first assign while such a
//   config is in force is reported once (node event), and the assign goes on.
// - Leaked-NIC clean-up: passed through.
import type {
  AssignRequest,
  AttachNicRequest,
  CloudBlock,
  CloudNic,
  CloudProvider,
  LeakedNicCleanup,
  NicLifecycle,
  NodeInfo,
  NodeLimits,
  ProviderName,
  ReleaseRequest,
  ListNicsOptions,
} from '../../providers/provider.ts';
import { VpcnetError } from '../errors.ts';
import type { EffectiveNetworkConfig } from '../k8s/network-config.ts';

export interface NetworkConfigSource {
  /** The effective config for the next NIC; undefined = unknown (use the static config). May wait. */
  forNextNic(): Promise<EffectiveNetworkConfig | undefined>;
  /** The effective config known now, without waiting; undefined = not known yet. */
  current?(): EffectiveNetworkConfig | undefined;
  /** Told when the config is refused or cannot be applied (the agent records a node event). */
  onRefused(err: VpcnetError): void;
}

export class NetworkConfigProvider implements CloudProvider {
  readonly nicLifecycle?: NicLifecycle;
  readonly leakedNics?: LeakedNicCleanup;
  private readonly inner: CloudProvider;
  private readonly source: NetworkConfigSource;
  /** Name of the config already reported as not applicable (no NIC lifecycle). */
  private reportedUnapplied: string | undefined;

  constructor(inner: CloudProvider, source: NetworkConfigSource) {
    this.inner = inner;
    this.source = source;
    const lifecycle = inner.nicLifecycle;
    if (lifecycle) {
      this.nicLifecycle = { attachNic: (req) => this.attachNic(lifecycle, req), detachNic: (id) => lifecycle.detachNic(id) };
    }
    if (inner.leakedNics) this.leakedNics = inner.leakedNics;
  }

  get name(): ProviderName {
    return this.inner.name;
  }

  private async attachNic(lifecycle: NicLifecycle, req: AttachNicRequest): Promise<CloudNic> {
    const cfg = await this.source.forNextNic();
    if (cfg?.source === 'missing') {
      const err = new VpcnetError(
        'CONFIG_INVALID',
        `node selects NodeNetworkConfig "${cfg.name}", which does not exist; no new NICs until it does or the selection is removed`,
        { details: { networkConfig: cfg.name } },
      );
      this.source.onRefused(err);
      throw err;
    }
    if (cfg?.source === 'selected' || cfg?.source === 'zone') {
      const groups = cfg.spec.securityGroupIds;
      return lifecycle.attachNic({ ...req, subnetId: cfg.spec.subnetId, ...(groups.length > 0 ? { securityGroups: groups } : {}) });
    }
    return lifecycle.attachNic(req);
  }

  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return this.inner.discover();
  }

  listNics(opts?: ListNicsOptions): Promise<CloudNic[]> {
    return this.inner.listNics(opts);
  }

  async assign(req: AssignRequest): Promise<CloudBlock[]> {
    if (!this.nicLifecycle) await this.reportUnapplied();
    return this.inner.assign(req);
  }

  release(req: ReleaseRequest): Promise<void> {
    return this.inner.release(req);
  }

  private async reportUnapplied(): Promise<void> {
    const cfg = this.source.current?.();
    if (cfg?.source !== 'selected' && cfg?.source !== 'zone') return;
    if (this.reportedUnapplied === cfg.name) return;
    const { node } = await this.inner.discover();
    if (cfg.spec.subnetId === node.primarySubnetId) return;
    this.reportedUnapplied = cfg.name;
    this.source.onRefused(
      new VpcnetError(
        'CONFIG_INVALID',
        `NodeNetworkConfig "${cfg.name}" names subnet ${cfg.spec.subnetId}, but ${this.inner.name} nodes cannot attach NICs: addresses come from the node's own subnet ${node.primarySubnetId}`,
        { details: { networkConfig: cfg.name, subnetId: cfg.spec.subnetId, nodeSubnetId: node.primarySubnetId } },
      ),
    );
  }
}
