// IMDSv2 for every emulated instance: session tokens (PUT /latest/api/token), text/plain
// answers, and eventual consistency: the metadata shows the instance as it was `lagMs` ago.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/util/clock.ts';
import type { ChangeEvent, InstanceView } from './model.ts';
import { privateDnsName } from './render.ts';
import { azIdOf, type Ec2State } from './state.ts';

const MAX_TTL_SECONDS = 21600;
/** Above this many tokens, expired ones are dropped when a new one is issued. */
const MAX_LIVE_TOKENS = 10000;

export interface ImdsReply {
  status: number;
  body: string;
  /** Extra response headers (the token's TTL on a token PUT). */
  headers?: Record<string, string>;
}

interface Snapshot {
  at: number;
  view: InstanceView | undefined;
}

export class Imds {
  private readonly state: Ec2State;
  private readonly clock: Clock;
  private lag: number;
  private readonly tokens = new Map<string, { instanceId: string; expires: number }>();
  private readonly history = new Map<string, Snapshot[]>();

  constructor(state: Ec2State, clock: Clock, lagMs = 0) {
    this.state = state;
    this.clock = clock;
    this.lag = lagMs;
    state.events.on('change', (ev) => this.record(ev));
  }

  /** Metadata lag in (real) ms; 0 answers from live state. */
  setLag(ms: number): void {
    this.lag = ms;
  }

  /** Serves one request for `instanceId`; `path` starts at /latest/... */
  handle(instanceId: string, method: string, path: string, headers: Record<string, string | string[] | undefined>): ImdsReply {
    if (!this.state.instanceById(instanceId)) return { status: 404, body: 'Not Found' };
    // Attaches and detaches in flight finish on time even if no API call comes in.
    this.state.settle();
    if (method === 'PUT') return this.issueToken(instanceId, path, headers);
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'Method Not Allowed' };
    const token = headerValue(headers, 'x-aws-ec2-metadata-token');
    const session = token === undefined ? undefined : this.tokens.get(token);
    if (!session || session.instanceId !== instanceId || session.expires <= this.clock.now()) {
      return { status: 401, body: 'Unauthorized' };
    }
    const view = this.viewOf(instanceId);
    if (!view || view.state !== 'running') return { status: 404, body: 'Not Found' };
    if (/^\/latest\/?$/.test(path)) return { status: 200, body: 'dynamic\nmeta-data' };
    const dyn = /^\/latest\/dynamic\/?(.*)$/.exec(path);
    if (dyn) {
      const value = dynamicValue(view, (dyn[1] ?? '').replace(/\/+$/, ''));
      return value === undefined ? { status: 404, body: 'Not Found' } : { status: 200, body: value };
    }
    const m = /^\/latest\/meta-data\/?(.*)$/.exec(path);
    if (!m) return { status: 404, body: 'Not Found' };
    const value = metadataValue(view, this.state.ownerId, (m[1] ?? '').replace(/\/+$/, ''));
    return value === undefined ? { status: 404, body: 'Not Found' } : { status: 200, body: value };
  }

  private issueToken(instanceId: string, path: string, headers: Record<string, string | string[] | undefined>): ImdsReply {
    if (path !== '/latest/api/token') return { status: 403, body: 'Forbidden' };
    // A token PUT that went through a proxy is refused, so a misconfigured proxy cannot mint
    // tokens for others (EC2 IMDSv2 rejects any X-Forwarded-For).
    if (headerValue(headers, 'x-forwarded-for') !== undefined) return { status: 403, body: 'Forbidden' };
    const ttlText = headerValue(headers, 'x-aws-ec2-metadata-token-ttl-seconds');
    const ttl = Number(ttlText);
    if (ttlText === undefined || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
      return { status: 400, body: 'Missing or Invalid Parameters' };
    }
    if (this.tokens.size > MAX_LIVE_TOKENS) this.dropExpiredTokens();
    const token = randomBytes(32).toString('base64');
    this.tokens.set(token, { instanceId, expires: this.clock.now() + ttl * 1000 });
    return { status: 200, body: token, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) } };
  }

  private dropExpiredTokens(): void {
    const now = this.clock.now();
    for (const [token, session] of this.tokens) if (session.expires <= now) this.tokens.delete(token);
  }

  private record(ev: ChangeEvent): void {
    // Snapshots are kept even without lag, so a lag set later has a past to show.
    if (!ev.instanceId) return;
    const list = this.history.get(ev.instanceId) ?? [];
    // A new instance's metadata is there from the start; only later changes lag.
    // Kept in order: a change noticed late by settle() may carry an earlier time.
    const at = ev.kind === 'instance-created' ? -Infinity : Math.max(ev.at, list[list.length - 1]?.at ?? -Infinity);
    list.push({ at, view: this.state.instanceView(ev.instanceId) });
    this.history.set(ev.instanceId, list);
    this.visibleSnapshot(list);
  }

  /** The newest snapshot old enough to be visible; older ones are dropped. */
  private visibleSnapshot(list: Snapshot[]): Snapshot | undefined {
    const visibleBefore = this.clock.now() - this.lag;
    let idx = -1;
    for (let i = 0; i < list.length; i++) if ((list[i] as Snapshot).at <= visibleBefore) idx = i;
    if (idx > 0) list.splice(0, idx);
    return idx < 0 ? undefined : list[0];
  }

  private viewOf(instanceId: string): InstanceView | undefined {
    const list = this.history.get(instanceId);
    if (this.lag <= 0 || !list?.length) return this.state.instanceView(instanceId);
    return this.visibleSnapshot(list)?.view;
  }
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const TOP_LEVEL = ['ami-id', 'hostname', 'instance-id', 'instance-type', 'local-hostname', 'local-ipv4', 'mac', 'network/', 'placement/'];
const ENI_KEYS = [
  'device-number',
  'interface-id',
  'ipv4-prefix',
  'local-ipv4s',
  'mac',
  'owner-id',
  'security-group-ids',
  'subnet-id',
  'subnet-ipv4-cidr-block',
  'vpc-id',
  'vpc-ipv4-cidr-block',
  'vpc-ipv4-cidr-blocks',
];

