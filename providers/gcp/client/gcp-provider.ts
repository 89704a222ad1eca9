// The GCE provider: one pod range per node, routed by the VPC either as an alias IP range on
// nic0 (VPC-native, as GKE) or as a route with the instance as next hop. Pod addresses are then
// handed out locally by the pool; the cloud is asked only for the range.
import { withUrgency } from '../../kit/urgency.ts';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { formatCidr, parseCidr, tryParseCidr } from '../../../src/util/ip.ts';
import type { AssignRequest, CloudBlock, CloudNic, CloudProvider, ClusterServices, NodeInfo, NodeLimits, ProviderCondition, ReleaseRequest, ListNicsOptions } from '../../provider.ts';
import { maxPodsForRange } from '../limits.ts';
import type { AliasRangeView, ComputeApi, InstanceView, NicView, RouteView } from './compute-api.ts';
import type { InstanceMetadata, MetadataClient } from './metadata-client.ts';
import { DEFAULT_RETRY, retrying, type RetryPolicy } from './retry.ts';

export type RangeMode = 'alias-ip' | 'route';

export interface GcpCondition extends ProviderCondition {
  type: 'NextHopCannotIpForward' | 'PodCidrMismatch';
}

/** Decides whether this agent may delete other nodes' stale routes now (one agent at a time). */
export interface SweepGate {
  tryAcquire(): Promise<boolean>;
}

/** The Lease (with Kubernetes) whose holder sweeps the cluster's stale routes. */
export const ROUTE_SWEEP_LEASE = 'vpcnet-gcp-route-sweep';

/** The sweep lease outlives a few sweep periods, so a live holder keeps it between sweeps. */
export function routeSweepLeaseMs(sweepIntervalMs: number): number {
  return Math.max(3 * sweepIntervalMs, 60_000);
}

export interface GcpProviderOptions {
  clusterName: string;
  api: ComputeApi;
  metadata: MetadataClient;
  clock: Clock;
  logger: Logger;
  rangeMode: RangeMode;
  /** Project override; default: the metadata server's. */
  project?: string;
  /** Alias mode: secondary range the pod range comes from; default: the subnet's first. */
  secondaryRangeName?: string;
  rangePrefixLength: number;
  /** The node's pod range when it is fixed by configuration (provider.podCidr); wins over Node.spec.podCIDR. */
  podCidr?: string;
  /** Node.spec.podCIDRs from the API server (with Kubernetes): the range when podCidr is not configured. */
  nodePodCidrs?: ClusterServices['nodePodCidrs'];
  /** Route mode without a fixed range: ranges are carved from this CIDR (self-managed clusters). */
  clusterCidr?: string;
  routePriority?: number;
  /** Stale-route sweep at most this often (piggybacks on listNics). 0 = never. */
  routeSweepIntervalMs?: number;
  sweepGate?: SweepGate;
  /** Stale fingerprints (412) tolerated in a row before giving up. */
  maxFingerprintRetries?: number;
  retry?: RetryPolicy;
  random?: () => number;
  onCondition?: (c: GcpCondition) => void;
}

interface Identity {
  meta: InstanceMetadata;
  project: string;
  region: string;
  networkName: string;
  networkLink: string;
  subnetName: string;
  subnetCidr: string;
  secondary: { rangeName: string; ipCidrRange: string }[];
  rangeName: string | undefined;
  selfLink: string;
}

export class GcpProvider implements CloudProvider {
  readonly name = 'gcp' as const;
  private readonly o: GcpProviderOptions;
  private readonly random: () => number;
  private identity: Identity | undefined;
  private lastSweep = 0;
  /** The last instance read and when: an assign right after listNics reuses it (a stale fingerprint costs a 412 and a re-read, never a wrong write). */
  private recent: { at: number; inst: InstanceView } | undefined;
  private readonly raised = new Map<GcpCondition['type'], GcpCondition>();
  private overrideNoted = '';

  constructor(opts: GcpProviderOptions) {
    this.o = opts;
    this.random = opts.random ?? Math.random;
    if (opts.podCidr !== undefined && !tryParseCidr(opts.podCidr)) {
      throw new VpcnetError('CONFIG_INVALID', `pod range "${opts.podCidr}" is not a network CIDR`, { details: { path: 'provider.podCidr' } });
    }
  }

