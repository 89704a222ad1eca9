// The netlink wrapper against a real kernel, inside throwaway lab namespaces.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeSync } from 'node:fs';
import { Rtnl, openNetnsFd, readSysctl, writeSysctl } from '../../src/datapath/netlink/index.ts';
import { isVpcnetError } from '../../src/errors.ts';
import { Lab } from '../../src/lab/lab.ts';
import { requireRoot, runPrefix } from './helpers/lab-helpers.ts';

let lab: Lab;
let a: string;
let b: string;

beforeAll(() => {
  requireRoot();
  lab = Lab.create({ prefix: runPrefix() });
  a = lab.addPod('a');
  b = lab.addPod('b');
  lab.ip(lab.podNs('a'), ['addr', 'add', '10.9.0.1/32', 'dev', 'lo']);
}, 60_000);

afterAll(() => lab?.destroy());

describe('Rtnl', () => {
  it('creates a generic link, moves it into another namespace with a new name, deletes it', async () => {
    const ra = Rtnl.open(a);
    const rb = Rtnl.open(b);
    try {
      await ra.createLink({ name: 'gen0', kind: 'veth', mtu: 1400 });
      const l = await ra.getLink('gen0');
      expect(l).toMatchObject({ kind: 'veth', mtu: 1400, up: false });
      const fd = openNetnsFd(b);
      try {
        await ra.moveLink(l!.index, fd, 'moved0');
      } finally {
        closeSync(fd);
      }
      expect(await ra.getLink('gen0')).toBeUndefined();
      const m = await rb.getLink('moved0');
      expect(m?.kind).toBe('veth');
      await rb.setLink(m!.index, { up: true, mtu: 1300, mac: '02:12:34:56:78:9a' });
      expect(await rb.findLinkByMac('02:12:34:56:78:9A')).toMatchObject({ name: 'moved0', mtu: 1300, up: true });
      await rb.deleteLink(m!.index);
      expect(await rb.getLink('moved0')).toBeUndefined();
    } finally {
      ra.close();
      rb.close();
    }
  });

  it('routes in tables above 255, onlink gateways, rules and neighbours round-trip', async () => {
    const ra = Rtnl.open(a);
    try {
      await ra.createVeth({ name: 'v0', peerName: 'v1' });
      const v0 = (await ra.getLink('v0'))!;
      await ra.setLink(v0.index, { up: true });
      await ra.addRoute({ dst: 'default', gateway: '10.77.0.1', oif: v0.index, table: 1000, onlink: true });
      expect(await ra.listRoutes(1000)).toEqual([expect.objectContaining({ dst: 'default', gateway: '10.77.0.1', oif: v0.index, onlink: true, table: 1000 })]);
      await ra.addRule({ priority: 1536, table: 1000, from: '10.77.0.5/32' });
      expect((await ra.listRules()).filter((r) => r.table === 1000)).toEqual([{ priority: 1536, table: 1000, from: '10.77.0.5/32' }]);
      await ra.setPermanentNeigh({ ifindex: v0.index, ip: '10.77.0.9', mac: '02:00:00:00:00:09' });
      expect(await ra.listNeighs(v0.index)).toEqual([expect.objectContaining({ ip: '10.77.0.9', mac: '02:00:00:00:00:09', permanent: true })]);
      const dup = await ra.addRule({ priority: 1536, table: 1000, from: '10.77.0.5/32' }).catch((e: unknown) => e);
      expect(isVpcnetError(dup, 'NETLINK') && dup.details).toMatchObject({ errno: 'EEXIST', op: 'rule.add' });
      await ra.delRule({ priority: 1536, table: 1000, from: '10.77.0.5/32' });
      await ra.deleteLink(v0.index);
      expect(await ra.listRoutes(1000)).toEqual([]);
    } finally {
      ra.close();
    }
  });

  it('createVeth answers with the new host end as the kernel has it (when the kernel echoes), and the socket keeps answering after', async () => {
    const ra = Rtnl.open(a);
    try {
      const made = await ra.createVeth({ name: 'ev0', peerName: 'ev1', mtu: 1400, up: true });
      const read = await ra.getLink('ev0');
      // kernels before 6.3 do not echo RTM_NEWLINK: then the caller reads the link back
      if (made) expect(made).toEqual(read);
      expect(read).toMatchObject({ mtu: 1400, up: true, kind: 'veth' });
      expect((await ra.listLinks()).map((l) => l.name)).toEqual(expect.arrayContaining(['ev0', 'ev1']));
      await ra.deleteLink(read!.index);
    } finally {
      ra.close();
    }
  });

  it('a batch applies its changes in order in one request and reports each refusal without stopping the rest', async () => {
    const ra = Rtnl.open(a);
    try {
      await ra.createVeth({ name: 'bv0', peerName: 'bv1' });
      const v = (await ra.getLink('bv0'))!;
      const rule = { priority: 1536, table: 1001, from: '10.78.0.5/32' };
      const got = ra.batch([
        { op: 'link.up', index: v.index },
        { op: 'addr.replace', spec: { ifindex: v.index, ip: '10.78.0.5', prefixLen: 32 } },
        { op: 'route.replace', spec: { dst: '169.254.1.1', oif: v.index, scope: 'link' } },
        // needs the route before it: only works when the kernel runs the batch in order
        { op: 'route.replace', spec: { dst: 'default', gateway: '169.254.1.1', oif: v.index, table: 1001 } },
        { op: 'rule.add', spec: rule },
        { op: 'rule.add', spec: rule },
        { op: 'rule.del', spec: { priority: 1536, table: 0, from: '10.78.0.99/32' } },
        { op: 'neigh.replace', spec: { ifindex: v.index, ip: '169.254.1.1', mac: '02:00:00:00:00:0a' } },
        { op: 'addr.replace', spec: { ifindex: v.index, ip: '10.78.1.5', prefixLen: 24, noPrefixRoute: true } },
        { op: 'route.replace', spec: { dst: '10.79.0.0/24', gateway: '10.79.0.1', oif: v.index, table: 1001, onlink: true, src: '10.78.0.5' } },
      ]);
      // a request queued behind the batch on the same socket gets its own answer
      const link = ra.getLink('bv0');
      expect(await got).toEqual([undefined, undefined, undefined, undefined, undefined, 'EEXIST', 'ENOENT', undefined, undefined, undefined]);
      expect((await link)?.up).toBe(true);
      expect(await ra.listAddrs(v.index)).toEqual([
        expect.objectContaining({ ip: '10.78.0.5', prefixLen: 32, noPrefixRoute: false }),
        expect.objectContaining({ ip: '10.78.1.5', prefixLen: 24, noPrefixRoute: true }),
      ]);
      expect(await ra.listRoutes(1001)).toEqual([
        expect.objectContaining({ dst: 'default', gateway: '169.254.1.1', oif: v.index, scope: 'universe' }),
        expect.objectContaining({ dst: '10.79.0.0/24', gateway: '10.79.0.1', oif: v.index, onlink: true, src: '10.78.0.5' }),
      ]);
      expect((await ra.listRoutes(254)).filter((r) => r.oif === v.index)).toEqual([expect.objectContaining({ dst: '169.254.1.1/32', scope: 'link', protocol: 3 })]);
      expect((await ra.listRules()).filter((r) => r.table === 1001)).toEqual([rule]);
      expect(await ra.listNeighs(v.index)).toEqual([expect.objectContaining({ ip: '169.254.1.1', mac: '02:00:00:00:00:0a', permanent: true })]);
      const onlink = { dst: '10.79.0.0/24', oif: v.index, table: 1001 };
      expect(await ra.batch([{ op: 'route.del', spec: onlink }, { op: 'route.del', spec: onlink }, { op: 'rule.del', spec: rule }])).toEqual([undefined, 'ESRCH', undefined]);
      expect((await ra.listRoutes(1001)).map((r) => r.dst)).toEqual(['default']);
      await ra.deleteLink(v.index);
    } finally {
      ra.close();
    }
  });

  it("reads and writes sysctls of another namespace without touching the caller's", () => {
    const own = readSysctl(undefined, 'net/ipv4/conf/all/rp_filter');
    writeSysctl(a, 'net/ipv4/conf/all/rp_filter', own === '2' ? '1' : '2');
    expect(readSysctl(a, 'net/ipv4/conf/all/rp_filter')).toBe(own === '2' ? '1' : '2');
    expect(readSysctl(undefined, 'net/ipv4/conf/all/rp_filter')).toBe(own);
  });

  it('reports a missing namespace as NETNS_INVALID', () => {
    let code: string | undefined;
    try {
      Rtnl.open(`${a}-missing`);
    } catch (err) {
      code = isVpcnetError(err) ? err.code : 'other';
    }
    expect(code).toBe('NETNS_INVALID');
  });
});
