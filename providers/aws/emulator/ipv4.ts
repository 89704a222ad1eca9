// IPv4 helpers on unsigned 32-bit numbers.

export interface Cidr {
  base: number;
  length: number;
}

export function parseIpv4(text: string): number | undefined {
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

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr | undefined {
  const [ip, len, ...rest] = text.split('/');
  if (ip === undefined || len === undefined || rest.length > 0 || !/^\d{1,2}$/.test(len)) return undefined;
  const base = parseIpv4(ip);
  const length = Number(len);
  if (base === undefined || length > 32) return undefined;
  if (base % 2 ** (32 - length) !== 0) return undefined;
  return { base, length };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.length}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.length);
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.length >= outer.length && inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}