  /** Conditions users should see (e.g. a route whose next hop cannot forward). */
  currentConditions(): GcpCondition[] {
    return [...this.raised.values()];
  }

  conditions(): GcpCondition[] {
    return this.currentConditions();
  }

  /** Start-up: urgent (kit/urgency.ts). */
  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return withUrgency(true, () => this.discoverNow());
  }

  private async discoverNow(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    const id = await this.ident();
    const nic0 = id.meta.nics[0];
    if (!nic0) throw new VpcnetError('METADATA_UNREACHABLE', 'GCE metadata lists no network interface');
    const rangeCidrs = id.secondary.map((r) => r.ipCidrRange);
    const node: NodeInfo = {
      provider: 'gcp',
      instanceId: id.meta.id,
      instanceType: id.meta.machineType,
      region: id.region,
      zone: id.meta.zone,
      networkId: id.networkName,
      vpcCidrs: [id.subnetCidr, ...rangeCidrs, ...(this.o.clusterCidr ? [this.o.clusterCidr] : [])],
      primaryNicId: 'nic0',
      primaryIp: nic0.ip,
      primarySubnetId: id.subnetName,
      mtu: nic0.mtu,
    };
    const fixed = await this.fixedRange(true);
    const len = fixed ? parseCidr(fixed.cidr).prefixLength : this.o.rangePrefixLength;
    const limits: NodeLimits = { maxNics: 1, addressesPerNic: 1, blockKinds: ['range'], prefixLength: len, maxPods: maxPodsForRange(len) };
    return { node, limits };
  }

  listNics(opts: ListNicsOptions = {}): Promise<CloudNic[]> {
    return withUrgency(opts.urgent, () => this.listNicsNow());
  }

  private async listNicsNow(): Promise<CloudNic[]> {
    const id = await this.ident();
    const inst = await this.getInstance(id);
    const nic = primary(inst);
    let blocks: CloudBlock[];
    if (this.o.rangeMode === 'alias-ip') {
      blocks = this.ourAliases(id, nic).map((r) => ({ kind: 'range', cidr: r.ipCidrRange, ref: r.subnetworkRangeName ?? '', state: 'ready' }));
      this.noteRangeMatch(id, await this.fixedRange(false), blocks, `nic0 of instance ${id.meta.name} holds the alias range`);
    } else {
      const mine = await this.myRoutes(id);
      blocks = mine.map((r) => ({ kind: 'range', cidr: r.destRange, ref: r.name, state: 'ready' }));
      this.noteForwarding(mine);
      this.noteRangeMatch(id, await this.fixedRange(false), blocks, `the cluster's routes to instance ${id.meta.name} carry`);
      await this.maybeSweep(id);
    }
    return [
      {
        id: 'nic0',
        deviceIndex: 0,
        mac: id.meta.nics[0]?.mac ?? '',
        subnetId: id.subnetName,
        subnetCidr: id.subnetCidr,
        primaryIp: nic.networkIP,
        securityGroups: [],
        blocks,
        ...(id.meta.nics[0] ? { mtu: id.meta.nics[0].mtu } : {}),
      },
    ];
  }

  assign(req: AssignRequest): Promise<CloudBlock[]> {
    return withUrgency(req.urgent, () => this.assignNow(req));
  }

  private async assignNow(req: AssignRequest): Promise<CloudBlock[]> {
    const id = await this.ident();
    if (req.nicId !== 'nic0') throw new VpcnetError('CLOUD_NOT_FOUND', `GCE nodes hold their pod range on nic0, not "${req.nicId}"`, { details: { nicId: req.nicId } });
    if (req.kind !== 'range') throw new VpcnetError('CLOUD_BAD_REQUEST', `GCE nodes take one pod range, not "${req.kind}" blocks`, { details: { kind: req.kind } });
    const len = req.prefixLength ?? this.o.rangePrefixLength;
    const out: CloudBlock[] = [];
    for (let i = 0; i < req.count; i++) {
      try {
        out.push(this.o.rangeMode === 'alias-ip' ? await this.addAlias(id, len) : await this.addRoute(id, len));
      } catch (err) {
        if (out.length) return out; // partial success is reported, the error comes back on the next try
        throw err;
      }
    }
    return out;
  }

  async release(req: ReleaseRequest): Promise<void> {
    const id = await this.ident();
    if (req.nicId !== 'nic0' || req.blocks.length === 0) return;
    if (this.o.rangeMode === 'alias-ip') return this.removeAliases(id, req.blocks.map((b) => b.cidr));
    for (const b of req.blocks) {
      const name = b.ref || routeName(this.o.clusterName, id.networkName, b.cidr);
      const route = await this.getRouteOrUndefined(name);
      if (!route || !sameInstance(route.nextHopInstance, id.selfLink) || route.destRange !== b.cidr) continue;
      await this.deleteRoute(name);
    }
  }

  // ---- alias mode -------------------------------------------------------------------------

  private ourAliases(id: Identity, nic: NicView): AliasRangeView[] {
    return nic.aliasIpRanges.filter((r) => r.subnetworkRangeName !== undefined && (id.rangeName === undefined || r.subnetworkRangeName === id.rangeName));
  }

  private async addAlias(id: Identity, len: number): Promise<CloudBlock> {
    if (!id.rangeName) {
      throw new VpcnetError('CONFIG_INVALID', `subnetwork ${id.subnetName} has no secondary range for alias IP ranges; create one or use provider.rangeMode=route`, { details: { subnet: id.subnetName } });
    }
    const rangeName = id.rangeName;
    const cached = this.recent && this.o.clock.now() - this.recent.at < 10_000 ? this.recent.inst : undefined;
    const first = primary(cached ?? (await this.getInstance(id)));
    const before = new Set(first.aliasIpRanges.map((r) => r.ipCidrRange));
    // Node.spec.podCIDR (or configuration) names the range; else GCE picks a free aligned block
    const fixed = await this.fixedRange(true);
    if (fixed) this.checkInSecondary(id, fixed);
    const wantedCidr = fixed && !before.has(fixed.cidr) ? fixed.cidr : `/${len}`;
    const maxTries = this.o.maxFingerprintRetries ?? 8;
    let nic = first;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      const added = nic.aliasIpRanges.find((r) => !before.has(r.ipCidrRange) && r.subnetworkRangeName === rangeName);
      if (added) return this.aliasBlock(added); // an earlier try did apply (answer lost)
      const merged: AliasRangeView[] = [...nic.aliasIpRanges, { ipCidrRange: wantedCidr, subnetworkRangeName: rangeName }];
      try {
        await this.retry(() => this.o.api.setAliasRanges(id.meta.zone, id.meta.name, nic.name, nic.fingerprint, merged));
      } catch (err) {
        if (!isStaleFingerprint(err)) throw this.explainAliasError(err, id, wantedCidr);
        this.o.logger.debug({ attempt }, 'nic0 fingerprint changed; re-reading');
        nic = primary(await this.getInstance(id));
        continue;
      }
      nic = primary(await this.getInstance(id));
      const got = nic.aliasIpRanges.find((r) => !before.has(r.ipCidrRange) && r.subnetworkRangeName === rangeName);
      if (!got) throw new VpcnetError('INTERNAL', `GCE reported the alias update of nic0 DONE but no new range from ${rangeName} is on it`);
      return this.aliasBlock(got);
    }
    throw new VpcnetError('CLOUD_CONFLICT', `nic0 of ${id.meta.name} changed under us ${maxTries} times in a row (stale fingerprint, HTTP 412): another writer is updating its alias IP ranges`, {
      details: { instance: id.meta.name, attempts: maxTries },
    });
  }

  private aliasBlock(r: AliasRangeView): CloudBlock {
    return { kind: 'range', cidr: r.ipCidrRange, ref: r.subnetworkRangeName ?? '', state: 'ready' };
  }

  private explainAliasError(err: unknown, id: Identity, wanted: string): unknown {
    if (err instanceof VpcnetError && err.code === 'SUBNET_FULL') {
      return new VpcnetError('SUBNET_FULL', `secondary range ${id.rangeName ?? ''} of subnetwork ${id.subnetName} has no free aligned ${wanted.startsWith('/') ? wanted : wanted} block`, {
        cause: err,
        details: { ...err.details, secondaryRange: id.rangeName, subnet: id.subnetName },
      });
    }
    return err;
  }

  private async removeAliases(id: Identity, cidrs: string[]): Promise<void> {
    const maxTries = this.o.maxFingerprintRetries ?? 8;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      const nic = primary(await this.getInstance(id));
      const keep = nic.aliasIpRanges.filter((r) => !cidrs.includes(r.ipCidrRange));
      if (keep.length === nic.aliasIpRanges.length) return; // idempotent: none of them is there
      try {
        await this.retry(() => this.o.api.setAliasRanges(id.meta.zone, id.meta.name, nic.name, nic.fingerprint, keep));
        return;
      } catch (err) {
        if (!isStaleFingerprint(err)) throw err;
      }
    }
    throw new VpcnetError('CLOUD_CONFLICT', `nic0 of ${id.meta.name} changed under us ${maxTries} times in a row while releasing alias ranges`, { details: { cidrs } });
  }

  // ---- route mode -------------------------------------------------------------------------

  private async addRoute(id: Identity, len: number): Promise<CloudBlock> {
    const mine = await this.myRoutes(id);
    const fixed = (await this.fixedRange(true))?.cidr;
    // Blocks other nodes won since the list was read; the list is read again every few losses.
    let taken: string[] | undefined;
    const lost: string[] = [];
    for (let attempt = 0; attempt < 16; attempt++) {
      let dest: string;
      if (fixed && !mine.some((r) => r.destRange === fixed)) dest = fixed;
      else if (this.o.clusterCidr) {
        if (!taken || (lost.length > 0 && lost.length % 4 === 0)) taken = (await this.ourRoutes(id)).map((r) => r.destRange);
        const free = freeBlock(this.o.clusterCidr, len, [...taken, ...lost], instanceSeed(id.selfLink));
        if (!free) throw new VpcnetError('SUBNET_FULL', `cluster CIDR ${this.o.clusterCidr} has no free /${len} for a node route`, { details: { clusterCidr: this.o.clusterCidr } });
        dest = free;
      } else {
        throw new VpcnetError(
          'CONFIG_INVALID',
          this.o.nodePodCidrs
            ? 'route mode needs the node pod range: Node.spec.podCIDR is not set (yet), and neither provider.podCidr nor provider.clusterCidr is configured'
            : 'route mode needs the node pod range: provider.podCidr or provider.clusterCidr (Kubernetes is off, so Node.spec.podCIDR is not read)',
          { details: { path: 'provider.podCidr' } },
        );
      }
      const name = routeName(this.o.clusterName, id.networkName, dest);
      try {
        await this.retry(() =>
          this.o.api.insertRoute({
            name,
            network: id.networkLink,
            destRange: dest,
            priority: this.o.routePriority ?? 1000,
            nextHopInstance: id.selfLink,
            description: `vpcnet cluster=${this.o.clusterName} instance=${id.meta.name} pods`,
          }),
        );
      } catch (err) {
        if (!(err instanceof VpcnetError) || err.code !== 'CLOUD_CONFLICT') throw err;
        const existing = await this.getRouteOrUndefined(name);
        if (existing && !sameInstance(existing.nextHopInstance, id.selfLink)) {
          if (dest === fixed) {
            throw new VpcnetError('ADDRESS_CONFLICT', `route ${name} for ${dest} already points at ${existing.nextHopInstance ?? 'another next hop'}`, { details: { route: name, destRange: dest } });
          }
          lost.push(dest);
          continue; // another node won this block: pick the next one
        }
      }
      const route = await this.getRouteOrUndefined(name);
      if (!route) throw new VpcnetError('INTERNAL', `route ${name} inserted but not found`);
      this.noteForwarding([route]);
      return { kind: 'range', cidr: route.destRange, ref: route.name, state: 'ready' };
    }
    throw new VpcnetError('CLOUD_CONFLICT', 'lost the race for a free node range 16 times in a row', { details: { clusterCidr: this.o.clusterCidr } });
  }

  private noteForwarding(routes: RouteView[]): void {
    const bad = routes.find((r) => r.warnings.some((w) => w.code === 'NEXT_HOP_CANNOT_IP_FORWARD'));
    if (bad) {
      const c: GcpCondition = {
        type: 'NextHopCannotIpForward',
        message: `route ${bad.name} (${bad.destRange}): the instance has canIpForward=false, so GCE drops pod traffic it forwards; recreate the instance with --can-ip-forward`,
        notReady: true,
      };
      if (!this.raised.has(c.type)) {
        this.o.logger.warn({ route: bad.name, destRange: bad.destRange }, 'next hop cannot forward');
        this.o.onCondition?.(c);
      }
      this.raised.set(c.type, c);
    } else if (routes.length) this.raised.delete('NextHopCannotIpForward');
  }

  // ---- the node's pod range ---------------------------------------------------------------

  /**
   * The node's fixed pod range: provider.podCidr (an override, noted once when the Node says
   * otherwise), else the IPv4 range of Node.spec.podCIDRs; undefined when neither is known.
   * `fresh`: the Node may be read again when its range is not known yet.
   */
  private async fixedRange(fresh: boolean): Promise<{ cidr: string; source: string } | undefined> {
    const fromNode = (await this.o.nodePodCidrs?.({ fresh }))?.find((c) => tryParseCidr(c) !== undefined);
    const configured = this.o.podCidr;
    if (configured && fromNode && configured !== fromNode && this.overrideNoted !== fromNode) {
      this.overrideNoted = fromNode;
      this.o.logger.warn({ podCidr: configured, nodePodCidr: fromNode }, `provider.podCidr ${configured} overrides Node.spec.podCIDR ${fromNode}`);
    }
    if (configured) return { cidr: configured, source: 'provider.podCidr' };
    return fromNode ? { cidr: fromNode, source: 'Node.spec.podCIDR' } : undefined;
  }

  /** A fixed range outside the secondary range can never be an alias range of it: say so before asking GCE. */
  private checkInSecondary(id: Identity, fixed: { cidr: string; source: string }): void {
    const range = id.secondary.find((r) => r.rangeName === id.rangeName);
    const outer = range ? tryParseCidr(range.ipCidrRange) : undefined;
    const inner = parseCidr(fixed.cidr);
    if (!range || !outer || (inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size)) return;
    throw new VpcnetError(
      'CONFIG_INVALID',
      `${fixed.source} ${fixed.cidr} is not inside secondary range ${range.rangeName} (${range.ipCidrRange}) of subnetwork ${id.subnetName}: GCE cannot make it an alias range of nic0`,
      { details: { podCidr: fixed.cidr, source: fixed.source, secondaryRange: range.rangeName, secondaryRangeCidr: range.ipCidrRange } },
    );
  }

  /** Raises PodCidrMismatch while the cloud routes this node a range other than the fixed one. */
  private noteRangeMatch(id: Identity, fixed: { cidr: string; source: string } | undefined, blocks: CloudBlock[], where: string): void {
    if (!fixed || blocks.length === 0 || blocks.some((b) => b.cidr === fixed.cidr)) {
      this.raised.delete('PodCidrMismatch');
      return;
    }
    const held = blocks.map((b) => b.cidr).join(', ');
    const c: GcpCondition = {
      type: 'PodCidrMismatch',
      message: `${fixed.source} is ${fixed.cidr} but ${where} ${held}: pods get addresses from ${held} (what the VPC routes to this node); make ${fixed.source} and the cloud agree`,
    };
    if (this.raised.get(c.type)?.message !== c.message) {
      this.o.logger.warn({ podCidr: fixed.cidr, source: fixed.source, held, instance: id.meta.name }, 'pod range mismatch');
      this.o.onCondition?.(c);
    }
    this.raised.set(c.type, c);
  }

  private async ourRoutes(id: Identity): Promise<RouteView[]> {
    const prefix = routePrefix(this.o.clusterName);
    const all = await this.retry(() => this.o.api.listRoutes(`name eq "${prefix}-.*"`));
    return all.filter((r) => r.name.startsWith(`${prefix}-`) && r.network.endsWith(`/networks/${id.networkName}`));
  }

  /**
   * This node's routes only (filtered by next hop on the server), so a node's reconcile costs one
   * page whatever the cluster's size; the whole list is read by the sweep holder alone.
   */
  private async myRoutes(id: Identity): Promise<RouteView[]> {
    const prefix = routePrefix(this.o.clusterName);
    const hop = `.*/zones/${id.meta.zone}/instances/${id.meta.name}`;
    const routes = await this.retry(() => this.o.api.listRoutes(`(name eq "${prefix}-.*") (nextHopInstance eq "${hop}")`));
    return routes.filter((r) => r.name.startsWith(`${prefix}-`) && r.network.endsWith(`/networks/${id.networkName}`) && sameInstance(r.nextHopInstance, id.selfLink));
  }

  /** Deletes our routes whose next-hop instance is gone; one agent at a time (the gate). */
  private async maybeSweep(id: Identity): Promise<void> {
    const every = this.o.routeSweepIntervalMs ?? 0;
    const now = this.o.clock.now();
    if (every <= 0 || now - this.lastSweep < every) return;
    this.lastSweep = now;
    let routes: RouteView[] | undefined;
    let mine: boolean;
    try {
      // with a Lease, only its holder reads the cluster's routes; without one, every agent must
      if (!this.o.sweepGate) routes = await this.ourRoutes(id);
      mine = await (this.o.sweepGate ?? lowestLiveNextHop(routes ?? [], id.selfLink)).tryAcquire();
      if (mine) routes ??= await this.ourRoutes(id);
    } catch (err) {
      // the lease or the route list is unreachable: no sweep this time; the node's own routes are listed already
      this.o.logger.warn({ err }, 'stale routes not swept: the sweep lease or the route list could not be read');
      return;
    }
    if (!mine || !routes) return;
    const stale = routes.filter((r) => r.warnings.some((w) => w.code === 'NEXT_HOP_INSTANCE_NOT_FOUND'));
    for (const r of stale) {
      try {
        await this.deleteRoute(r.name);
        this.o.logger.info({ route: r.name, destRange: r.destRange }, 'deleted a route whose next hop is gone');
      } catch (err) {
        this.o.logger.warn({ err, route: r.name }, 'stale route not deleted');
      }
    }
  }

  /** Sweeps now, whatever the interval (tests, the scale bench). */
  async sweepStaleRoutes(): Promise<void> {
    const id = await this.ident();
    this.lastSweep = 0;
    const every = this.o.routeSweepIntervalMs;
    this.o.routeSweepIntervalMs = 1;
    try {
      await this.maybeSweep(id);
    } finally {
      if (every === undefined) delete this.o.routeSweepIntervalMs;
      else this.o.routeSweepIntervalMs = every;
    }
  }

  private async deleteRoute(name: string): Promise<void> {
    try {
      await this.retry(() => this.o.api.deleteRoute(name));
    } catch (err) {
      if (err instanceof VpcnetError && err.code === 'CLOUD_NOT_FOUND') return;
      throw err;
    }
  }

  private async getRouteOrUndefined(name: string): Promise<RouteView | undefined> {
    try {
      return await this.retry(() => this.o.api.getRoute(name));
    } catch (err) {
      if (err instanceof VpcnetError && err.code === 'CLOUD_NOT_FOUND') return undefined;
      throw err;
    }
  }

  // ---- identity -----------------------------------------------------------------------------

  private async getInstance(id: Identity): Promise<InstanceView> {
    const inst = await this.retry(() => this.o.api.getInstance(id.meta.zone, id.meta.name));
    this.recent = { at: this.o.clock.now(), inst };
    return inst;
  }

  private async ident(): Promise<Identity> {
    if (this.identity) return this.identity;
    const meta = await this.o.metadata.instance();
    const project = this.o.project ?? meta.projectId;
    const region = meta.zone.replace(/-[a-z]$/, '');
    const inst = await this.retry(() => this.o.api.getInstance(meta.zone, meta.name));
    this.recent = { at: this.o.clock.now(), inst };
    const nic = primary(inst);
    const subnetName = nic.subnetwork.slice(nic.subnetwork.lastIndexOf('/') + 1);
    const subnet = await this.retry(() => this.o.api.getSubnetwork(region, subnetName));
    let rangeName = this.o.secondaryRangeName;
    if (rangeName !== undefined && !subnet.secondaryIpRanges.some((r) => r.rangeName === rangeName)) {
      throw new VpcnetError('CONFIG_INVALID', `secondary range "${rangeName}" does not exist in subnetwork ${subnetName} (it has: ${subnet.secondaryIpRanges.map((r) => r.rangeName).join(', ') || 'none'})`, {
        details: { path: 'provider.secondaryRangeName', value: rangeName, subnet: subnetName },
      });
    }
    rangeName ??= subnet.secondaryIpRanges[0]?.rangeName;
    if (this.o.rangeMode === 'alias-ip' && rangeName === undefined) {
      throw new VpcnetError('CONFIG_INVALID', `subnetwork ${subnetName} has no secondary range: alias mode needs one (or use provider.rangeMode=route)`, { details: { subnet: subnetName } });
    }
    this.identity = {
      meta,
      project,
      region,
      networkName: nic.network.slice(nic.network.lastIndexOf('/') + 1),
      networkLink: nic.network,
      subnetName,
      subnetCidr: subnet.ipCidrRange,
      secondary: subnet.secondaryIpRanges,
      rangeName,
      selfLink: inst.selfLink,
    };
    return this.identity;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return retrying(this.o.clock, this.o.retry ?? DEFAULT_RETRY, this.random, fn);
  }
}

