// What ipvlan mode puts into the kernel for one pod, as plain data: setup creates it and
// checkPod compares the kernel against it, so both read the same plan.
import type { HostNic, NodeNetConfig, PodNetworkRequest } from './datapath.ts';
import { HOST_VETH_PREFIX, hostVethName } from './naming.ts';
import type { RouteSpec } from './netlink/index.ts';

/** Pod side of the unnumbered veth that carries node and service traffic. */
export const POD_VETH = 'vpcnet0';

/** Name the ipvlan child is created under before it is renamed inside the pod. */
export function tempIfname(containerId: string, ifname: string): string {
  return `ivt${hostVethName(containerId, ifname).slice(HOST_VETH_PREFIX.length)}`;
}

export function subnetPrefixLen(nic: HostNic): number {
  return Number(nic.subnetCidr.split('/')[1] ?? 32);
}

export interface PodRoute {
  dst: string;
  gateway?: string;
  /** Interface name inside the pod. */
  dev: string;
  onlink?: boolean;
  src?: string;
}

export interface IpvlanPlan {
  hostVeth: string;
  tempIfname: string;
  prefixLen: number;
  podRoutes: PodRoute[];
}

/**
 * Pod routes. The VPC address and its subnet live on the ipvlan child; node addresses and the
 * service CIDR go to the node over the veth. Non-VPC traffic: with masquerade on it also goes
 * to the node (so the node's nftables can SNAT it; ipvlan L2 egress bypasses the node's IP
 * stack), and only the VPC and non-masquerade CIDRs go straight to the subnet gateway; with
 * masquerade off everything else leaves by the gateway with the pod's own address.
 */
export function planPod(req: PodNetworkRequest, node: NodeNetConfig): IpvlanPlan {
  const ip = req.ip;
  const gw = req.nic.gateway;
  const routes: PodRoute[] = [{ dst: `${node.primaryIp}/32`, dev: POD_VETH, src: ip }];
  if (node.serviceCidr) routes.push({ dst: node.serviceCidr, gateway: node.primaryIp, dev: POD_VETH, onlink: true });
  if (node.masquerade.enabled) {
    for (const cidr of new Set([...node.vpcCidrs, ...node.masquerade.nonMasqueradeCidrs])) routes.push({ dst: cidr, gateway: gw, dev: req.ifname });
    routes.push({ dst: 'default', gateway: node.primaryIp, dev: POD_VETH, onlink: true });
  } else {
    routes.push({ dst: 'default', gateway: gw, dev: req.ifname });
  }
  return { hostVeth: hostVethName(req.containerId, req.ifname), tempIfname: tempIfname(req.containerId, req.ifname), prefixLen: subnetPrefixLen(req.nic), podRoutes: routes };
}

/** `ip route` text of a pod route, used in drift reports. */
export function describeRoute(r: PodRoute): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.onlink ? ' onlink' : ''}`;
}

export function toRouteSpec(r: PodRoute, oif: number): RouteSpec {
  return {
    dst: r.dst,
    oif,
    ...(r.gateway ? { gateway: r.gateway } : { scope: 'link' as const }),
    ...(r.onlink ? { onlink: true } : {}),
    ...(r.src ? { src: r.src } : {}),
  };
}
