import { describe, expect, it } from '@jest/globals';
import {
  canonicalAddress,
  cidrAddresses,
  cidrContains,
  cidrLast,
  formatAddress,
  formatPrefix,
  networkOf,
  parseAddress,
  parseCidr,
  parseInterface,
  parseNetwork,
  prefixContainsAddress,
  prefixContainsPrefix,
  prefixesOverlap,
  prefixSize,
  subnetGateway,
  tryParseAddress,
  tryParseCidr,
  tryParseIpv4,
  tryParseNetwork,
} from '../../../src/util/ip.ts';
import { isVpcnetError } from '../../../src/errors.ts';

describe('IPv4', () => {
  it('parses dotted quads strictly', () => {
    expect(tryParseIpv4('0.0.0.0')).toBe(0);
    expect(tryParseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '1.2.3.-1', '1.2.3.4 ', '01234.1.1.1', 'a.b.c.d', '']) {
      expect(tryParseIpv4(bad)).toBeUndefined();
    }
  });

  it('refuses host bits where a network is meant, with the network it probably meant', () => {
    expect(tryParseCidr('10.0.0.5/24')).toBeUndefined();
    expect(() => parseCidr('10.0.0.5/24')).toThrow(/host bits set.*10\.0\.0\.0\/24/);
    try {
      parseCidr('10.0.0.5/24');
    } catch (err) {
      expect(isVpcnetError(err, 'CONFIG_INVALID')).toBe(true);
    }
    expect(parseCidr('10.0.0.16/28')).toEqual({ base: 0x0a000010, prefixLength: 28, size: 16 });
    expect(parseCidr('10.0.0.5')).toEqual({ base: 0x0a000005, prefixLength: 32, size: 1 });
    expect(parseCidr('0.0.0.0/0').size).toBe(2 ** 32);
    expect(tryParseCidr('10.0.0.0/33')).toBeUndefined();
    expect(tryParseCidr('10.0.0.0/')).toBeUndefined();
    expect(tryParseCidr('10.0.0.0/8/8')).toBeUndefined();
  });

  it('expands blocks and finds gateways and broadcast addresses', () => {
    expect(cidrAddresses('10.0.0.16/28')).toHaveLength(16);
    expect(cidrAddresses('10.0.0.16/28')[15]).toBe('10.0.0.31');
    expect(cidrAddresses('10.0.0.9/32')).toEqual(['10.0.0.9']);
    expect(subnetGateway('10.0.64.0/18')).toBe('10.0.64.1');
    expect(cidrLast('10.0.64.0/18')).toBe('10.0.127.255');
    expect(cidrContains('10.0.64.0/18', '10.0.127.255')).toBe(true);
    expect(cidrContains('10.0.64.0/18', '10.0.128.0')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '255.255.255.255')).toBe(true);
  });

  it('keeps an interface address apart from its network', () => {
    const i = parseInterface('10.0.1.5/24');
    expect(formatAddress(i.address)).toBe('10.0.1.5');
    expect(formatPrefix(i.network)).toBe('10.0.1.0/24');
    expect(formatPrefix(networkOf('10.0.1.5/24'))).toBe('10.0.1.0/24');
  });
});

describe('IPv6', () => {
  it('parses every textual form and prints RFC 5952 canonical text', () => {
    expect(canonicalAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalAddress('::')).toBe('::');
    expect(canonicalAddress('::1')).toBe('::1');
    expect(canonicalAddress('fe80::')).toBe('fe80::');
    expect(canonicalAddress('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    // the longest zero run is compressed, the first of equal runs, and never a single group
    expect(canonicalAddress('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalAddress('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(canonicalAddress('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', 'fe80::1%eth0', '::1.2.3', '1:2:3:4:5:6:7::8:9']) {
      expect(tryParseAddress(bad)).toBeUndefined();
    }
    expect(tryParseAddress('1:2:3:4:5:6:7::')?.family).toBe(6);
  });

  it('handles prefixes wider than a number and refuses host bits', () => {
    const p = parseNetwork('2600:1f18:abcd:1200::/56');
    expect(prefixSize(p)).toBe(2n ** 72n);
    expect(prefixContainsAddress(p, parseAddress('2600:1f18:abcd:12ff:ffff:ffff:ffff:ffff'))).toBe(true);
    expect(prefixContainsAddress(p, parseAddress('2600:1f18:abcd:1300::'))).toBe(false);
    expect(prefixContainsAddress(p, parseAddress('10.0.0.1'))).toBe(false);
    expect(tryParseNetwork('2600:1f18:abcd:1201::/56')).toBeUndefined();
    expect(() => parseNetwork('2600:1f18:abcd:1201::/56')).toThrow(/2600:1f18:abcd:1200::\/56/);
    expect(tryParseNetwork('::/129')).toBeUndefined();
    expect(formatPrefix(parseNetwork('::/0'))).toBe('::/0');
    const delegated = parseNetwork('2600:1f18:abcd:1234:5::/80');
    expect(prefixContainsPrefix(parseNetwork('2600:1f18:abcd:1234::/64'), delegated)).toBe(true);
    expect(prefixesOverlap(delegated, parseNetwork('2600:1f18:abcd:1234:5:0:0:7/128'))).toBe(true);
    expect(prefixesOverlap(delegated, parseNetwork('10.0.0.0/8'))).toBe(false);
  });
});
