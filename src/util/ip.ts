// The one address module: IPv4 and IPv6 addresses and prefixes, used by the pool, the
// datapath, the lab, the providers and the emulators. Pure (no I/O, no env).
//
// Host bits, three different meanings, three different entry points:
// - a *network* (subnet, block, route destination): parseNetwork / parseCidr refuse host bits;
// - an *interface address* (10.0.1.5/24: an address and the prefix it lives in): parseInterface;
// - "the network that contains this address": networkOf masks host bits on purpose.
// IPv4 values are unsigned 32-bit numbers (fast path used by allocators and the emulators);
// the family-neutral API uses bigint values.
import { VpcnetError } from '../errors.ts';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface IpPrefix {
  family: IpFamily;
  /** The network address (host bits clear). */
  value: bigint;
  length: number;
}

export function bitsOf(family: IpFamily): number {
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
  if (masked && masked.family === 4) throw badAddress(text, `host bits set in a network (did you mean ${formatPrefix(masked)}?)`);
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

/** The last address of an IPv4 network (its broadcast address). */
export function cidrLast(cidr: string): string {
  const { base, size } = parseCidr(cidr);
  return intToIp(base + size - 1);
}

/** The subnet's router: its first host address (AWS, Azure and GCE all reserve it). */
export function subnetGateway(subnetCidr: string): string {
  return intToIp(parseCidr(subnetCidr).base + 1);
}

// ---- both families ------------------------------------------------------------------------

export function tryParseAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const v = parseIpv6(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const n = tryParseIpv4(text);
  return n === undefined ? undefined : { family: 4, value: BigInt(n) };
}

export function parseAddress(text: string): IpAddress {
  const a = tryParseAddress(text);
  if (!a) throw badAddress(text, 'not an IP address');
  return a;
}

/** IPv4 dotted quad; IPv6 in RFC 5952 canonical form (lowercase, longest zero run as ::). */
export function formatAddress(a: IpAddress): string {
  if (a.family === 4) return intToIp(Number(a.value));
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an address (IPv6 compressed and lowercased), or undefined if invalid. */
export function canonicalAddress(text: string): string | undefined {
  const a = tryParseAddress(text);
  return a ? formatAddress(a) : undefined;
}

/** Address and prefix length of an interface address ("10.0.1.5/24"); host bits allowed. */
export function parseInterface(text: string): { address: IpAddress; length: number; network: IpPrefix } {
  const [ip = '', len, ...rest] = text.split('/');
  const address = tryParseAddress(ip);
  const length = len === undefined ? (address ? bitsOf(address.family) : 0) : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!address || rest.length > 0 || !(length >= 0 && length <= bitsOf(address.family))) {
    throw badAddress(text, 'not an interface address');
  }
  return { address, length, network: { family: address.family, value: address.value & maskOf(address.family, length), length } };
}

/** Strict network of either family; host bits set: undefined. A bare address is a host prefix. */
export function tryParseNetwork(text: string): IpPrefix | undefined {
  const p = tryNetworkOf(text);
  if (!p) return undefined;
  const [ip = ''] = text.split('/');
  return (tryParseAddress(ip) as IpAddress).value === p.value ? p : undefined;
}

export function parseNetwork(text: string): IpPrefix {
  const p = tryParseNetwork(text);
  if (p) return p;
  const masked = tryNetworkOf(text);
  if (masked) throw badAddress(text, `host bits set in a network (did you mean ${formatPrefix(masked)}?)`);
  throw badAddress(text, 'not a CIDR');
}

/** The network that holds an interface address: host bits are masked on purpose. */
export function networkOf(text: string): IpPrefix {
  const p = tryNetworkOf(text);
  if (!p) throw badAddress(text, 'not a CIDR');
  return p;
}

function tryNetworkOf(text: string): IpPrefix | undefined {
  try {
    return parseInterface(text).network;
  } catch {
    return undefined;
  }
}

export function formatPrefix(p: IpPrefix): string {
  return `${formatAddress({ family: p.family, value: p.value })}/${p.length}`;
}

/** Number of addresses in a prefix (bigint: an IPv6 /64 does not fit a number). */
export function prefixSize(p: IpPrefix): bigint {
  return 1n << BigInt(bitsOf(p.family) - p.length);
}

export function prefixLastValue(p: IpPrefix): bigint {
  return p.value + prefixSize(p) - 1n;
}

export function prefixContainsAddress(p: IpPrefix, a: IpAddress): boolean {
  return p.family === a.family && a.value >= p.value && a.value <= prefixLastValue(p);
}

export function prefixContainsPrefix(outer: IpPrefix, inner: IpPrefix): boolean {
  return outer.family === inner.family && inner.length >= outer.length && inner.value >= outer.value && prefixLastValue(inner) <= prefixLastValue(outer);
}

export function prefixesOverlap(a: IpPrefix, b: IpPrefix): boolean {
  return a.family === b.family && a.value <= prefixLastValue(b) && b.value <= prefixLastValue(a);
}

/** The `index`-th address of a prefix (0 is the network address). */
export function addressAt(p: IpPrefix, index: bigint): IpAddress {
  if (index < 0n || index >= prefixSize(p)) throw badAddress(formatPrefix(p), `index ${index} outside the prefix`);
  return { family: p.family, value: p.value + index };
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
