// The Azure emulator: ARM over HTTPS (Microsoft.Network NICs, ipConfigurations, VNets and
// subnets; Microsoft.Compute VMs and scale-set VMs; async operations; a token endpoint for
// workload identity) and IMDS per VM over plain HTTP. Models etags, one operation per NIC,
// size limits, full subnets, ARM throttling, permissions per principal, latency and faults.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { FaultTable, readBody } from '../../kit/emulator/index.ts';
import type { ArmOpClass } from '../limits.ts';
import { handleAdmin } from './admin.ts';
import { ArmError, notFound, resourceGroupNotFound, unmodelled } from './arm-error.ts';
import { AzureImds } from './imds.ts';
import { ArmLists } from './lists.ts';
import { renderIpConfig, renderNic, renderResourceGroup, renderSubnet, renderVm, renderVmssVm, renderVnet } from './render.ts';
import { applyScenario, DEFAULT_SCENARIO, type Scenario, type ScenarioResult } from './scenario.ts';
import { AzureState, type ChangeEvent, type Nic, type Operation, type Vm, type WantedConfig } from './state.ts';
import { ArmThrottler, type ThrottleOptions } from './throttle.ts';
import { makeCertificates, type EmulatorTls } from './tls.ts';

const JOIN = 'Microsoft.Network/virtualNetworks/subnets/join/action';

export interface AzureEmulatorOptions {
  clock?: Clock;
  seed?: number;
  subscriptionId?: string;
  tenantId?: string;
  /** An accepted write stays InProgress this long (clock ms). Default 0. */
  operationMs?: number;
  throttling?: ThrottleOptions;
  logger?: Logger;
  tls?: EmulatorTls;
  /**
   * Retry-After (s) on running operations. Real ARM sends one (often 10); the SDK's poller then
   * waits that long whatever updateIntervalInMs says. Default 0: none, so polls follow the client.
   */
  asyncRetryAfterS?: number;
  /** Subnets list the ipConfigurations that use them, as ARM does (default true); see AzureState. */
  subnetBackReferences?: boolean;
  /** Items per page of a list answer (then a nextLink follows). Default 100. */
  listPageSize?: number;
  /**
   * Accept any well-formed bearer token (RFC 6750 syntax), not only tokens this emulator issued:
   * for clients that cannot fetch a token from it (az, tools with their own login). Off by default.
   */
  acceptAnyToken?: boolean;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /** Port of the IMDS listener (plain HTTP, /imds/<vm>/metadata/...); default: any free port. */
  imdsPort?: number;
}

/** Network and Compute api-versions current and older SDKs and CLIs send. */
const API_VERSIONS: Record<'network' | 'compute', RegExp> = {
  network: /^20(1[5-9]|2\d)-\d\d-\d\d(-preview)?$/,
  compute: /^20(1[5-9]|2\d)-\d\d-\d\d(-preview)?$/,
};

interface Principal {
  id: string;
  kind: 'managed' | 'workload';
}

