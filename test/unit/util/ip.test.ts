import { describe, expect, it } from '@jest/globals';
import { cidrAddresses, cidrContains, parseCidr, subnetGateway, tryParseCidr, tryParseIpv4, tryParseNetwork } from '../../../src/util/ip.ts';
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

  it('expands blocks and finds gateways', () => {
    expect(cidrAddresses('10.0.0.16/28')).toHaveLength(16);
    expect(cidrAddresses('10.0.0.16/28')[15]).toBe('10.0.0.31');
    expect(cidrAddresses('10.0.0.9/32')).toEqual(['10.0.0.9']);
    expect(subnetGateway('10.0.64.0/18')).toBe('10.0.64.1');
    expect(cidrContains('10.0.64.0/18', '10.0.127.255')).toBe(true);
    expect(cidrContains('10.0.64.0/18', '10.0.128.0')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '255.255.255.255')).toBe(true);
  });

});

describe('networks of either family (ip-masq-agent nonMasqueradeCIDRs)', () => {
  it('accepts every textual IPv6 form and refuses malformed ones', () => {
    for (const good of ['2001:0DB8:0000:0000:0000:0000:0000:0001', '::', '::1', 'fe80::', '::ffff:10.0.0.1', '2001:db8:0:0:1:0:0:1', '1:2:3:4:5:6:7::', '10.0.0.0/8']) {
      expect(tryParseNetwork(good)).toBeDefined();
    }
    for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', 'fe80::1%eth0', '::1.2.3', '1:2:3:4:5:6:7::8:9', '::/129', '10.0.0.0/33']) {
      expect(tryParseNetwork(bad)).toBeUndefined();
    }
  });

  it('refuses host bits in a network, also wider than a number', () => {
    expect(tryParseNetwork('2600:1f18:abcd:1200::/56')).toEqual({ family: 6, value: 0x26001f18abcd1200n << 64n, length: 56 });
    expect(tryParseNetwork('2600:1f18:abcd:1201::/56')).toBeUndefined();
    expect(tryParseNetwork('::/0')).toBeDefined();
    expect(tryParseNetwork('10.0.1.5/24')).toBeUndefined();
  });
});
