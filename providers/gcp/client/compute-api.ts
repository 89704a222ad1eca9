// The Compute calls the provider makes, behind a small interface, implemented on
// @google-cloud/compute (REST transport) with tokens from the metadata server through
// google-auth-library's OAuth2Client (refreshHandler): no environment is read.
// Each client from its own module: the package index also loads the v1small and v1beta clients
// and a 31 MB generated protos module, about 1.5 s of CPU and 110 MB of memory at start-up.
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
import { RoutesClient } from '@google-cloud/compute/build/src/v1/routes_client.js';
import { SubnetworksClient } from '@google-cloud/compute/build/src/v1/subnetworks_client.js';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client.js';
import { OAuth2Client } from 'google-auth-library';
import { VpcnetError } from '../../../src/errors.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { gceError, gceFailureError, gceFailureFromBody, operationError } from './gce-errors.ts';
import type { MetadataClient } from './metadata-client.ts';
import { GceRateLimiter } from './rate-limiter.ts';

export interface AliasRangeView {
  ipCidrRange: string;
  subnetworkRangeName?: string;
}

export interface NicView {
  name: string;
  fingerprint: string;
  networkIP: string;
  /** Full URL of the network. */
  network: string;
  /** Full URL of the subnetwork. */
  subnetwork: string;
  aliasIpRanges: AliasRangeView[];
}

export interface InstanceView {
  id: string;
  name: string;
  selfLink: string;
  canIpForward: boolean;
  nics: NicView[];
}

export interface SubnetView {
  name: string;
  ipCidrRange: string;
  gatewayAddress: string;
  secondaryIpRanges: { rangeName: string; ipCidrRange: string }[];
}

export interface RouteView {
  name: string;
  destRange: string;
  network: string;
  priority: number;
  nextHopInstance?: string;
  description?: string;
  warnings: { code: string; message: string }[];
}

export interface RouteInput {
  name: string;
  network: string;
  destRange: string;
  priority: number;
  nextHopInstance: string;
  description: string;
}

/** What the provider needs from Compute; a fake can stand in for unit tests. */
export interface ComputeApi {
  getInstance(zone: string, name: string): Promise<InstanceView>;
  /** updateNetworkInterface with the complete alias list; resolves when the operation is DONE without error. */
  setAliasRanges(zone: string, instance: string, nic: string, fingerprint: string, ranges: AliasRangeView[]): Promise<void>;
  getSubnetwork(region: string, name: string): Promise<SubnetView>;
  /** routes.insert; resolves when the global operation is DONE without error. */
  insertRoute(route: RouteInput): Promise<void>;
  deleteRoute(name: string): Promise<void>;
  getRoute(name: string): Promise<RouteView>;
  listRoutes(filter: string): Promise<RouteView[]>;
}

export interface SdkComputeOptions {
  project: string;
  /** http(s)://host[:port] of the Compute API; default the public endpoint. */
  endpoint?: string;
  metadata: MetadataClient;
  clock: Clock;
  requestTimeoutMs: number;
  /** Give up waiting for an operation after this long. */
  operationTimeoutMs?: number;
  /** Pacing per quota group; default one of its own on `clock`. Share one per project. */
  limiter?: GceRateLimiter;
}

type Op = {
  name?: string | null;
  status?: string | null;
  operationType?: string | null;
  targetLink?: string | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
  httpErrorStatusCode?: number | null;
};

export class SdkComputeApi implements ComputeApi {
  private readonly project: string;
  private readonly instances: InstancesClient;
  private readonly zoneOps: ZoneOperationsClient;
  private readonly globalOps: GlobalOperationsClient;
  private readonly routes: RoutesClient;
  private readonly subnets: SubnetworksClient;
  private readonly auth: OAuth2Client;
  private readonly base: string;
  private readonly clock: Clock;
  private readonly callOpts: { timeout: number; maxRetries: number };
  private readonly operationTimeoutMs: number;
  readonly limiter: GceRateLimiter;

