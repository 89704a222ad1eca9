import { describe, expect, it } from '@jest/globals';
import type { PodNetworkRequest } from '../../../src/datapath/datapath.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { isVpcnetError } from '../../../src/errors.ts';

const req: PodNetworkRequest = {
  containerId: 'c1',
  ifname: 'eth0',
  netns: '/var/run/netns/cni-1',
  ip: '10.0.1.11',
  mode: 'routed',
  nic: { deviceIndex: 0, mac: '02:00:00:00:01:00', primaryIp: '10.0.1.10', subnetCidr: '10.0.1.0/24', gateway: '10.0.1.1', mtu: 9001 },
  mtu: 9001,
};

describe('FakeDatapath', () => {
  it('records calls and wires pods idempotently', async () => {
    const dp = new FakeDatapath();
    const a = await dp.setupPod(req);
    const b = await dp.setupPod(req);
    expect(b).toEqual(a);
    expect(a.gateway).toBe('169.254.1.1');
    expect(dp.calls('setupPod')).toHaveLength(2);
    expect(await dp.checkPod(req)).toEqual([]);
    await dp.teardownPod({ containerId: 'c1', ifname: 'eth0' });
    expect(dp.pods.size).toBe(0);
    expect((await dp.checkPod(req))[0]?.kind).toBe('missing');
  });
  it('injects failures and drift', async () => {
    const dp = new FakeDatapath();
    dp.failNext('setupPod');
    await expect(dp.setupPod(req)).rejects.toMatchObject({ code: 'NETLINK' });
    await dp.setupPod(req);
    dp.setDrift('c1', 'eth0', [{ kind: 'missing', object: 'rule' }]);
    expect(await dp.checkPod(req)).toEqual([{ kind: 'missing', object: 'rule' }]);
    await dp.setupPod(req);
    expect(await dp.checkPod(req)).toEqual([]);
  });
  it('lists wired pods and planted leaks; teardown by IP clears a rule-only leak', async () => {
    const dp = new FakeDatapath();
    const res = await dp.setupPod(req);
    dp.addLeak({ ips: ['10.0.1.99'] });
    expect(await dp.listPods()).toEqual([{ hostIfname: res.hostIfname, ips: ['10.0.1.11'] }, { ips: ['10.0.1.99'] }]);
    await dp.teardownPod({ containerId: 'leak', ifname: 'eth0', ip: '10.0.1.99' });
    await dp.teardownPod({ containerId: 'c1', ifname: 'eth0' });
    expect(await dp.listPods()).toEqual([]);
  });

  it('rejects bad input like the real datapath, without recording it', async () => {
    const dp = new FakeDatapath();
    const err = await dp.setupPod({ ...req, netns: '/etc/passwd' }).catch((e: unknown) => e);
    expect(isVpcnetError(err, 'NETNS_INVALID')).toBe(true);
    const err2 = await dp.setupPod({ ...req, ifname: 'a/b' }).catch((e: unknown) => e);
    expect(isVpcnetError(err2, 'IFNAME_INVALID')).toBe(true);
    expect(dp.ops).toEqual([]);
  });
});
