// IPv4 address arithmetic shared by the pool, the datapath, the lab and the agent.
// Addresses as unsigned 32-bit numbers.
import { VpcnetError } from '../errors.ts';

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw badAddress(ip);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw badAddress(ip);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  prefixLength: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split('/');
  const prefixLength = len === undefined ? 32 : Number(len);
  if (ip === undefined || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw badAddress(cidr);
  }
  const size = 2 ** (32 - prefixLength);
  const base = ipToInt(ip) - (ipToInt(ip) % size);
  return { base, prefixLength, size };
}

export function formatCidr(base: number, prefixLength: number): string {
  return `${intToIp(base)}/${prefixLength}`;
}

/** Every address of a block, lowest first (a /28 yields 16, a /32 yields 1). */
export function cidrAddresses(cidr: string): string[] {
  const { base, size } = parseCidr(cidr);
  const out: string[] = [];
  for (let i = 0; i < size; i++) out.push(intToIp(base + i));
  return out;
}

export function cidrSize(cidr: string): number {
  return parseCidr(cidr).size;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const { base, size } = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= base && n < base + size;
}

/** The subnet's router: its first host address (AWS, Azure and GCE all reserve it). */
export function subnetGateway(subnetCidr: string): string {
  return intToIp(parseCidr(subnetCidr).base + 1);
}

function badAddress(text: string): VpcnetError {
  return new VpcnetError('CONFIG_INVALID', `not an IPv4 address or CIDR: ${text}`, { details: { text } });
}