  constructor(opts: SdkComputeOptions) {
    this.project = opts.project;
    this.clock = opts.clock;
    this.limiter = opts.limiter ?? new GceRateLimiter({ clock: opts.clock });
    this.callOpts = { timeout: opts.requestTimeoutMs, maxRetries: 0 };
    this.operationTimeoutMs = opts.operationTimeoutMs ?? 120_000;
    this.auth = new OAuth2Client();
    this.auth.refreshHandler = async () => {
      const t = await opts.metadata.token();
      return { access_token: t.token, expiry_date: t.expiresAt };
    };
    const url = new URL(opts.endpoint ?? 'https://compute.googleapis.com');
    const protocol = url.protocol.replace(':', '');
    const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
    this.base = `${protocol}://${url.hostname}:${port}`;
    const clientOpts = { apiEndpoint: url.hostname, port, protocol, authClient: this.auth, fallback: true as const };
    this.instances = new InstancesClient(clientOpts);
    this.zoneOps = new ZoneOperationsClient(clientOpts);
    this.globalOps = new GlobalOperationsClient(clientOpts);
    this.routes = new RoutesClient(clientOpts);
    this.subnets = new SubnetworksClient(clientOpts);
  }

  /**
   * The same clients paced by another limiter: many simulated nodes in one process (the scale
   * bench) share one set of gax clients, yet each node keeps its own pacing as a real node would.
   */
  withLimiter(limiter: GceRateLimiter): SdkComputeApi {
    const view = Object.create(this) as SdkComputeApi;
    Object.defineProperty(view, 'limiter', { value: limiter });
    return view;
  }

  async getInstance(zone: string, name: string): Promise<InstanceView> {
    const [i] = await this.call('instances.get', () => this.instances.get({ project: this.project, zone, instance: name }, this.callOpts));
    return {
      id: String(i.id ?? ''),
      name: i.name ?? name,
      selfLink: i.selfLink ?? '',
      canIpForward: i.canIpForward === true,
      nics: (i.networkInterfaces ?? []).map((n) => ({
        name: n.name ?? '',
        fingerprint: n.fingerprint ?? '',
        networkIP: n.networkIP ?? '',
        network: n.network ?? '',
        subnetwork: n.subnetwork ?? '',
        aliasIpRanges: (n.aliasIpRanges ?? []).map((r) => ({ ipCidrRange: r.ipCidrRange ?? '', ...(r.subnetworkRangeName ? { subnetworkRangeName: r.subnetworkRangeName } : {}) })),
      })),
    };
  }

  async setAliasRanges(zone: string, instance: string, nic: string, fingerprint: string, ranges: AliasRangeView[]): Promise<void> {
    let op: Op;
    if (ranges.length === 0) {
      // The proto-based client drops an empty repeated field, which turns "remove the last
      // range" into a silent no-op (googleapis/python-compute#446, same here): send JSON ourselves.
      op = await this.raw('instances.updateNetworkInterface', 'PATCH', `/compute/v1/projects/${this.project}/zones/${zone}/instances/${instance}/updateNetworkInterface?networkInterface=${nic}`, {
        name: nic,
        fingerprint,
        aliasIpRanges: [],
      });
    } else {
      const [lro] = await this.call('instances.updateNetworkInterface', () =>
        this.instances.updateNetworkInterface(
          { project: this.project, zone, instance, networkInterface: nic, networkInterfaceResource: { name: nic, fingerprint, aliasIpRanges: ranges } },
          this.callOpts,
        ),
      );
      op = lro.latestResponse as Op;
    }
    await this.settle(op, (name) => this.call('zoneOperations.wait', () => this.zoneOps.wait({ project: this.project, zone, operation: name }, this.callOpts)).then(([o]) => o as Op));
  }

  async getSubnetwork(region: string, name: string): Promise<SubnetView> {
    const [s] = await this.call('subnetworks.get', () => this.subnets.get({ project: this.project, region, subnetwork: name }, this.callOpts));
    return {
      name: s.name ?? name,
      ipCidrRange: s.ipCidrRange ?? '',
      gatewayAddress: s.gatewayAddress ?? '',
      secondaryIpRanges: (s.secondaryIpRanges ?? []).map((r) => ({ rangeName: r.rangeName ?? '', ipCidrRange: r.ipCidrRange ?? '' })),
    };
  }

