import { describe, expect, it } from '@jest/globals';
import type { NodeNetConfig, PodNetworkRequest } from '../../../src/datapath/datapath.ts';
import { POD_VETH, describeRoute, planPod, tempIfname, toRouteSpec } from '../../../src/datapath/ipvlan-plan.ts';
import { HOST_VETH_PREFIX } from '../../../src/datapath/naming.ts';
import { ipvlanInfoData, parseAttrs } from '../../../src/datapath/netlink/codec.ts';

const node = (masq: boolean, extra: Partial<NodeNetConfig> = {}): NodeNetConfig => ({
  primaryIp: '10.0.1.2',
  primaryMac: '02:00:00:00:01:02',
  vpcCidrs: ['10.0.0.0/16'],
  masquerade: { enabled: masq, nonMasqueradeCidrs: ['10.0.0.0/16', '192.168.0.0/16'], masqueradeLinkLocal: false, randomFully: false },
  mtu: 9001,
  serviceCidr: '172.20.0.0/16',
  ...extra,
});

const req: PodNetworkRequest = {
  containerId: 'c0ffee',
  ifname: 'eth0',
  netns: '/run/netns/p',
  ip: '10.0.1.10',
  mode: 'ipvlan',
  nic: { deviceIndex: 1, mac: '02:00:00:00:01:03', primaryIp: '10.0.1.3', subnetCidr: '10.0.1.0/24', gateway: '10.0.1.1', mtu: 9001 },
  mtu: 9001,
};

describe('ipvlan pod plan', () => {
  it('with masquerade: VPC and non-masquerade CIDRs via the subnet gateway, the rest via the node', () => {
    const plan = planPod(req, node(true));
    expect(plan.prefixLen).toBe(24);
    expect(plan.podRoutes.map(describeRoute)).toEqual([
      `10.0.1.2/32 dev ${POD_VETH}`,
      `172.20.0.0/16 via 10.0.1.2 dev ${POD_VETH} onlink`,
      '10.0.0.0/16 via 10.0.1.1 dev eth0',
      '192.168.0.0/16 via 10.0.1.1 dev eth0',
      `default via 10.0.1.2 dev ${POD_VETH} onlink`,
    ]);
    expect(plan.podRoutes[0]?.src).toBe('10.0.1.10');
  });

  it('without masquerade: default leaves by the subnet gateway with the pod address', () => {
    const plan = planPod(req, node(false, { serviceCidr: undefined }));
    expect(plan.podRoutes.map(describeRoute)).toEqual([`10.0.1.2/32 dev ${POD_VETH}`, 'default via 10.0.1.1 dev eth0']);
  });

  it('names the host veth like routed mode (so the masquerade table matches) and fits IFNAMSIZ', () => {
    const plan = planPod(req, node(true));
    expect(plan.hostVeth.startsWith(HOST_VETH_PREFIX)).toBe(true);
    expect(plan.hostVeth.length).toBeLessThanOrEqual(15);
    expect(plan.tempIfname).toBe(tempIfname('c0ffee', 'eth0'));
    expect(plan.tempIfname.length).toBeLessThanOrEqual(15);
    expect(plan.tempIfname).not.toBe(plan.hostVeth);
    expect(planPod({ ...req, containerId: 'other' }, node(true)).hostVeth).not.toBe(plan.hostVeth);
  });

  it('turns routes into netlink specs: gateway routes universe, direct ones scope link', () => {
    expect(toRouteSpec({ dst: '10.0.1.2/32', dev: POD_VETH, src: '10.0.1.10' }, 7)).toEqual({ dst: '10.0.1.2/32', oif: 7, scope: 'link', src: '10.0.1.10' });
    expect(toRouteSpec({ dst: 'default', gateway: '10.0.1.2', dev: POD_VETH, onlink: true }, 7)).toEqual({ dst: 'default', oif: 7, gateway: '10.0.1.2', onlink: true });
  });
});

describe('ipvlan link request', () => {
  it('encodes IFLA_IPVLAN_MODE as a u16: l2 0, l3 1, l3s 2', () => {
    const mode = (m: 'l2' | 'l3' | 'l3s'): number | undefined => parseAttrs(ipvlanInfoData(m)).get(1)?.readUInt16LE(0);
    expect([mode('l2'), mode('l3'), mode('l3s')]).toEqual([0, 1, 2]);
  });
});
