// The one address module, used by the pool, the datapath, the lab, the providers and the
// emulators. Pure (no I/O, no env). IPv4 values are unsigned 32-bit numbers; a network is
// strict about host bits ("10.0.0.5/24" is an interface address, not a network). IPv6 is only
// validated (tryParseNetwork: ip-masq-agent's nonMasqueradeCIDRs may hold IPv6 networks).
import { VpcnetError } from '../errors.ts';

type IpFamily = 4 | 6;

interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface IpPrefix {
  family: IpFamily;
  /** The network address (host bits clear). */
  value: bigint;
  length: number;
}

function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

// ---- IPv4 as numbers ----------------------------------------------------------------------

/** Dotted quad -> unsigned 32-bit number; undefined when not exactly four decimal octets. */
export function tryParseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function ipToInt(ip: string): number {
  const n = tryParseIpv4(ip);
  if (n === undefined) throw badAddress(ip, 'not an IPv4 address');
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ipv4ToBytes(ip: string): Buffer {
  const n = ipToInt(ip);
  return Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

export function bytesToIpv4(buf: Uint8Array): string {
  return `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
}

/** An IPv4 network as numbers. */
export interface Cidr {
  base: number;
  prefixLength: number;
  size: number;
}

/** Strict IPv4 network ("10.0.0.0/16"); a bare address is a /32; host bits set: undefined. */
export function tryParseCidr(text: string): Cidr | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const [ip = '', len] = parts;
  if (len !== undefined && !/^\d{1,2}$/.test(len)) return undefined;
  const prefixLength = len === undefined ? 32 : Number(len);
  const base = tryParseIpv4(ip);
  if (base === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) return undefined;
  return { base, prefixLength, size };
}

/** Strict IPv4 network; throws on host bits ("10.0.0.5/24" is an interface, not a network). */
export function parseCidr(text: string): Cidr {
  const c = tryParseCidr(text);
  if (c) return c;
  const masked = tryNetworkOf(text);
  if (masked && masked.family === 4) throw badAddress(text, `host bits set in a network (did you mean ${formatCidr(Number(masked.value), masked.length)}?)`);
  throw badAddress(text, 'not an IPv4 CIDR');
}

export function formatCidr(base: number, prefixLength: number): string {
  return `${intToIp(base)}/${prefixLength}`;
}

/** Every address of an IPv4 block, lowest first (a /28 yields 16, a /32 yields 1). */
export function cidrAddresses(cidr: string): string[] {
  const { base, size } = parseCidr(cidr);
  const out: string[] = [];
  for (let i = 0; i < size; i++) out.push(intToIp(base + i));
  return out;
}

export function cidrSize(cidr: string): number {
  return parseCidr(cidr).size;
}

/** Is the address inside the network? The network must be one (no host bits). */
export function cidrContains(cidr: string, ip: string): boolean {
  const { base, size } = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= base && n < base + size;
}

/** The subnet's router: its first host address (AWS, Azure and GCE all reserve it). */
export function subnetGateway(subnetCidr: string): string {
  return intToIp(parseCidr(subnetCidr).base + 1);
}

// ---- both families (validation) -----------------------------------------------------------

function tryParseAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const v = parseIpv6(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const n = tryParseIpv4(text);
  return n === undefined ? undefined : { family: 4, value: BigInt(n) };
}

/** The network an interface address ("10.0.1.5/24") lives in; host bits masked. */
function tryNetworkOf(text: string): IpPrefix | undefined {
  const [ip = '', len, ...rest] = text.split('/');
  const address = tryParseAddress(ip);
  if (!address || rest.length > 0) return undefined;
  const length = len === undefined ? bitsOf(address.family) : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(length >= 0 && length <= bitsOf(address.family))) return undefined;
  return { family: address.family, value: address.value & maskOf(address.family, length), length };
}

/** Strict network of either family; host bits set: undefined. A bare address is a host prefix. */
export function tryParseNetwork(text: string): IpPrefix | undefined {
  const p = tryNetworkOf(text);
  if (!p) return undefined;
  const [ip = ''] = text.split('/');
  return (tryParseAddress(ip) as IpAddress).value === p.value ? p : undefined;
}

function maskOf(family: IpFamily, length: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return length === 0 ? 0n : (all << (bits - BigInt(length))) & all;
}

function parseIpv6(text: string): bigint | undefined {
  if (text.length > 45 || text.includes('%')) return undefined;
  let head = text;
  let tail4: number | undefined;
  // An embedded IPv4 tail (::ffff:10.0.0.1) counts as two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = tryParseIpv4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | BigInt(tail4);
  return v;
}

function badAddress(text: string, what: string): VpcnetError {
  return new VpcnetError('CONFIG_INVALID', `${what}: ${text}`, { details: { text } });
}

/** Do two IPv4 ranges [base, base+size) overlap? */
export function cidrsOverlap(aBase: number, aSize: number, bBase: number, bSize: number): boolean {
  return aBase < bBase + bSize && bBase < aBase + aSize;
}
