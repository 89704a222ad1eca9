// Small encoders for what the netlink package leaves to the caller: IPv4 and MAC byte
// forms, CIDR parsing, and raw attribute (TLV) assembly for nested link info.
import { VpcnetError } from '../../errors.ts';
import { bytesToIpv4, cidrContains as ipCidrContains, intToIp, ipv4ToBytes, tryParseCidr, tryParseIpv4 } from '../../util/ip.ts';

export function ipToBuf(ip: string): Buffer {
  if (tryParseIpv4(ip) === undefined) throw new VpcnetError('INTERNAL', 'not an IPv4 address', { details: { ip } });
  return ipv4ToBytes(ip);
}

export function bufToIp(buf: Buffer): string {
  return bytesToIpv4(buf);
}

export interface Cidr {
  ip: string;
  prefixLen: number;
}

/**
 * "10.0.1.0/24" -> {ip, prefixLen}; a bare address is a /32; "default" is 0.0.0.0/0. A network
 * is meant (route destinations, rule selectors, nft sets): host bits set are refused, as the
 * kernel refuses them.
 */
export function parseCidr(cidr: string): Cidr {
  if (cidr === 'default') return { ip: '0.0.0.0', prefixLen: 0 };
  const c = tryParseCidr(cidr);
  if (!c) throw new VpcnetError('INTERNAL', 'not an IPv4 network (or host bits set)', { details: { cidr } });
  return { ip: intToIp(c.base), prefixLen: c.prefixLength };
}

export function formatCidr(c: Cidr): string {
  return c.prefixLen === 0 && c.ip === '0.0.0.0' ? 'default' : `${c.ip}/${c.prefixLen}`;
}

/** True when `ip` lies inside the network `cidr` ("default" holds everything). */
export function cidrContains(cidr: string, ip: string): boolean {
  return cidr === 'default' || ipCidrContains(cidr, ip);
}

export function macToBuf(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new VpcnetError('INTERNAL', 'not a MAC address', { details: { mac } });
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function bufToMac(buf: Buffer): string {
  return [...buf.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** One netlink attribute: 4-byte header (len, type) + payload padded to 4 bytes. */
export function attr(type: number, payload: Buffer | Buffer[]): Buffer {
  const body = Buffer.concat(Array.isArray(payload) ? payload : [payload]);
  const header = Buffer.alloc(4);
  header.writeUInt16LE(4 + body.length, 0);
  header.writeUInt16LE(type, 2);
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  return Buffer.concat([header, body, pad]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

/** Walks a flat attribute stream and returns payloads by type (first one wins). */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (!out.has(type)) out.set(type, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/** IFLA_INFO_DATA for an ipvlan link: IFLA_IPVLAN_MODE (u16) = l2 0, l3 1, l3s 2. */
export function ipvlanInfoData(mode: 'l2' | 'l3' | 'l3s'): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE({ l2: 0, l3: 1, l3s: 2 }[mode], 0);
  return attr(1, b);
}
