// The EC2 emulator: one HTTP server speaking the EC2 Query API (POST /), IMDSv2 per instance
// (/imds/<instance-id>/latest/...), and an admin API (/_emulator/...). In-process tests use
// the same object directly: state, faults, throttling and change events.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import { ACTIONS, isFiltered } from './actions.ts';
import { handleAdmin } from './admin.ts';
import { ec2ErrorOf } from './ec2-error.ts';
import { Faults, type FaultHit } from './faults.ts';
import { IdSource } from './ids.ts';
import { Imds } from './imds.ts';
import type { ChangeEvent, EniView, InstanceView } from './model.ts';
import { QueryParams } from './query.ts';
import { applyScenario, type ScenarioResult } from './scenario.ts';
import { Ec2State } from './state.ts';
import type { Pick } from './subnet-space.ts';
import { Throttler, type BucketCategory, type BucketSpec } from './throttle.ts';
import { errorResponse } from './xml.ts';
import { EmulatorHttp, readBody, resetConnection, type ListenOptions } from '../../kit/emulator/http-server.ts';

export { readBody, type ListenOptions };

export interface AwsEmulatorOptions {
  clock?: Clock;
  /** Seeds ids, MACs and random picks; the same seed gives the same ids. */
  seed?: number;
  region?: string;
  ownerId?: string;
  /** Emulated time runs this many times faster: bucket refill, latency, lags. Default 1. */
  speed?: number;
  /** Metadata lags the API by this much (emulated ms). Default 0. */
  imdsLagMs?: number;
  /** An attach takes this long (emulated ms); meanwhile the attachment is 'attaching'. Default 0. */
  attachDelayMs?: number;
  /** A detach takes this long (emulated ms); meanwhile the ENI is in-use/detaching. Default 0. */
  detachDelayMs?: number;
  /** New ENIs are invisible to DescribeNetworkInterfaces this long (emulated ms). Default 0. */
  describeLagMs?: number;
  /** ENI quota of the account. Default 5000, as on EC2. */
  maxEnis?: number;
  /** How subnets pick free addresses. Default 'lowest'. */
  pick?: Pick;
  buckets?: Partial<Record<BucketCategory, BucketSpec>>;
  /** Token buckets on (default) or off. */
  throttling?: boolean;
  logger?: Logger;
}

export interface EmulatorStats {
  /** Requests per action, whatever their outcome. */
  calls: Record<string, number>;
  admitted: Record<string, number>;
  /** Requests answered with RequestLimitExceeded, per action. */
  throttled: Record<string, number>;
  /** Tokens left per bucket category. */
  tokens: Record<string, number>;
}

export class AwsEmulator {
  readonly state: Ec2State;
  readonly faults: Faults;
  readonly throttler: Throttler;
  readonly imds: Imds;
  private readonly clock: Clock;
  private readonly speed: number;
  private readonly log: Logger;
  private readonly http: EmulatorHttp;
  private baseUrl: string | undefined;
  private readonly calls: Record<string, number> = {};

  constructor(opts: AwsEmulatorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.speed = opts.speed ?? 1;
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.http = new EmulatorHttp('aws emulator', this.log);
    const ids = new IdSource(opts.seed ?? 1);
    this.state = new Ec2State({
      clock: this.clock,
      ids,
      region: opts.region ?? 'us-west-2',
      ownerId: opts.ownerId ?? '123456789012',
      ...(opts.pick ? { pick: opts.pick } : {}),
      detachDelayMs: (opts.detachDelayMs ?? 0) / this.speed,
      attachDelayMs: (opts.attachDelayMs ?? 0) / this.speed,
      describeLagMs: (opts.describeLagMs ?? 0) / this.speed,
      ...(opts.maxEnis === undefined ? {} : { maxEnis: opts.maxEnis }),
    });
    this.faults = new Faults(ids.random(1));
    this.throttler = new Throttler(this.clock, {
      speed: this.speed,
      ...(opts.buckets ? { buckets: opts.buckets } : {}),
      ...(opts.throttling === undefined ? {} : { enabled: opts.throttling }),
    });
    this.imds = new Imds(this.state, this.clock, (opts.imdsLagMs ?? 0) / this.speed);
  }

