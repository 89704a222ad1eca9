// IMDSv2 client: a session token from PUT /latest/api/token, cached until shortly before
// its TTL ends, sent on every GET. Unreachable metadata becomes METADATA_UNREACHABLE naming
// the endpoint; 404 becomes CLOUD_NOT_FOUND. Independent items are read in parallel rounds
// (each round costs one metadata round trip), at most `maxConcurrent` requests in flight
// because IMDS throttles per instance and limits simultaneous connections.
import { request as httpRequest } from 'node:http';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { withRetry, type BackoffPolicy } from '../../kit/retry.ts';

export interface ImdsOptions {
  /** Base URL, e.g. http://169.254.169.254 (no trailing path). */
  endpoint: string;
  /** Token lifetime asked for, seconds (1..21600). */
  tokenTtlSeconds: number;
  /** Per-request timeout, ms. */
  timeoutMs: number;
  backoff: BackoffPolicy;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Requests in flight at once; default DEFAULT_IMDS_CONCURRENCY. */
  maxConcurrent?: number;
}

/**
 * IMDS requests in flight at once. Each start-up round of a one-NIC node (at most 9 requests)
 * fits; the cap keeps a many-NIC node well inside IMDS's per-instance connection limit and the
 * per-interface packet allowance of link-local services.
 */
export const DEFAULT_IMDS_CONCURRENCY = 16;

/** Identity and every attached interface, read in three rounds (token, facts + MAC list, per-MAC fields). */
export interface ImdsSnapshot {
  identity: ImdsIdentity;
  interfaces: ImdsInterface[];
}

export interface ImdsInterface {
  mac: string;
  deviceNumber: number;
  interfaceId: string;
  subnetId: string;
  subnetCidr: string;
  vpcId: string;
  vpcCidrs: string[];
  localIpv4s: string[];
  ipv4Prefixes: string[];
  securityGroupIds: string[];
}

/** What the node's metadata says about one attached NIC's addresses (the cheap drift check). */
export interface ImdsNicAddresses {
  mac: string;
  localIpv4s: string[];
  ipv4Prefixes: string[];
}

export interface ImdsIdentity {
  instanceId: string;
  instanceType: string;
  zone: string;
  region: string;
  primaryMac: string;
  primaryIp: string;
}

/** Refresh the token this long before it expires so a GET never races the expiry. */
const TOKEN_MARGIN_MS = 60_000;

class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, path: string) {
    super(`metadata ${path} answered HTTP ${status}`);
    this.status = status;
  }
}

export class ImdsClient {
  private readonly opts: ImdsOptions;
  private token: { value: string; expiresAt: number } | undefined;
  private tokenPending: Promise<string> | undefined;
  /** Bounds requests in flight; retry back-off waits outside it. */
  private readonly slots: PQueue;

  constructor(opts: ImdsOptions) {
    this.opts = opts;
    this.slots = new PQueue({ concurrency: Math.max(1, opts.maxConcurrent ?? DEFAULT_IMDS_CONCURRENCY) });
  }

  get endpoint(): string {
    return this.opts.endpoint;
  }

  /** GET /latest/meta-data/<path>, text. */
  async get(path: string): Promise<string> {
    return withRetry(
      async () => {
        const url = `/latest/meta-data/${path}`;
        try {
          return await this.request('GET', url, { 'x-aws-ec2-metadata-token': await this.sessionToken() });
        } catch (err) {
          if (!(err instanceof HttpStatusError && err.status === 401)) throw err;
          // The token expired or was revoked: get a new one and ask again at once.
          this.token = undefined;
          return await this.request('GET', url, { 'x-aws-ec2-metadata-token': await this.sessionToken() });
        }
      },
      {
        clock: this.opts.clock,
        policy: this.opts.backoff,
        random: this.opts.random,
        isRetryable: (err) => !(err instanceof HttpStatusError) || err.status === 429 || err.status >= 500,
        onRetry: (err, attempt, delayMs) =>
          this.opts.logger.warn({ path, attempt, delayMs, err: errText(err) }, 'metadata request failed, retrying'),
      },
      (err) => this.toError(err, path),
    );
  }