function primary(inst: InstanceView): NicView {
  const nic = inst.nics.find((n) => n.name === 'nic0') ?? inst.nics[0];
  if (!nic) throw new VpcnetError('CLOUD_NOT_FOUND', `instance ${inst.name} has no network interface`);
  return nic;
}

function isStaleFingerprint(err: unknown): boolean {
  if (!(err instanceof VpcnetError) || err.code !== 'CLOUD_CONFLICT') return false;
  const d = err.details as { httpStatus?: number; errors?: { code: string }[] };
  return d.httpStatus === 412 || d.errors?.[0]?.code === 'CONDITION_NOT_MET';
}

/** `zones/Z/instances/N` of any form of an instance link (v1 or beta, project id or number). */
function instanceTail(link: string): string {
  return /zones\/[^/]+\/instances\/[^/]+$/.exec(link)?.[0] ?? link;
}

function sameInstance(link: string | undefined, selfLink: string): boolean {
  return !!link && instanceTail(link) === instanceTail(selfLink);
}

function routePrefix(cluster: string): string {
  return `vpcnet-${cluster.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 20).replace(/-+$/, '')}`;
}

/**
 * The route's name: the cluster, then a hash of network and destination. One name per range,
 * so GCE itself refuses a second route for a range (two nodes racing for one block: one gets
 * RESOURCE_ALREADY_EXISTS); the instance, next hop and priority are in the route and its description.
 */
