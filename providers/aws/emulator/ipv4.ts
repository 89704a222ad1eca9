// The emulator's view of src/util/ip.ts (the one address module): numbers, `undefined` for
// bad input (the emulator turns that into InvalidParameterValue), networks strict about host
// bits as EC2 is ("10.0.0.5/24" is not a valid subnet CIDR).
import { cidrsOverlap as ipCidrsOverlap, intToIp, tryParseCidr, tryParseIpv4 } from '../../../src/util/ip.ts';

export interface Cidr {
  base: number;
  length: number;
}

export const parseIpv4 = tryParseIpv4;
export const formatIpv4 = intToIp;

export function parseCidr(text: string): Cidr | undefined {
  if (!text.includes('/')) return undefined;
  const c = tryParseCidr(text);
  return c && { base: c.base, length: c.prefixLength };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.length}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.length);
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.length >= outer.length && inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return ipCidrsOverlap(a.base, cidrSize(a), b.base, cidrSize(b));
}