interface Route {
  op: string;
  /** Linked-access actions the call also needs (ARM checks join on referenced subnets). */
  also?: string[];
  cls: ArmOpClass;
  network: boolean;
  run(): Promise<Reply> | Reply;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class AzureEmulator {
  readonly state: AzureState;
  readonly faults: FaultTable;
  readonly throttler: ArmThrottler;
  readonly imds: AzureImds;
  readonly tls: EmulatorTls;
  /** Actions allowed per principal id; absent = everything (Owner). */
  readonly permissions = new Map<string, Set<string>>();
  readonly calls: Record<string, number> = {};
  asyncRetryAfterS: number;
  acceptAnyToken: boolean;
  readonly lists: ArmLists;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly servers: Server[] = [];
  private armUrl: string | undefined;
  private imdsUrl: string | undefined;

  constructor(opts: AzureEmulatorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? pino({ level: 'silent' });
    const ids = { random: (stream: number) => seeded(opts.seed ?? 1, stream) };
    this.state = new AzureState({
      clock: this.clock,
      subscriptionId: opts.subscriptionId ?? '00000000-0000-4000-8000-0000000000a1',
      tenantId: opts.tenantId ?? '00000000-0000-4000-8000-0000000000f1',
      random: ids.random(2),
      operationMs: opts.operationMs ?? 0,
    });
    this.faults = new FaultTable(ids.random(1), { code: 'InternalServerError', statusOf: faultStatus });
    this.throttler = new ArmThrottler(this.clock, opts.throttling);
    this.imds = new AzureImds(this.state, { issue: (p, resource) => this.issue({ id: p.principalId, kind: 'managed' }, resource) }, ids.random(3));
    this.tls = opts.tls ?? makeCertificates();
    this.asyncRetryAfterS = opts.asyncRetryAfterS ?? 0;
    this.acceptAnyToken = opts.acceptAnyToken ?? false;
    this.state.subnetBackReferences = opts.subnetBackReferences ?? true;
    this.lists = new ArmLists(opts.listPageSize ?? 100);
  }

  get endpoint(): string {
    if (!this.armUrl) throw new VpcnetError('INTERNAL', 'azure emulator not started');
    return this.armUrl;
  }

  get imdsEndpoint(): string {
    if (!this.imdsUrl) throw new VpcnetError('INTERNAL', 'azure emulator not started');
    return this.imdsUrl;
  }

  /** Base URL of one VM's IMDS on the shared listener: append /metadata/instance?... */
  imdsUrlFor(vmName: string): string {
    return `${this.imdsEndpoint}/imds/${encodeURIComponent(vmName)}`;
  }

  async start(opts: ListenOptions = {}): Promise<string> {
    const arm = createHttpsServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => this.guard(this.serveArm(req, res), res));
    await this.listen(arm, opts.port ?? 0, opts.host ?? '127.0.0.1');
    this.armUrl = `https://${opts.host ?? '127.0.0.1'}:${(arm.address() as AddressInfo).port}`;
    const imds = createHttpServer((req, res) => this.guard(this.serveImdsShared(req, res), res));
    await this.listen(imds, opts.imdsPort ?? 0, opts.host ?? '127.0.0.1');
    this.imdsUrl = `http://${opts.host ?? '127.0.0.1'}:${(imds.address() as AddressInfo).port}`;
    this.log.info({ endpoint: this.armUrl, imds: this.imdsUrl }, 'azure emulator listening');
    return this.armUrl;
  }