  /** Starts the HTTP server; resolves with the EC2 endpoint URL. */
  async start(opts: ListenOptions = {}): Promise<string> {
    this.baseUrl = await this.http.listen(opts, (req, res) => this.route(req, res));
    this.log.info({ endpoint: this.baseUrl }, 'aws emulator listening');
    return this.baseUrl;
  }

  get endpoint(): string {
    if (!this.baseUrl) throw new VpcnetError('INTERNAL', 'aws emulator not started');
    return this.baseUrl;
  }

  /** Base URL of one instance's metadata service: append /latest/api/token etc. */
  imdsEndpoint(instanceId: string): string {
    return `${this.endpoint}/imds/${instanceId}`;
  }

  /**
   * A listener serving one instance's metadata at the root (/latest/...), for clients whose
   * IMDS endpoint setting takes only scheme, host and port (e.g. the AWS SDKs).
   */
  async startImdsListener(instanceId: string, opts: ListenOptions = {}): Promise<string> {
    return this.http.listen(opts, (req, res) => this.serveImds(instanceId, req, res, new URL(req.url ?? '/', 'http://x').pathname));
  }

  async stop(): Promise<void> {
    await this.http.stop();
  }

  applyScenario(scenario: unknown): ScenarioResult {
    return applyScenario(this.state, scenario);
  }

  listEnis(): EniView[] {
    return this.state.listEnis();
  }

  instanceView(instanceId: string): InstanceView | undefined {
    return this.state.instanceView(instanceId);
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onChange(listener: (ev: ChangeEvent) => void): () => void {
    this.state.events.on('change', listener);
    return () => this.state.events.off('change', listener);
  }

  stats(): EmulatorStats {
    return { calls: { ...this.calls }, ...this.throttler.snapshot() };
  }

  private route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const imds = /^\/imds\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (imds) return this.serveImds(imds[1] as string, req, res, imds[2] as string);
    if (url.pathname.startsWith('/latest/')) return Promise.resolve(imdsHint(res));
    if (url.pathname.startsWith('/_emulator/')) return handleAdmin(this, req, res, url);
    return this.serveEc2(req, res, url);
  }

  private async serveImds(instanceId: string, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    await readBody(req);
    const reply = this.imds.handle(instanceId, req.method ?? 'GET', path, req.headers);
    res.writeHead(reply.status, { 'content-type': 'text/plain' });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  private async serveEc2(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomUUID();
    const body = await readBody(req);
    const params = new QueryParams(req.method === 'GET' ? url.search.slice(1) : body);
    const action = params.action ?? '';
    this.calls[action] = (this.calls[action] ?? 0) + 1;
    const fail = (code: string, message: string, status: number): void => {
      this.log.debug({ action, requestId, status, code }, 'ec2 call failed');
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(errorResponse(code, message, requestId));
    };
    const signed = req.headers.authorization !== undefined || url.searchParams.has('X-Amz-Signature');
    if (!signed) return fail('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    const handler = ACTIONS[action];
    if (!handler) return fail('InvalidAction', `The action ${action} is not valid for this web service.`, 400);
    if (!this.throttler.admit(action, isFiltered(params))) return fail('RequestLimitExceeded', 'Request limit exceeded.', 503);
    // Permissions are not modelled: a dry run always "would have succeeded".
    if (params.str('DryRun') === 'true') return fail('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    const before = this.faults.take(action, 'before');
    if (before) return this.applyFault(before, res, fail);
    const latency = this.faults.latencyFor(action) / this.speed;
    if (latency > 0) await this.clock.sleep(latency);
    let xml: string;
    try {
      xml = handler(params, this.state, requestId);
    } catch (err) {
      const e = ec2ErrorOf(err);
      if (e.httpStatus >= 500) this.log.error({ err, action }, 'aws emulator action failed');
      return fail(e.awsCode, e.message, e.httpStatus);
    }
    const after = this.faults.take(action, 'after');
    if (after) return this.applyFault(after, res, fail);
    this.log.debug({ action, requestId }, 'ec2 call');
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
    res.end(xml);
  }

  private applyFault(hit: FaultHit, res: ServerResponse, fail: (code: string, message: string, status: number) => void): void {
    if (hit.kind === 'reset') {
      resetConnection(res);
      return;
    }
    fail(hit.code, hit.message, hit.status);
  }
}

/** The main port serves many instances, so IMDS needs the instance in the path. */
function imdsHint(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('IMDS of this emulator: /imds/<instance-id>/latest/..., or a per-instance listener (startImdsListener)\n');
}