  /** A list item: one entry per line, trailing '/' of directory entries removed. */
  async getList(path: string): Promise<string[]> {
    const text = await this.get(path);
    return text
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l.length > 0);
  }

  /** The instance's facts: one round of parallel GETs (after the token). */
  async identity(): Promise<ImdsIdentity> {
    const [instanceId, instanceType, zone, primaryMac, primaryIp, region] = await Promise.all([
      this.get('instance-id'),
      this.get('instance-type'),
      this.get('placement/availability-zone'),
      this.get('mac'),
      this.get('local-ipv4'),
      // Older metadata versions lack placement/region; the zone name carries it.
      this.optional(this.get('placement/region')),
    ]);
    return {
      instanceId: instanceId.trim(),
      instanceType: instanceType.trim(),
      zone: zone.trim(),
      region: region?.trim() ?? zone.trim().replace(/[a-z]$/, ''),
      primaryMac: primaryMac.trim().toLowerCase(),
      primaryIp: primaryIp.trim(),
    };
  }

  /** Identity and all interfaces: the facts and the MAC list in one round, then every MAC's fields in the next. */
  async snapshot(): Promise<ImdsSnapshot> {
    const [identity, interfaces] = await Promise.all([this.identity(), this.interfaces()]);
    return { identity, interfaces };
  }

  /** The interfaces metadata knows about. It lags the EC2 API: it never adds to cloud truth, it only tells when to ask EC2. */
  async interfaces(): Promise<ImdsInterface[]> {
    const macs = await this.getList('network/interfaces/macs/');
    return Promise.all(macs.map((mac) => this.interfaceOf(mac)));
  }

  async interfaceOf(mac: string): Promise<ImdsInterface> {
    const base = `network/interfaces/macs/${mac}/`;
    const optionalList = async (p: string): Promise<string[]> => (await this.optional(this.getList(base + p))) ?? [];
    const [deviceNumber, interfaceId, subnetId, subnetCidr, vpcId, vpcCidrs, localIpv4s, ipv4Prefixes, securityGroupIds] = await Promise.all([
      this.get(base + 'device-number'),
      this.get(base + 'interface-id'),
      this.get(base + 'subnet-id'),
      this.get(base + 'subnet-ipv4-cidr-block'),
      this.get(base + 'vpc-id'),
      optionalList('vpc-ipv4-cidr-blocks'),
      optionalList('local-ipv4s'),
      optionalList('ipv4-prefix'),
      optionalList('security-group-ids'),
    ]);
    return {
      mac: mac.toLowerCase(),
      deviceNumber: Number.parseInt(deviceNumber.trim(), 10),
      interfaceId: interfaceId.trim(),
      subnetId: subnetId.trim(),
      subnetCidr: subnetCidr.trim(),
      vpcId: vpcId.trim(),
      vpcCidrs,
      localIpv4s,
      ipv4Prefixes,
      securityGroupIds,
    };
  }

  /** The attached NICs' MACs (lowercase), as metadata shows them now. */
  async macs(): Promise<string[]> {
    return (await this.getList('network/interfaces/macs/')).map((m) => m.toLowerCase());
  }

  /** Addresses and prefixes of every attached NIC: 1 + 2 requests per NIC, in two rounds. */
  async addresses(): Promise<ImdsNicAddresses[]> {
    const macs = await this.macs();
    // Not found: a NIC detached between the two reads, or one without prefixes.
    const list = async (mac: string, p: string): Promise<string[]> => (await this.optional(this.getList(`network/interfaces/macs/${mac}/${p}`))) ?? [];
    return Promise.all(
      macs.map(async (mac) => {
        const [localIpv4s, ipv4Prefixes] = await Promise.all([list(mac, 'local-ipv4s'), list(mac, 'ipv4-prefix')]);
        return { mac, localIpv4s, ipv4Prefixes };
      }),
    );
  }

  /** The item, or undefined when metadata does not have it (404). */
  private async optional<T>(read: Promise<T>): Promise<T | undefined> {
    try {
      return await read;
    } catch (err) {
      if (err instanceof VpcnetError && err.code === 'CLOUD_NOT_FOUND') return undefined;
      throw err;
    }
  }

  private async sessionToken(): Promise<string> {
    const now = this.opts.clock.now();
    if (this.token && now < this.token.expiresAt) return this.token.value;
    // Concurrent GETs share one token request.
    this.tokenPending ??= this.request('PUT', '/latest/api/token', {
      'x-aws-ec2-metadata-token-ttl-seconds': String(this.opts.tokenTtlSeconds),
    })
      .then((value) => {
        const ttlMs = this.opts.tokenTtlSeconds * 1000;
        this.token = { value, expiresAt: this.opts.clock.now() + Math.max(ttlMs - TOKEN_MARGIN_MS, ttlMs / 2) };
        return value;
      })
      .finally(() => {
        this.tokenPending = undefined;
      });
    return this.tokenPending;
  }

  /**
   * One metadata request over node:http. Not fetch(): its HTTP parser is a WebAssembly module
   * whose compilation costs an agent ~20 MB of resident memory for a few local GETs.
   */
  private request(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> {
    return this.slots.add(() => this.send(method, path, headers));
  }

  private send(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(this.opts.endpoint + path, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new HttpStatusError(status, path));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
      });
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`no answer within ${this.opts.timeoutMs} ms`), { name: 'TimeoutError' }));
      }, this.opts.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  private toError(err: unknown, path: string): VpcnetError {
    const details = { endpoint: this.opts.endpoint, path };
    if (err instanceof HttpStatusError) {
      if (err.status === 404) return new VpcnetError('CLOUD_NOT_FOUND', `metadata item ${path} not found at ${this.opts.endpoint}`, { cause: err, details: { ...details, status: 404 } });
      if (err.status === 403)
        return new VpcnetError('CLOUD_PERMISSION_DENIED', `instance metadata at ${this.opts.endpoint} refused ${path} (HTTP 403: metadata disabled?)`, { cause: err, details: { ...details, status: 403 } });
      return new VpcnetError('METADATA_UNREACHABLE', `instance metadata at ${this.opts.endpoint} answered HTTP ${err.status} for ${path}`, { cause: err, details: { ...details, status: err.status } });
    }
    return new VpcnetError(
      'METADATA_UNREACHABLE',
      `instance metadata unreachable at ${this.opts.endpoint} (${errText(err)}); IMDSv2 needs hop limit 2 for agents in containers`,
      { cause: err, details },
    );
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? `${err.name}: ${code}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
