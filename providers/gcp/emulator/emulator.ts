// The Compute Engine emulator: one HTTP server speaking Compute v1 REST/JSON (/compute/v1/...),
// the metadata server of every instance (/metadata/<zone>/<name>/computeMetadata/v1/..., or a
// listener per instance serving /computeMetadata/v1/... at its root, which is what clients that
// take only host:port need), and an admin API (/_emulator/...).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { EmulatorHttp, readBody, type ListenOptions } from '../../kit/emulator/index.ts';
import { handleAdmin } from './admin.ts';
import { Faults } from './faults.ts';
import { errorEnvelope, GceApiError, notFound } from './gce-error.ts';
import { serveMetadata, TokenStore } from './metadata.ts';
import { RateQuotas, groupOf, type QuotaGroup } from './quota.ts';
import { renderInstance, renderNetwork, renderOperation, renderRegion, renderRoute, renderSubnet, renderZone } from './render.ts';
import { applyScenario, type ScenarioResult } from './scenario.ts';
import { GceState, type ChangeEvent } from './state.ts';
import { listFilter } from './filter.ts';
import { parseBatch, renderBatch, type BatchPart } from './batch.ts';
import { aggregatedPage, page } from './listing.ts';
import { resolveMethod } from './methods.ts';

/** Where gcloud and the Google SDKs send batched Compute calls. */
const BATCH_PATH = '/batch/compute/v1';

export type { ListenOptions };


export interface GcpEmulatorOptions {
  clock?: Clock;
  seed?: number;
  project?: string;
  projectNumber?: string;
  /** Emulated time runs this many times faster (quota windows, latency, operations). */
  speed?: number;
  /** Insert to DONE of an operation, emulated ms. Default 300. */
  operationDelayMs?: number;
  /** Alias IP ranges per NIC. Default 10. */
  aliasRangesPerNic?: number;
  /** Per-minute rate quotas per group; default the published per-project figures. */
  quotas?: Partial<Record<QuotaGroup, number>>;
  /** Rate quotas on (default) or off. */
  throttling?: boolean;
  /** 'issued': only tokens from our metadata server; 'any' (default): any bearer token; 'none'. */
  auth?: 'issued' | 'any' | 'none';
  logger?: Logger;
}

interface Ctx {
  method: string;
  url: URL;
  body: Record<string, unknown>;
}

export class GcpEmulator {
  readonly state: GceState;
  readonly faults: Faults;
  readonly quotas: RateQuotas;
  readonly tokens = new TokenStore();
  private readonly clock: Clock;
  private readonly speed: number;
  private readonly auth: 'issued' | 'any' | 'none';
  private readonly log: Logger;
  private readonly http: EmulatorHttp;
  private baseUrl: string | undefined;
  private readonly calls: Record<string, number> = {};
  private readonly throttled: Record<string, number> = {};

