// CNI results: one internal shape (the 1.1.0 one) rendered per requested version, and
// prevResult decoding for chaining. 0.3.x/0.4.0 differ only by ips[].version; 1.1.0 adds
// interface mtu and route attributes, which older versions drop.
import { isIP } from 'node:net';
import { VpcnetError } from '../errors.ts';
import { compareVersions, type CniVersion } from './versions.ts';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: CniRoute[];
  dns: CniDns;
}

const V11_INTERFACE_FIELDS = ['mtu', 'socketPath', 'pciID'] as const;
const V11_ROUTE_FIELDS = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;

/** The result as JSON for `version`. */
export function renderResult(result: CniResult, version: CniVersion): Record<string, unknown> {
  const v11 = compareVersions(version, '1.1.0') >= 0;
  const v1 = compareVersions(version, '1.0.0') >= 0;
  const interfaces = result.interfaces.map((i) => {
    const out: Record<string, unknown> = { ...i };
    if (!v11) for (const f of V11_INTERFACE_FIELDS) delete out[f];
    return out;
  });
  const ips = result.ips.map((ip) => {
    const out: Record<string, unknown> = {};
    if (!v1) out.version = ip.address.includes(':') ? '6' : '4';
    Object.assign(out, ip);
    return out;
  });
  const routes = result.routes.map((r) => {
    const out: Record<string, unknown> = { ...r };
    if (!v11) for (const f of V11_ROUTE_FIELDS) delete out[f];
    return out;
  });
  const json: Record<string, unknown> = { cniVersion: version, interfaces, ips };
  if (routes.length > 0) json.routes = routes;
  json.dns = result.dns;
  return json;
}

/** "10.0.0.5/24" or "fd00::1/64": an address and a prefix length that fits its family. */
function isCidr(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(v.slice(0, slash));
  const len = v.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(len)) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

const optIp = (v: unknown): boolean => v === undefined || (typeof v === 'string' && isIP(v) !== 0);

function bad(msg: string, details: Record<string, unknown> = {}): VpcnetError {
  return new VpcnetError('CNI_INVALID_CONFIG', `invalid prevResult: ${msg}`, { details });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optUint = (v: unknown): boolean => v === undefined || (Number.isInteger(v) && (v as number) >= 0);
const strList = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'));

/** Decodes a prevResult of any supported version into the internal shape. */
export function parsePrevResult(raw: unknown): CniResult {
  if (!isObj(raw)) throw bad('must be an object');
  const interfaces: CniInterface[] = [];
  for (const [i, it] of toList(raw.interfaces, 'interfaces').entries()) {
    if (!isObj(it) || typeof it.name !== 'string' || !optStr(it.mac) || !optStr(it.sandbox) || !optUint(it.mtu)) {
      throw bad(`interfaces[${i}] is malformed`);
    }
    interfaces.push(it as unknown as CniInterface);
  }
  const ips: CniIp[] = [];
  for (const [i, it] of toList(raw.ips, 'ips').entries()) {
    if (!isObj(it) || typeof it.address !== 'string' || !optStr(it.gateway) || !optUint(it.interface)) {
      throw bad(`ips[${i}] is malformed`);
    }
    if (!isCidr(it.address)) throw bad(`ips[${i}].address is not an address with a prefix length`, { value: String(it.address).slice(0, 64) });
    if (!optIp(it.gateway)) throw bad(`ips[${i}].gateway is not an address`, { value: String(it.gateway).slice(0, 64) });
    if (it.interface !== undefined && (it.interface as number) >= interfaces.length) {
      throw bad(`ips[${i}].interface points past the interfaces list`);
    }
    const { version: _v, ...ip } = it;
    ips.push(ip as unknown as CniIp);
  }
  const routes: CniRoute[] = [];
  for (const [i, it] of toList(raw.routes, 'routes').entries()) {
    if (!isObj(it) || typeof it.dst !== 'string' || !optStr(it.gw)) throw bad(`routes[${i}] is malformed`);
    if (!isCidr(it.dst)) throw bad(`routes[${i}].dst is not a CIDR`, { value: it.dst.slice(0, 64) });
    if (!optIp(it.gw)) throw bad(`routes[${i}].gw is not an address`, { value: String(it.gw).slice(0, 64) });
    routes.push(it as unknown as CniRoute);
  }
  const dns = raw.dns ?? {};
  if (!isObj(dns) || !strList(dns.nameservers) || !optStr(dns.domain) || !strList(dns.search) || !strList(dns.options)) {
    throw bad('dns is malformed');
  }
  return { interfaces, ips, routes, dns: dns as CniDns };
}

function toList(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${what} must be a list`);
  return v;
}

/** Chaining: a plugin given a prevResult outputs it with its own additions appended. */
export function mergeResults(prev: CniResult, own: CniResult): CniResult {
  const offset = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...own.interfaces],
    ips: [...prev.ips, ...own.ips.map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset }))],
    routes: [...prev.routes, ...own.routes],
    dns: hasDns(own.dns) ? own.dns : prev.dns,
  };
}

function hasDns(d: CniDns): boolean {
  return Boolean(d.nameservers?.length || d.domain || d.search?.length || d.options?.length);
}
