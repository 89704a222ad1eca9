import { describe, expect, it } from '@jest/globals';
import { attr, bufToIp, bufToMac, cidrContains, cstr, ipToBuf, macToBuf, parseAttrs, parseCidr } from '../../../src/datapath/netlink/codec.ts';
import { fabricNicsFromCloud, publicIpsOf, subnetGateway } from '../../../src/lab/fabric-state.ts';

describe('netlink codec', () => {
  it('round-trips addresses and MACs and rejects junk', () => {
    expect(bufToIp(ipToBuf('10.0.2.250'))).toBe('10.0.2.250');
    expect(bufToMac(macToBuf('02:AB:00:00:01:ff'))).toBe('02:ab:00:00:01:ff');
    expect(() => ipToBuf('10.0.0.256')).toThrow();
    expect(() => ipToBuf('10.0.0')).toThrow();
    expect(() => macToBuf('02:ab:00:00:01')).toThrow();
  });
  it('parses CIDRs and membership', () => {
    expect(parseCidr('default')).toEqual({ ip: '0.0.0.0', prefixLen: 0 });
    expect(parseCidr('10.0.1.5')).toEqual({ ip: '10.0.1.5', prefixLen: 32 });
    expect(() => parseCidr('10.0.0.0/33')).toThrow();
    expect(cidrContains('10.0.0.0/16', '10.0.255.1')).toBe(true);
    expect(cidrContains('10.0.0.0/16', '10.1.0.1')).toBe(false);
  });
  it('builds padded attributes that parse back', () => {
    const buf = Buffer.concat([attr(3, cstr('eth0')), attr(4, Buffer.from([1, 2, 3, 4]))]);
    expect(buf.length % 4).toBe(0);
    const m = parseAttrs(buf);
    expect(m.get(3)?.toString()).toBe('eth0\0');
    expect([...(m.get(4) ?? [])]).toEqual([1, 2, 3, 4]);
  });
});

describe('fabric state from cloud NICs', () => {
  it('maps NICs with blocks, gateway = subnet + 1, public = primary NIC addresses', () => {
    const nics = fabricNicsFromCloud('node1', [
      { deviceIndex: 0, mac: '02:AA:00:00:00:01', primaryIp: '10.0.1.10', subnetCidr: '10.0.1.0/24', blocks: [{ kind: 'ip', cidr: '10.0.1.11' }] },
      { deviceIndex: 1, mac: '02:aa:00:00:00:02', primaryIp: '10.0.2.10', subnetCidr: '10.0.2.0/24', blocks: [{ kind: 'prefix', cidr: '10.0.2.32/28' }] },
    ]);
    expect(nics[0]).toEqual({ node: 'node1', deviceIndex: 0, mac: '02:aa:00:00:00:01', primaryIp: '10.0.1.10', subnetCidr: '10.0.1.0/24', gateway: '10.0.1.1', blocks: ['10.0.1.11/32'] });
    expect(nics[1]?.blocks).toEqual(['10.0.2.32/28']);
    expect(publicIpsOf({ nics })).toEqual(['10.0.1.10']);
    expect(subnetGateway('172.31.16.0/20')).toBe('172.31.16.1');
  });
});