  constructor(opts: GcpEmulatorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.speed = opts.speed ?? 1;
    this.auth = opts.auth ?? 'any';
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.http = new EmulatorHttp('gcp emulator', this.log);
    const seed = opts.seed ?? 1;
    this.state = new GceState({
      clock: this.clock,
      project: opts.project ?? 'vpcnet-demo',
      projectNumber: opts.projectNumber ?? '383030834456',
      operationDelayMs: (opts.operationDelayMs ?? 300) / this.speed,
      aliasRangesPerNic: opts.aliasRangesPerNic ?? 10,
      seed,
    });
    let a = seed * 2654435761 || 1;
    this.faults = new Faults(() => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    });
    this.quotas = new RateQuotas(this.clock, { speed: this.speed, ...(opts.quotas ? { limits: opts.quotas } : {}), ...(opts.throttling === undefined ? {} : { enabled: opts.throttling }) });
  }

  async start(opts: ListenOptions = {}): Promise<string> {
    this.baseUrl = await this.http.listen(opts, (req, res) => this.route(req, res));
    this.log.info({ endpoint: this.baseUrl }, 'gcp emulator listening');
    return this.baseUrl;
  }

  get endpoint(): string {
    if (!this.baseUrl) throw new VpcnetError('INTERNAL', 'gcp emulator not started');
    return this.baseUrl;
  }

  /** Metadata base URL of one instance on the main port (append /computeMetadata/v1/...). */
  metadataEndpoint(zone: string, name: string): string {
    return `${this.endpoint}/metadata/${zone}/${name}`;
  }

  /** A listener serving one instance's metadata at its root: host:port for GCE_METADATA_HOST-style settings. */
  async startMetadataListener(zone: string, name: string, opts: ListenOptions = {}): Promise<string> {
    const base = await this.http.listen(opts, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      return serveMetadata(this.metadataDeps(), { zone, name }, req, res, url.pathname, url.searchParams);
    });
    return base.replace(/^http:\/\//, '');
  }


  stop(): Promise<void> {
    this.state.close();
    return this.http.stop();
  }

  applyScenario(scenario: unknown): ScenarioResult {
    return applyScenario(this.state, scenario);
  }

  onChange(listener: (ev: ChangeEvent) => void): () => void {
    this.state.events.on('change', listener);
    return () => this.state.events.off('change', listener);
  }

  stats(): { calls: Record<string, number>; throttled: Record<string, number>; quotas: ReturnType<RateQuotas['snapshot']> } {
    return { calls: { ...this.calls }, throttled: { ...this.throttled }, quotas: this.quotas.snapshot() };
  }

  private metadataDeps(): Parameters<typeof serveMetadata>[0] {
    return { state: this.state, tokens: this.tokens, sleep: (ms, signal) => this.clock.sleep(ms / this.speed, signal) };
  }


  private route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const md = /^\/metadata\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    let work: Promise<void>;
    if (md) work = serveMetadata(this.metadataDeps(), { zone: md[1] as string, name: md[2] as string }, req, res, md[3] ?? '/', url.searchParams);
    else if (url.pathname.startsWith('/computeMetadata/')) work = serveMetadata(this.metadataDeps(), undefined, req, res, url.pathname, url.searchParams);
    else if (url.pathname.startsWith('/_emulator/')) work = handleAdmin(this, req, res, url);
    else if (url.pathname === BATCH_PATH) work = this.serveBatch(req, res);
    else work = this.serveCompute(req, res, url);
    return work;
  }

  private async serveCompute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const text = await readBody(req);
    const out = await this.call({ verb: req.method ?? 'GET', url, headers: req.headers, text });
    if (out === 'reset') {
      res.socket?.destroy();
      return;
    }
    reply(res, out.status, out.body);
  }

  /** POST /batch/compute/v1: each part is one call, with the outer request's headers beneath its own. */
  private async serveBatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let parts: BatchPart[];
    try {
      if (req.method !== 'POST') throw new GceApiError(400, 'badRequest', 'Batch requests must be POST.');
      parts = parseBatch(req.headers['content-type'], text);
    } catch (err) {
      if (err instanceof GceApiError) return reply(res, err.status, errorEnvelope(err));
      throw err;
    }
    this.calls.batch = (this.calls.batch ?? 0) + 1;
    const answers: { contentId: string | undefined; status: number; body: unknown }[] = [];
    for (const part of parts) {
      const url = new URL(part.target, 'http://x');
      const out = await this.call({ verb: part.verb, url, headers: { ...req.headers, ...part.headers }, text: part.body });
      if (out === 'reset') {
        res.socket?.destroy();
        return;
      }
      answers.push({ contentId: part.contentId, ...out });
    }
    const batch = renderBatch(answers);
    res.writeHead(200, { 'content-type': batch.contentType });
    res.end(batch.body);
  }

  /** One Compute call, direct or from a batch: its status and JSON body, or a connection reset. */
  private async call(input: { verb: string; url: URL; headers: IncomingHttpHeaders; text: string }): Promise<{ status: number; body: unknown } | 'reset'> {
    let method: string | undefined;
    try {
      const resolved = resolveMethod(input.verb, input.url.pathname.replace(/^\/compute\/v1(?=\/)/, ''));
      method = resolved.method;
      const params = resolved.params;
      this.calls[method] = (this.calls[method] ?? 0) + 1;
      this.authorize(input.headers);
      if (params.project !== this.state.project) throw notFound(`projects/${params.project ?? ''}`);
      if (!this.quotas.take(groupOf(method))) {
        this.throttled[method] = (this.throttled[method] ?? 0) + 1;
        throw new GceApiError(403, 'rateLimitExceeded', `Quota exceeded for quota metric '${groupOf(method)}' and limit '${groupOf(method)} per minute' of service 'compute.googleapis.com' for consumer 'project_number:${this.state.projectNumber}'.`, 'usageLimits', {
          reason: 'RATE_LIMIT_EXCEEDED',
          domain: 'googleapis.com',
          metadata: { quota_metric: `compute.googleapis.com/${groupOf(method)}`, quota_limit_value: String(this.quotas.snapshot().limits[groupOf(method)]), consumer: `projects/${this.state.projectNumber}` },
        });
      }
      const latency = this.faults.latencyFor(method) / this.speed;
      if (latency > 0) await this.clock.sleep(latency);
      const fault = this.faults.take(method);
      if (fault?.kind === 'reset') return 'reset';
      if (fault?.kind === 'error') throw new GceApiError(fault.status, fault.reason, fault.message);
      let body: Record<string, unknown> = {};
      if (input.text.trim()) {
        try {
          body = JSON.parse(input.text) as Record<string, unknown>;
        } catch {
          throw new GceApiError(400, 'parseError', 'Parse Error');
        }
      }
      const ctx: Ctx = { method, url: input.url, body };
      const out = await this.dispatch(ctx, params, fault?.kind === 'operation' ? { code: fault.reason, message: fault.message, httpStatus: fault.status } : undefined);
      this.log.debug({ method }, 'compute call');
      return { status: 200, body: out };
    } catch (err) {
      if (err instanceof GceApiError) {
        this.log.debug({ method, status: err.status, reason: err.reason }, 'compute call failed');
        return { status: err.status, body: errorEnvelope(err) };
      }
      throw err;
    }
  }

  private authorize(headers: IncomingHttpHeaders): void {
    if (this.auth === 'none') return;
    const m = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
    if (!m) throw new GceApiError(401, 'required', 'Request is missing required authentication credential. Expected OAuth 2 access token.');
    if (this.auth === 'issued' && !this.tokens.holder(m[1] as string)) throw new GceApiError(401, 'authError', 'Invalid Credentials');
  }

  /** Operations of a zone (or the global ones), moved along by the clock, in the order they were made. */
  private operationsIn(zone: string | undefined): Record<string, unknown>[] {
    const s = this.state;
    return [...s.operations.values()].filter((op) => op.zone === zone).map((op) => renderOperation(s, s.advance(op)));
  }

  private async dispatch(ctx: Ctx, p: Record<string, string>, forced: { code: string; message: string; httpStatus: number } | undefined): Promise<unknown> {
    const s = this.state;
    const q = ctx.url.searchParams;
    switch (ctx.method) {
      case 'instances.get':
        return renderInstance(s, s.instance(p.zone as string, p.instance as string));
      case 'instances.list': {
        const zone = s.zone(p.zone as string);
        const items = [...s.instances.values()].filter((i) => i.zone === zone).map((i) => renderInstance(s, i));
        return page(s, 'compute#instanceList', `zones/${zone}/instances`, listFilter(items, q.get('filter')), q);
      }
      case 'instances.aggregatedList': {
        const scopes = [...s.zones].sort().map((zone) => ({
          scope: `zones/${zone}`,
          items: listFilter([...s.instances.values()].filter((i) => i.zone === zone).map((i) => renderInstance(s, i)), q.get('filter')),
        }));
        return aggregatedPage(s, 'compute#instanceAggregatedList', 'instances', 'instances', scopes, q);
      }
      case 'instances.updateNetworkInterface': {
        const nicName = q.get('networkInterface');
        if (!nicName) throw new GceApiError(400, 'required', "Required parameter 'networkInterface' not specified");
        const inst = s.instance(p.zone as string, p.instance as string);
        const apply = s.prepareUpdateNic(p.zone as string, p.instance as string, nicName, ctx.body);
        const op = s.startOperation({
          zone: inst.zone,
          operationType: 'updateNetworkInterface',
          targetLink: `https://www.googleapis.com/compute/v1/${s.instancePath(inst.zone, inst.name)}`,
          targetId: inst.id,
          apply,
          ...(forced ? { forcedError: forced } : {}),
        });
        return renderOperation(s, op);
      }
      case 'zoneOperations.get':
        return renderOperation(s, s.getOperation(p.operation as string, p.zone));
      case 'globalOperations.get':
        return renderOperation(s, s.getOperation(p.operation as string, undefined));
      case 'regionOperations.get':
      case 'regionOperations.wait':
        // every operation here is zonal or global: a regional one of that name does not exist
        s.region(p.region as string);
        throw notFound(`projects/${s.project}/regions/${p.region as string}/operations/${p.operation as string}`);
      case 'zoneOperations.list': {
        const zone = s.zone(p.zone as string);
        return page(s, 'compute#operationList', `zones/${zone}/operations`, listFilter(this.operationsIn(zone), q.get('filter')), q);
      }
      case 'regionOperations.list': {
        const region = s.region(p.region as string);
        return page(s, 'compute#operationList', `regions/${region}/operations`, [], q);
      }
      case 'globalOperations.list':
        return page(s, 'compute#operationList', 'global/operations', listFilter(this.operationsIn(undefined), q.get('filter')), q);
      case 'globalOperations.aggregatedList': {
        const f = q.get('filter');
        const scopes = [
          { scope: 'global', items: listFilter(this.operationsIn(undefined), f) },
          ...s.regions().map((r) => ({ scope: `regions/${r}`, items: [] })),
          ...[...s.zones].sort().map((z) => ({ scope: `zones/${z}`, items: listFilter(this.operationsIn(z), f) })),
        ];
        return aggregatedPage(s, 'compute#operationAggregatedList', 'operations', 'operations', scopes, q);
      }
      case 'zoneOperations.wait':
      case 'globalOperations.wait': {
        const op = s.getOperation(p.operation as string, ctx.method.startsWith('zone') ? p.zone : undefined);
        // like GCE: returns when DONE or after about two minutes, whichever first
        const until = Math.min(op.doneAt, this.clock.now() + 120_000 / this.speed);
        while (s.advance(op).status !== 'DONE' && this.clock.now() < until) await this.clock.sleep(Math.max(1, Math.ceil(op.doneAt - this.clock.now())));
        // the clock may pass doneAt between the advance and the check above: advance once more
        return renderOperation(s, s.advance(op));
      }
      case 'routes.insert': {
        const { name, apply } = s.prepareRouteInsert(ctx.body);
        const op = s.startOperation({ operationType: 'insert', targetLink: `https://www.googleapis.com/compute/v1/projects/${s.project}/global/routes/${name}`, apply, ...(forced ? { forcedError: forced } : {}) });
        return renderOperation(s, op);
      }
      case 'routes.delete': {
        const apply = s.prepareRouteDelete(p.route as string);
        const route = s.routes.get(p.route as string);
        const op = s.startOperation({ operationType: 'delete', targetLink: `https://www.googleapis.com/compute/v1/projects/${s.project}/global/routes/${p.route as string}`, ...(route ? { targetId: route.id } : {}), apply, ...(forced ? { forcedError: forced } : {}) });
        return renderOperation(s, op);
      }
      case 'routes.get': {
        const r = s.routes.get(p.route as string);
        if (!r) throw notFound(`projects/${s.project}/global/routes/${p.route as string}`);
        return renderRoute(s, r);
      }
      case 'routes.list': {
        const items = [...s.routes.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => renderRoute(s, r));
        return page(s, 'compute#routeList', 'global/routes', listFilter(items, q.get('filter')), q);
      }
      case 'subnetworks.get':
        return renderSubnet(s, s.subnet(p.region as string, p.subnetwork as string));
      case 'subnetworks.list': {
        const items = [...s.subnets.values()].filter((x) => x.region === p.region).map((x) => renderSubnet(s, x));
        return page(s, 'compute#subnetworkList', `regions/${s.region(p.region as string)}/subnetworks`, listFilter(items, q.get('filter')), q);
      }
      case 'subnetworks.aggregatedList': {
        const scopes = s.regions().map((region) => ({
          scope: `regions/${region}`,
          items: listFilter([...s.subnets.values()].filter((x) => x.region === region).map((x) => renderSubnet(s, x)), q.get('filter')),
        }));
        return aggregatedPage(s, 'compute#subnetworkAggregatedList', 'subnetworks', 'subnetworks', scopes, q);
      }
      case 'networks.get': {
        const net = s.networks.get(p.network as string);
        if (!net) throw notFound(`projects/${s.project}/global/networks/${p.network as string}`);
        return renderNetwork(s, net);
      }
      case 'networks.list': {
        const items = [...s.networks.values()].sort((a, b) => a.name.localeCompare(b.name)).map((n) => renderNetwork(s, n));
        return page(s, 'compute#networkList', 'global/networks', listFilter(items, q.get('filter')), q);
      }
      case 'zones.get':
        return renderZone(s, s.zone(p.zone as string));
      case 'zones.list': {
        const items = [...s.zones].sort().map((z) => renderZone(s, z));
        return page(s, 'compute#zoneList', 'zones', listFilter(items, q.get('filter')), q);
      }
      case 'regions.get':
        return renderRegion(s, s.region(p.region as string));
      case 'regions.list':
        return page(s, 'compute#regionList', 'regions', listFilter(s.regions().map((r) => renderRegion(s, r)), q.get('filter')), q);
      default:
        throw new GceApiError(400, 'invalid', `Method ${ctx.method} is not supported by this emulator`);
    }
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}