  /** A listener serving one VM's IMDS at the root, for clients that take only scheme://host:port (ManagedIdentityCredential). */
  async startImdsListener(vmName: string, opts: { port?: number; host?: string } = {}): Promise<string> {
    const server = createHttpServer((req, res) => this.guard(this.serveImds(vmName, req, res, new URL(req.url ?? '/', 'http://x')), res));
    await this.listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
    return `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  applyScenario(s: Scenario | unknown = DEFAULT_SCENARIO): ScenarioResult {
    return applyScenario(this.state, s);
  }

  onChange(listener: (ev: ChangeEvent) => void): () => void {
    this.state.events.on('change', listener);
    return () => this.state.events.off('change', listener);
  }

  /** Restricts what a VM's managed identity (or the workload identity client id) may do. */
  setPermissions(principalId: string, actions: string[] | undefined): void {
    if (actions === undefined) this.permissions.delete(principalId);
    else this.permissions.set(principalId, new Set(actions.map((a) => a.toLowerCase())));
  }

  stats(): { calls: Record<string, number> } & ReturnType<ArmThrottler['snapshot']> {
    return { calls: { ...this.calls }, ...this.throttler.snapshot() };
  }

  issue(p: Principal, resource: string): { token: string; expiresIn: number } {
    // Self-contained and signed with a key of the tenant, so tokens a client library cached from
    // an earlier emulator of the same tenant stay valid (ARM accepts any token of its tenant).
    const payload = Buffer.from(JSON.stringify({ oid: p.id, kind: p.kind, aud: resource, jti: randomUUID() })).toString('base64url');
    return { token: `emu.${payload}.${this.sign(payload)}`, expiresIn: 86_399 };
  }

  private sign(payload: string): string {
    return createHmac('sha256', `vpcnet-emulator:${this.state.tenantId}`).update(payload).digest('base64url');
  }

  // ---- HTTP plumbing ----
  private listen(server: Server, port: number, host: string): Promise<void> {
    server.keepAliveTimeout = 5000;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  }

  private guard(work: Promise<void>, res: ServerResponse): void {
    work.catch((err: unknown) => {
      this.log.error({ err }, 'azure emulator request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServerError', message: 'emulator error' } }));
    });
  }

  private async serveImdsShared(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/imds\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('IMDS of this emulator: /imds/<vm-name>/metadata/instance?api-version=..., or a per-VM listener\n');
      return;
    }
    url.pathname = m[2] as string;
    await this.serveImds(decodeURIComponent(m[1] as string), req, res, url);
  }

  private async serveImds(vmName: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await readBody(req);
    const reply = this.imds.handle(vmName, req.method ?? 'GET', url, req.headers);
    res.writeHead(reply.status, { 'content-type': reply.contentType });
    res.end(reply.body);
  }

  private async serveArm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const requestId = randomUUID();
    const send = (r: Reply): void => {
      res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': requestId, ...r.headers });
      res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
    };
    const fail = (e: ArmError): void => send({ status: e.status, body: e.body(), headers: e.headers });
    const text = await readBody(req).catch(() => undefined);
    if (text === undefined) return fail(new ArmError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
    if (url.pathname.startsWith('/_emulator/')) return handleAdmin(this, req, res, url, text);
    const aad = /^\/([^/]+)\/(oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration)$/.exec(url.pathname);
    if (aad) return send(this.serveAad(aad[1] as string, aad[2] as string, text));
    let route: Route;
    let principal: Principal;
    try {
      principal = this.authenticate(req);
      route = this.resolve(req.method ?? 'GET', url, text, headerOf(req, 'if-match'));
      this.checkApiVersion(url);
    } catch (err) {
      return fail(armErrorOf(err));
    }
    this.calls[route.op] = (this.calls[route.op] ?? 0) + 1;
    try {
      const allowed = this.permissions.get(principal.id);
      for (const action of [route.op, ...(route.also ?? [])]) {
        if (allowed && !allowed.has(action.toLowerCase())) {
          throw new ArmError(403, 'AuthorizationFailed', `The client '${principal.id}' with object id '${principal.id}' does not have authorization to perform action '${action}' over scope '${url.pathname}' or the scope is invalid.`);
        }
      }
      const rl = this.throttler.admit(route.op, route.cls, route.network);
      const before = this.faults.take(route.op, 'before');
      if (before) {
        if (before.kind === 'reset') return void res.socket?.destroy();
        throw new ArmError(before.status, before.code, before.message, before.status === 429 && before.code !== 'NoRetryAfter' ? { 'retry-after': '1' } : {});
      }
      const latency = this.faults.latencyFor(route.op);
      if (latency > 0) await this.clock.sleep(latency);
      const reply = await route.run();
      const after = this.faults.take(route.op, 'after');
      if (after) {
        if (after.kind === 'reset') return void res.socket?.destroy();
        throw new ArmError(after.status, after.code, after.message);
      }
      send({ ...reply, headers: { ...rl, ...reply.headers } });
    } catch (err) {
      fail(armErrorOf(err));
    }
  }

  private serveAad(tenant: string, what: string, body: string): Reply {
    const base = `${this.endpoint}/${tenant}`;
    if (what.startsWith('v2.0')) {
      return {
        status: 200,
        body: {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_types_supported: ['code', 'id_token', 'token'],
          tenant_region_scope: 'NA',
        },
      };
    }
    const form = new URLSearchParams(body);
    const clientId = form.get('client_id');
    const assertion = form.get('client_assertion');
    if (!clientId || !assertion || form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return { status: 400, body: { error: 'invalid_request', error_description: 'AADSTS900144: client_id and a jwt-bearer client_assertion are required.' } };
    }
    const { token, expiresIn } = this.issue({ id: clientId, kind: 'workload' }, form.get('scope') ?? '');
    return { status: 200, body: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token } };
  }

  private authenticate(req: IncomingMessage): Principal {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(auth);
    if (!m) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", { 'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token"' });
    const [tag, payload, sig] = (m[1] as string).split('.');
    if (tag !== 'emu' || !payload || sig !== this.sign(payload)) {
      const any = this.acceptAnyToken ? anyTokenPrincipal(m[1] as string) : undefined;
      if (any) return any;
      throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown; kind?: unknown };
    return { id: String(claims.oid ?? ''), kind: claims.kind === 'workload' ? 'workload' : 'managed' };
  }

  private checkApiVersion(url: URL): void {
    const v = url.searchParams.get('api-version');
    const compute = /\/providers\/Microsoft\.Compute\//i.test(url.pathname);
    if (!v) throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    if (!API_VERSIONS[compute ? 'compute' : 'network'].test(v)) {
      throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${v}' is invalid. The supported versions are dated 2015-06-15 and later.`);
    }
  }

  /** Maps method + path onto an operation (also the permission action and the fault key). */
  private resolve(method: string, url: URL, body: string, ifMatch: string | undefined): Route {
    const s = this.state;
    const p = url.pathname;
    const sub = `/subscriptions/${s.subscriptionId}`.toLowerCase();
    if (!p.toLowerCase().startsWith(sub)) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${p.split('/')[2] ?? ''}' could not be found.`);
    }
    const rest = p.slice(sub.length);
    let m: RegExpExecArray | null;
    const read = (op: string, network: boolean, run: () => Reply): Route => ({ op, cls: 'reads', network, run });
    if ((m = /^\/providers\/Microsoft\.(Network|Compute)\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(rest)) && method === 'GET') {
      const id = m[2] as string;
      const prov = (m[1] as string).toLowerCase() === 'network' ? 'Microsoft.Network' : 'Microsoft.Compute';
      return read(`${prov}/locations/operations/read`, prov === 'Microsoft.Network', () => this.operationReply(id));
    }
    const apiVersion = url.searchParams.get('api-version') ?? '';
    const list = <T>(items: () => readonly T[], idOf: (x: T) => string, render: (x: T) => unknown) => (): Reply => this.lists.page(this.endpoint, url, items(), idOf, render);
    const standaloneNics = (): Nic[] => [...s.nics.values()].filter((n) => !n.vmss);
    const standaloneVms = (): Vm[] => [...s.vms.values()].filter((v) => !v.vmss);
    // Subscription scope: resource groups and the listAll calls.
    if ((m = /^\/resourcegroups(?:\/([^/]+))?$/i.exec(rest)) && method === 'GET') {
      const name = m[1];
      return read('Microsoft.Resources/subscriptions/resourceGroups/read', false, () => {
        if (name === undefined) return list(() => [...s.resourceGroups.values()], (g) => g.name, (g) => renderResourceGroup(s, g))();
        const g = s.resourceGroups.get(name.toLowerCase());
        if (!g) throw resourceGroupNotFound(name);
        return { status: 200, body: renderResourceGroup(s, g) };
      });
    }
    if (/^\/providers\/Microsoft\.Network\/networkInterfaces$/i.test(rest) && method === 'GET') {
      return read('Microsoft.Network/networkInterfaces/read', true, list(standaloneNics, (n) => n.id, (n) => renderNic(s, n)));
    }
    if (/^\/providers\/Microsoft\.Network\/virtualNetworks$/i.test(rest) && method === 'GET') {
      return read('Microsoft.Network/virtualNetworks/read', true, list(() => [...s.vnets.values()], (v) => v.id, (v) => renderVnet(s, v.rg, v.name)));
    }
    if (/^\/providers\/Microsoft\.Compute\/virtualMachines$/i.test(rest) && method === 'GET') {
      return read('Microsoft.Compute/virtualMachines/read', false, list(standaloneVms, (v) => v.id, renderVm));
    }
    if ((m = /^\/providers\/(.+)$/i.exec(rest))) throw unmodelled(m[1] as string, apiVersion);
    m = /^\/resourceGroups\/([^/]+)(?:\/providers\/(.+))?$/i.exec(rest);
    if (!m) throw new ArmError(404, 'NotFound', `No route for ${p}.`);
    const rg = m[1] as string;
    // ARM checks the resource group before anything under it.
    if (!s.hasResourceGroup(rg)) throw resourceGroupNotFound(rg);
    if (m[2] === undefined) throw new ArmError(404, 'NotFound', `No route for ${p}.`);
    const tail = m[2];
    const rgBase = `${s.rgPrefix(rg)}/providers`;
    const inRg = (x: { rg: string }): boolean => x.rg.toLowerCase() === rg.toLowerCase();
    // Microsoft.Network/networkInterfaces
    if ((m = /^Microsoft\.Network\/networkInterfaces$/i.exec(tail)) && method === 'GET') {
      return read('Microsoft.Network/networkInterfaces/read', true, list(() => standaloneNics().filter(inRg), (n) => n.id, (n) => renderNic(s, n)));
    }
    if (/^Microsoft\.Network\/virtualNetworks$/i.test(tail) && method === 'GET') {
      return read('Microsoft.Network/virtualNetworks/read', true, list(() => [...s.vnets.values()].filter(inRg), (v) => v.id, (v) => renderVnet(s, v.rg, v.name)));
    }
    if (/^Microsoft\.Compute\/virtualMachines$/i.test(tail) && method === 'GET') {
      return read('Microsoft.Compute/virtualMachines/read', false, list(() => standaloneVms().filter(inRg), (v) => v.id, renderVm));
    }
    // The scale-set-wide NIC list (every instance's NICs).
    if ((m = /^Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)\/networkInterfaces$/i.exec(tail)) && method === 'GET') {
      const ssName = m[1] as string;
      return read('Microsoft.Compute/virtualMachineScaleSets/virtualMachines/networkInterfaces/read', true, () => {
        const members = [...s.vms.values()].filter((v) => inRg(v) && v.vmss?.name.toLowerCase() === ssName.toLowerCase());
        if (!members.length) throw notFound('Microsoft.Compute/virtualMachineScaleSets', ssName, rg);
        const nics = members.flatMap((v) => v.nicIds.map((id) => s.getNic(id)));
        return list(() => nics, (n) => n.id, (n) => renderNic(s, n))();
      });
    }
    if ((m = /^Microsoft\.Network\/networkInterfaces\/([^/]+)(?:\/ipConfigurations(?:\/([^/]+))?)?$/i.exec(tail))) {
      const nicId = `${rgBase}/Microsoft.Network/networkInterfaces/${m[1] as string}`;
      const cfg = m[2];
      const listing = /\/ipConfigurations/i.test(tail);
      if (listing) {
        if (method !== 'GET') throw methodNotAllowed(method);
        return read('Microsoft.Network/networkInterfaces/ipconfigurations/read', true, () => this.ipConfigsReply(s.getNic(nicId), cfg));
      }
      if (method === 'GET') return read('Microsoft.Network/networkInterfaces/read', true, () => ({ status: 200, body: renderNic(s, s.getNic(nicId)) }));
      if (method === 'PUT') {
        return { op: 'Microsoft.Network/networkInterfaces/write', also: [JOIN], cls: 'writes', network: true, run: () => this.putNic(nicId, body, url, ifMatch) };
      }
      if (method === 'DELETE') {
        return {
          op: 'Microsoft.Network/networkInterfaces/delete',
          cls: 'deletes',
          network: true,
          run: () => {
            const op = s.deleteNic(nicId);
            return op ? { status: 202, headers: this.asyncHeaders(op, url) } : { status: 204 };
          },
        };
      }
      throw methodNotAllowed(method);
    }
    if ((m = /^Microsoft\.Network\/virtualNetworks\/([^/]+)(?:\/subnets(?:\/([^/]+))?)?$/i.exec(tail)) && method === 'GET') {
      const vnet = m[1] as string;
      const subnet = m[2];
      if (subnet) {
        return read('Microsoft.Network/virtualNetworks/subnets/read', true, () => {
          const body = renderSubnet(s, s.subnetKey(rg, vnet, subnet));
          if (!body) throw notFound('Microsoft.Network/virtualNetworks/subnets', `${vnet}/${subnet}`, rg);
          return { status: 200, body };
        });
      }
      return read('Microsoft.Network/virtualNetworks/read', true, () => {
        const body = renderVnet(s, rg, vnet);
        if (!body) throw notFound('Microsoft.Network/virtualNetworks', vnet, rg);
        return /\/subnets$/i.test(tail) ? { status: 200, body: { value: (body.properties as { subnets: unknown[] }).subnets } } : { status: 200, body };
      });
    }
    // Microsoft.Compute/virtualMachines
    if ((m = /^Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(tail))) {
      const vmId = `${rgBase}/Microsoft.Compute/virtualMachines/${m[1] as string}`;
      if (method === 'GET') return read('Microsoft.Compute/virtualMachines/read', false, () => ({ status: 200, body: renderVm(s.getVm(vmId)) }));
      if (method === 'PUT' || method === 'PATCH') {
        return { op: 'Microsoft.Compute/virtualMachines/write', cls: 'writes', network: false, run: () => this.updateVm(s.getVm(vmId), body, url) };
      }
      throw methodNotAllowed(method);
    }
    // Microsoft.Compute/virtualMachineScaleSets/{ss}/virtualMachines[/{i}[/networkInterfaces[/{nic}[/ipConfigurations[/{c}]]]]]
    if ((m = /^Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)\/virtualMachines(?:\/([^/]+)(?:\/networkInterfaces(?:\/([^/]+)(?:\/ipConfigurations(?:\/([^/]+))?)?)?)?)?$/i.exec(tail))) {
      const [, ss, inst, nicName, cfg] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined];
      const base = `${rgBase}/Microsoft.Compute/virtualMachineScaleSets/${ss}/virtualMachines`;
      if (!inst) {
        if (method !== 'GET') throw methodNotAllowed(method);
        const members = (): Vm[] => [...s.vms.values()].filter((v) => inRg(v) && v.vmss?.name.toLowerCase() === ss.toLowerCase());
        return read('Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read', false, list(members, (v) => v.id, (v) => renderVmssVm(s, v)));
      }
      const vmId = `${base}/${inst}`;
      if (/\/networkInterfaces/i.test(tail)) {
        if (method !== 'GET') throw methodNotAllowed(method);
        const op = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/networkInterfaces/read';
        return read(op, true, () => {
          const vm = s.getVm(vmId);
          if (!nicName) return list(() => vm.nicIds.map((id) => s.getNic(id)), (n) => n.id, (n) => renderNic(s, n))();
          const nic = s.getNic(`${vmId}/networkInterfaces/${nicName}`);
          return /\/ipConfigurations/i.test(tail) ? this.ipConfigsReply(nic, cfg) : { status: 200, body: renderNic(s, nic) };
        });
      }
      if (method === 'GET') return read('Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read', false, () => ({ status: 200, body: renderVmssVm(s, s.getVm(vmId)) }));
      if (method === 'PUT' || method === 'PATCH') {
        return { op: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write', also: [JOIN], cls: 'writes', network: false, run: () => this.putVmssVm(s.getVm(vmId), body, url, ifMatch) };
      }
      throw methodNotAllowed(method);
    }
    throw unmodelled(tail, apiVersion);
  }

  private ipConfigsReply(nic: Nic, cfg: string | undefined): Reply {
    if (!cfg) return { status: 200, body: { value: nic.ipConfigs.map((c) => renderIpConfig(this.state, nic, c)) } };
    const c = nic.ipConfigs.find((x) => x.name.toLowerCase() === cfg.toLowerCase());
    if (!c) throw notFound('Microsoft.Network/networkInterfaces/ipConfigurations', `${nic.name}/${cfg}`, nic.rg);
    return { status: 200, body: renderIpConfig(this.state, nic, c) };
  }

  private putNic(nicId: string, body: string, url: URL, ifMatch: string | undefined): Reply {
    const s = this.state;
    const nic = s.nics.get(AzureState.nicKey(nicId));
    if (!nic) throw new ArmError(400, 'OperationNotAllowed', 'Creating network interfaces is not modelled by this emulator: NICs come with their VMs.');
    const parsed = parseJson(body) as { properties?: { ipConfigurations?: unknown } };
    const wanted = wantedConfigs(parsed.properties?.ipConfigurations);
    const op = s.updateNicConfigs(nic, wanted, { via: 'nic', ...(ifMatch !== undefined ? { ifMatch } : {}) });
    return { status: 200, body: renderNic(s, nic), headers: this.asyncHeaders(op, url) };
  }

  private putVmssVm(vm: Vm, body: string, url: URL, ifMatch: string | undefined): Reply {
    const s = this.state;
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== vm.etag) {
      throw new ArmError(412, 'PreconditionFailed', `The etag ${ifMatch} does not match the current etag ${vm.etag} of ${vm.name}.`);
    }
    if (vm.busyOp) throw new ArmError(409, 'OperationNotAllowed', `Operation 'Update' is not allowed on VM '${vm.name}' since the VM is marked for another operation in progress.`);
    const parsed = parseJson(body) as { properties?: { networkProfileConfiguration?: { networkInterfaceConfigurations?: unknown } } };
    const confs = parsed.properties?.networkProfileConfiguration?.networkInterfaceConfigurations;
    if (!Array.isArray(confs)) throw new ArmError(400, 'InvalidParameter', 'properties.networkProfileConfiguration.networkInterfaceConfigurations is required.');
    const nics = vm.nicIds.map((id) => s.getNic(id));
    if (confs.length !== nics.length) {
      throw new ArmError(400, 'OperationNotAllowed', `Adding or removing network interfaces of scale set VM ${vm.name} is not supported (has ${nics.length}).`);
    }
    // Validate every NIC's change before applying any (all or nothing across NICs); then apply
    // the changed ones, the VM owning one operation.
    const plans = nics.map((nic) => {
      const c = (confs as Array<{ name?: string; properties?: { ipConfigurations?: unknown } }>).find((x) => x.name?.toLowerCase() === (nic.vmss?.configName ?? nic.name).toLowerCase());
      if (!c) throw new ArmError(400, 'InvalidParameter', `Network interface configuration ${nic.vmss?.configName ?? nic.name} is missing.`);
      return { nic, wanted: wantedConfigs(c.properties?.ipConfigurations) };
    });
    const changed = plans.filter((x) => !sameNames(x.nic, x.wanted));
    if (changed.length > 1) throw new ArmError(400, 'OperationNotAllowed', 'This emulator updates one network interface configuration per scale set VM update.');
    let op: Operation | undefined;
    for (const x of changed) op = s.updateNicConfigs(x.nic, x.wanted, { via: 'vmss' });
    if (!op) return { status: 200, body: renderVmssVm(s, vm) };
    return { status: 200, body: renderVmssVm(s, vm), headers: this.asyncHeaders(op, url) };
  }

  private updateVm(vm: Vm, body: string, url: URL): Reply {
    const parsed = parseJson(body) as { properties?: { networkProfile?: { networkInterfaces?: Array<{ id?: string }> } } };
    const wanted = parsed.properties?.networkProfile?.networkInterfaces;
    if (wanted && wanted.length !== vm.nicIds.length) {
      throw new ArmError(409, 'OperationNotAllowed', `Network interfaces of VM ${vm.name} can be changed only while it is deallocated.`);
    }
    void url;
    return { status: 200, body: renderVm(vm) };
  }

  private operationReply(id: string): Reply {
    const op = this.state.operations.get(id);
    if (!op) throw new ArmError(404, 'OperationNotFound', `Operation ${id} was not found.`);
    return {
      status: 200,
      body: { name: op.id, status: op.status, startTime: op.startTime, ...(op.endTime ? { endTime: op.endTime } : {}), ...(op.error ? { error: op.error } : {}) },
      ...(op.status === 'InProgress' && this.asyncRetryAfterS > 0 ? { headers: { 'retry-after': String(this.asyncRetryAfterS) } } : {}),
    };
  }

  private asyncHeaders(op: Operation, url: URL): Record<string, string> {
    const v = url.searchParams.get('api-version') ?? '';
    const loc = 'eastus';
    const opUrl = `${this.endpoint}/subscriptions/${this.state.subscriptionId}/providers/${op.provider}/locations/${loc}/operations/${op.id}?api-version=${v}`;
    return { 'azure-asyncoperation': opUrl, 'azure-asyncnotification': 'Enabled', ...(op.status === 'InProgress' && this.asyncRetryAfterS > 0 ? { 'retry-after': String(this.asyncRetryAfterS) } : {}) };
  }
}