export function routeName(cluster: string, network: string, destRange: string): string {
  const h = createHash('sha256').update(`${network}|${destRange}`).digest('hex').slice(0, 12);
  return `${routePrefix(cluster)}-${destRange.replace(/[./]/g, '-')}-${h}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * A free /len of the cluster CIDR, scanning from a block chosen by `seed` (wrapping), so nodes
 * booting together try different blocks instead of all racing for the first free one, and a
 * node that comes back prefers the block it had.
 */
export function freeBlock(cluster: string, len: number, taken: string[], seed: number): string | undefined {
  const c = parseCidr(cluster);
  const size = 2 ** (32 - len);
  const count = Math.floor(c.size / size);
  if (count < 1) return undefined;
  const used = taken.map((t) => tryParseCidr(t)).filter((x): x is NonNullable<typeof x> => x !== undefined);
  const start = seed % count;
  for (let i = 0; i < count; i++) {
    const base = c.base + ((start + i) % count) * size;
    if (!used.some((u) => u.base < base + size && base < u.base + u.size)) return formatCidr(base, len);
  }
  return undefined;
}

/** FNV-1a of the instance's zone/name: the same for every form of its self link. */
export function instanceSeed(selfLink: string): number {
  const tail = instanceTail(selfLink);
  let h = 0x811c9dc5;
  for (let i = 0; i < tail.length; i++) h = Math.imul(h ^ tail.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Without Kubernetes: the agent whose instance is the lowest-named live next hop of the
 * cluster's routes sweeps; every agent computes the same answer from the same list.
 */
function lowestLiveNextHop(routes: RouteView[], self: string): SweepGate {
  const live = routes
    .filter((r) => r.nextHopInstance && !r.warnings.some((w) => w.code === 'NEXT_HOP_INSTANCE_NOT_FOUND'))
    .map((r) => r.nextHopInstance as string)
    .sort();
  return { tryAcquire: () => Promise.resolve(live.length === 0 || sameInstance(live[0], self)) };
}
