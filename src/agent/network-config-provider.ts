// A CloudProvider decorator that puts new NICs where this node's NodeNetworkConfig says
// (subnet, security groups), so the pure pool never learns about Kubernetes. Only attachNic
// changes; a node that names a config which does not exist gets no new NICs at all: guessing
// a subnet would put pods where the user said they must not be.
import type {
  AssignRequest,
  AttachNicRequest,
  CloudBlock,
  CloudNic,
  CloudProvider,
  LeakedNic,
  NodeInfo,
  NodeLimits,
  ProviderName,
  ReleaseRequest,
} from '../../providers/provider.ts';
import { VpcnetError } from '../errors.ts';
import type { EffectiveNetworkConfig } from '../k8s/network-config.ts';

export interface NetworkConfigSource {
  /** The effective config for the next NIC; undefined = unknown (use the static config). May wait. */
  forNextNic(): Promise<EffectiveNetworkConfig | undefined>;
  /** Told when NIC creation is refused (the agent records a node event). */
  onRefused(err: VpcnetError): void;
}

export class NetworkConfigProvider implements CloudProvider {
  private readonly inner: CloudProvider;
  private readonly source: NetworkConfigSource;

  constructor(inner: CloudProvider, source: NetworkConfigSource) {
    this.inner = inner;
    this.source = source;
  }

  get name(): ProviderName {
    return this.inner.name;
  }

  async attachNic(req: AttachNicRequest): Promise<CloudNic> {
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
      return this.inner.attachNic({ ...req, subnetId: cfg.spec.subnetId, ...(groups.length > 0 ? { securityGroups: groups } : {}) });
    }
    return this.inner.attachNic(req);
  }

  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return this.inner.discover();
  }

  listNics(): Promise<CloudNic[]> {
    return this.inner.listNics();
  }

  detachNic(nicId: string): Promise<void> {
    return this.inner.detachNic(nicId);
  }

  assign(req: AssignRequest): Promise<CloudBlock[]> {
    return this.inner.assign(req);
  }

  release(req: ReleaseRequest): Promise<void> {
    return this.inner.release(req);
  }

  findLeakedNics(graceMs: number): Promise<LeakedNic[]> {
    return this.inner.findLeakedNics(graceMs);
  }

  deleteNic(nicId: string): Promise<void> {
    return this.inner.deleteNic(nicId);
  }
}