function metadataValue(view: InstanceView, ownerId: string, key: string): string | undefined {
  const primary = view.enis.find((e) => e.deviceIndex === 0);
  switch (key) {
    case '':
      return TOP_LEVEL.join('\n');
    case 'ami-id':
      return view.imageId;
    case 'hostname':
    case 'local-hostname':
      return primary ? privateDnsName(primary.primaryIp, view.region) : undefined;
    case 'instance-id':
      return view.instanceId;
    case 'instance-type':
      return view.instanceType;
    case 'local-ipv4':
      return primary?.primaryIp;
    case 'mac':
      return primary?.mac;
    case 'placement':
      return 'availability-zone\navailability-zone-id\nregion';
    case 'placement/availability-zone':
      return view.az;
    case 'placement/availability-zone-id':
      return azIdOf(view.az);
    case 'placement/region':
      return view.region;
    case 'network':
      return 'interfaces/';
    case 'network/interfaces':
      return 'macs/';
    case 'network/interfaces/macs':
      return view.enis.map((e) => `${e.mac}/`).join('\n');
  }
  const m = /^network\/interfaces\/macs\/([0-9a-f:]{17})(?:\/(.*))?$/.exec(key);
  const eni = m ? view.enis.find((e) => e.mac === m[1]) : undefined;
  if (!m || !eni) return undefined;
  switch (m[2] ?? '') {
    case '':
      return ENI_KEYS.filter((k) => k !== 'ipv4-prefix' || eni.prefixes.length > 0).join('\n');
    case 'device-number':
      return String(eni.deviceIndex ?? 0);
    case 'interface-id':
      return eni.eniId;
    case 'local-ipv4s':
      return [eni.primaryIp, ...eni.secondaryIps].join('\n');
    case 'ipv4-prefix':
      return eni.prefixes.length ? eni.prefixes.join('\n') : undefined;
    case 'mac':
      return eni.mac;
    case 'owner-id':
      return ownerId;
    case 'security-group-ids':
      return eni.securityGroups.join('\n');
    case 'subnet-id':
      return eni.subnetId;
    case 'subnet-ipv4-cidr-block':
      return eni.subnetCidr;
    case 'vpc-id':
      return eni.vpcId;
    case 'vpc-ipv4-cidr-block':
      return eni.vpcCidrs[0];
    case 'vpc-ipv4-cidr-blocks':
      return eni.vpcCidrs.join('\n');
    default:
      return undefined;
  }
}

/** /latest/dynamic/...: the instance identity document (unsigned: no pkcs7 or signature here). */
function dynamicValue(view: InstanceView, key: string): string | undefined {
  switch (key) {
    case '':
      return 'instance-identity/';
    case 'instance-identity':
      return 'document';
    case 'instance-identity/document':
      return identityDocument(view);
    default:
      return undefined;
  }
}

/** The document's fields, order and layout as EC2 serves it (`"key" : value`, two-space indent). */
export function identityDocument(view: InstanceView): string {
  const doc = {
    accountId: view.accountId,
    architecture: view.architecture,
    availabilityZone: view.az,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: view.imageId,
    instanceId: view.instanceId,
    instanceType: view.instanceType,
    kernelId: null,
    pendingTime: new Date(view.launchTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    privateIp: view.enis.find((e) => e.deviceIndex === 0)?.primaryIp ?? null,
    ramdiskId: null,
    region: view.region,
    version: '2017-09-30',
  };
  return JSON.stringify(doc, null, 2).replace(/^( {2}"[A-Za-z]+"): /gm, '$1 : ');
}