  async insertRoute(route: RouteInput): Promise<void> {
    const [lro] = await this.call('routes.insert', () => this.routes.insert({ project: this.project, routeResource: route }, this.callOpts));
    await this.settle(lro.latestResponse as Op, (name) => this.waitGlobal(name));
  }

  async deleteRoute(name: string): Promise<void> {
    const [lro] = await this.call('routes.delete', () => this.routes.delete({ project: this.project, route: name }, this.callOpts));
    await this.settle(lro.latestResponse as Op, (n) => this.waitGlobal(n));
  }

  async getRoute(name: string): Promise<RouteView> {
    const [r] = await this.call('routes.get', () => this.routes.get({ project: this.project, route: name }, this.callOpts));
    return routeView(r);
  }

  async listRoutes(filter: string): Promise<RouteView[]> {
    const [items] = await this.call('routes.list', () => this.routes.list({ project: this.project, filter, maxResults: 500 }, { ...this.callOpts, autoPaginate: true }));
    return items.map(routeView);
  }

  private waitGlobal(name: string): Promise<Op> {
    return this.call('globalOperations.wait', () => this.globalOps.wait({ project: this.project, operation: name }, this.callOpts)).then(([o]) => o as Op);
  }

  /** Waits until DONE (operations.wait returns after ~2 min at most, so loop), then checks `error`. */
  private async settle(first: Op, wait: (name: string) => Promise<Op>): Promise<void> {
    let op = first;
    const deadline = this.clock.now() + this.operationTimeoutMs;
    while (op.status !== 'DONE') {
      if (!op.name) throw new VpcnetError('INTERNAL', 'GCE returned an operation without a name');
      if (this.clock.now() > deadline) throw new VpcnetError('CLOUD_TIMEOUT', `GCE operation ${op.name} not DONE after ${this.operationTimeoutMs} ms`, { details: { operation: op.name } });
      op = await wait(op.name);
    }
    const errors = (op.error?.errors ?? []).map((e) => ({ code: e.code ?? 'UNKNOWN', message: e.message ?? '' }));
    if (errors.length) throw operationError(op, { errors, ...(op.httpErrorStatusCode ? { httpErrorStatusCode: op.httpErrorStatusCode } : {}) });
  }

  /** Every Compute call: paced by its quota group, its failure mapped to the shared codes. */
  private call<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.limiter.run(
      name,
      async () => {
        try {
          return await fn();
        } catch (err) {
          throw gceError(err, name);
        }
      },
      isQuotaSpent,
    );
  }

  private raw(name: string, method: 'PATCH', path: string, data: unknown): Promise<Op> {
    return this.limiter.run(name, () => this.rawOnce(name, method, path, data), isQuotaSpent);
  }

  private async rawOnce(name: string, method: 'PATCH', path: string, data: unknown): Promise<Op> {
    try {
      const res = await this.auth.request<Op>({ url: `${this.base}${path}`, method, data, timeout: this.callOpts.timeout, retry: false });
      return res.data;
    } catch (err) {
      const r = (err as { response?: { status?: number; data?: unknown } }).response;
      if (r?.status === undefined) throw gceError(err, name);
      throw gceFailureError(gceFailureFromBody(r.status, r.data), name, err);
    }
  }
}

/** GCE's "this group's quota is spent for the interval" answer (403 rateLimitExceeded, 429). */
function isQuotaSpent(err: unknown): boolean {
  return err instanceof VpcnetError && err.code === 'CLOUD_THROTTLED';
}

function routeView(r: { name?: string | null; destRange?: string | null; network?: string | null; priority?: number | null; nextHopInstance?: string | null; description?: string | null; warnings?: { code?: string | null; message?: string | null }[] | null }): RouteView {
  return {
    name: r.name ?? '',
    destRange: r.destRange ?? '',
    network: r.network ?? '',
    priority: r.priority ?? 1000,
    ...(r.nextHopInstance ? { nextHopInstance: r.nextHopInstance } : {}),
    ...(r.description ? { description: r.description } : {}),
    warnings: (r.warnings ?? []).map((w) => ({ code: w.code ?? '', message: w.message ?? '' })),
  };
}