/** Small deterministic PRNG (mulberry32) per seed and stream: same seed, same run. */
function seeded(seed: number, stream: number): () => number {
  let a = (seed * 0x9e3779b1 + stream * 0x85ebca6b) | 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** HTTP status of an injected ARM error code when the rule gives none. */
function faultStatus(code: string): number {
  if (code === 'RetryableError' || code === 'TooManyRequests' || code === 'SubscriptionRequestsThrottled') return 429;
  if (code === 'AnotherOperationInProgress' || code === 'Conflict') return 409;
  if (code === 'PreconditionFailed') return 412;
  if (code === 'InternalServerError') return 500;
  return 400;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function sameNames(nic: Nic, wanted: WantedConfig[]): boolean {
  const a = nic.ipConfigs.map((c) => c.name.toLowerCase()).sort();
  const b = wanted.map((w) => w.name.toLowerCase()).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A principal for any RFC 6750 bearer token (acceptAnyToken): the JWT's oid claim when it has one, else one shared id. */
function anyTokenPrincipal(token: string): Principal | undefined {
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return undefined;
  const payload = token.split('.')[1];
  let oid: unknown;
  try {
    oid = payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown }).oid : undefined;
  } catch {
    oid = undefined;
  }
  return { id: typeof oid === 'string' && oid !== '' ? oid : 'any-token', kind: 'managed' };
}

function methodNotAllowed(method: string): ArmError {
  return new ArmError(405, 'MethodNotAllowed', `The method ${method} is not allowed here.`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || '{}') as unknown;
  } catch {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

/** ipConfigurations of a NIC PUT or a scale-set network profile, validated. */
export function wantedConfigs(input: unknown): WantedConfig[] {
  if (!Array.isArray(input)) throw new ArmError(400, 'InvalidRequestFormat', 'properties.ipConfigurations must be an array.');
  return input.map((raw: unknown) => {
    const c = (raw ?? {}) as { name?: unknown; properties?: Record<string, unknown> };
    if (typeof c.name !== 'string') throw new ArmError(400, 'InvalidRequestFormat', 'Every IP configuration needs a name.');
    const props = c.properties ?? {};
    const alloc = props.privateIPAllocationMethod;
    const subnet = props.subnet as { id?: unknown } | undefined;
    const len = props.privateIPAddressPrefixLength;
    return {
      name: c.name,
      ...(typeof props.privateIPAddress === 'string' ? { privateIPAddress: props.privateIPAddress } : {}),
      ...(typeof len === 'number' ? { prefixLength: len } : {}),
      ...(alloc === 'Static' || alloc === 'Dynamic' ? { allocation: alloc } : {}),
      ...(typeof subnet?.id === 'string' ? { subnetId: subnet.id } : {}),
      ...(typeof props.primary === 'boolean' ? { primary: props.primary } : {}),
    };
  });
}

function armErrorOf(err: unknown): ArmError {
  if (err instanceof ArmError) return err;
  return new ArmError(500, 'InternalServerError', err instanceof Error ? err.message : String(err));
}
