// LinuxDatapath plumbing that needs no root: mode dispatch through PodWiring and input checks
// before any kernel call (the process's own /proc/<pid>/ns/net is a valid nsfs path).
import { describe, expect, it } from '@jest/globals';
import type { PodNetworkRequest } from '../../../src/datapath/datapath.ts';
import { LinuxDatapath, type PodWiring } from '../../../src/datapath/linux-datapath.ts';
import { errnoOf } from '../../../src/datapath/netlink/rtnl.ts';
import { VpcnetError, isVpcnetError } from '../../../src/errors.ts';

const req: PodNetworkRequest = {
  containerId: 'c1',
  ifname: 'eth0',
  netns: `/proc/${process.pid}/ns/net`,
  ip: '10.0.1.11',
  mode: 'ipvlan',
  nic: { deviceIndex: 1, mac: '02:00:00:00:01:01', primaryIp: '10.0.2.10', subnetCidr: '10.0.2.0/24', gateway: '10.0.2.1', mtu: 9001 },
  mtu: 9001,
};

describe('LinuxDatapath mode dispatch', () => {
  it('hands pods of a plugged-in mode to its wiring', async () => {
    const seen: string[] = [];
    const ipvlan: PodWiring = {
      setupPod: async (_node, r) => {
        seen.push(`setup ${r.ip}`);
        return { hostIfname: 'x', podIfname: r.ifname, podMac: '', ip: r.ip, gateway: '10.0.2.1', netns: r.netns };
      },
      teardownPod: async (_node, r) => void seen.push(`teardown ${r.containerId}`),
      checkPod: async () => [],
    };
    const dp = new LinuxDatapath({ modes: { ipvlan } });
    expect((await dp.setupPod(req)).gateway).toBe('10.0.2.1');
    expect(await dp.checkPod(req)).toEqual([]);
    await dp.teardownPod({ containerId: 'c1', ifname: 'eth0', mode: 'ipvlan' });
    expect(seen).toEqual(['setup 10.0.1.11', 'teardown c1']);
  });

  it('refuses a mode without wiring, and bad input before touching anything', async () => {
    const dp = new LinuxDatapath();
    expect(await dp.setupPod(req).catch((e: unknown) => (isVpcnetError(e) ? e.code : e))).toBe('CONFIG_INVALID');
    expect(await dp.setupPod({ ...req, mode: 'routed', netns: '/tmp/x' }).catch((e: unknown) => (isVpcnetError(e) ? e.code : e))).toBe('NETNS_INVALID');
    expect(await dp.teardownPod({ containerId: 'c', ifname: 'a:b' }).catch((e: unknown) => (isVpcnetError(e) ? e.code : e))).toBe('IFNAME_INVALID');
  });
});

describe('errnoOf', () => {
  it('reads the errno of package rejections and of wrapped errors', () => {
    expect(errnoOf(new Error('Request rejected: EEXIST'))).toBe('EEXIST');
    expect(errnoOf(new VpcnetError('NETLINK', 'x', { details: { errno: 'ENODEV' } }))).toBe('ENODEV');
    expect(errnoOf(new Error('something else'))).toBeUndefined();
  });
});
