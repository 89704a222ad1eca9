import { describe, expect, it } from '@jest/globals';
import { hostVethName, nicTable } from '../../../src/datapath/naming.ts';
import { validateIfname, validateNetnsPath } from '../../../src/datapath/validate.ts';
import { isVpcnetError } from '../../../src/errors.ts';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isVpcnetError(err) ? err.code : 'other';
  }
}

describe('interface names', () => {
  it('accepts Linux-valid names', () => {
    for (const n of ['eth0', 'a', 'x'.repeat(15), 'net-1_2.3', 'eni0123456789a']) expect(codeOf(() => validateIfname(n))).toBeUndefined();
  });
  it('rejects what the kernel rejects', () => {
    for (const n of ['', 'x'.repeat(16), 'a/b', 'a b', 'a:b', '.', '..', 'a\tb', 'a\0b', 'é'.repeat(8)]) {
      expect(codeOf(() => validateIfname(n))).toBe('IFNAME_INVALID');
    }
  });
});

describe('netns paths (format only)', () => {
  const dirs = ['/var/run/netns', '/run/netns', '/tmp/lab-ns'];
  it('accepts allowed directories and /proc/<pid>/ns/net', () => {
    for (const p of ['/var/run/netns/cni-1234', '/run/netns/x', '/tmp/lab-ns/pod1', '/proc/42/ns/net']) {
      expect(codeOf(() => validateNetnsPath(p, dirs, false))).toBeUndefined();
    }
  });
  it('rejects traversal, other places, relative and nested paths', () => {
    for (const p of ['/var/run/netns/../../etc/shadow', '/etc/passwd', 'var/run/netns/x', '/var/run/netns/', '/var/run/netns//x', '/var/run/netns/a/b', '/proc/self/ns/net', '/proc/1/ns/mnt', '/var/run/netnsx/y', '/run/netns/./x']) {
      expect(codeOf(() => validateNetnsPath(p, dirs, false))).toBe('NETNS_INVALID');
    }
  });
  it('requires an nsfs file when asked to', () => {
    expect(codeOf(() => validateNetnsPath('/tmp/lab-ns/does-not-exist', dirs, true))).toBe('NETNS_INVALID');
  });
});

describe('host-side naming', () => {
  it('derives a stable veth name within IFNAMSIZ from container and ifname', () => {
    const a = hostVethName('abc', 'eth0');
    expect(a).toMatch(/^eni[0-9a-f]{11}$/);
    expect(hostVethName('abc', 'eth0')).toBe(a);
    expect(hostVethName('abc', 'eth1')).not.toBe(a);
    expect(hostVethName('abd', 'eth0')).not.toBe(a);
  });
  it('uses table main for the primary NIC and deviceIndex+1 for others', () => {
    expect(nicTable(0)).toBe(254);
    expect(nicTable(1)).toBe(2);
    expect(nicTable(14)).toBe(15);
  });
});
