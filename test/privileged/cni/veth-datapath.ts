// A lab datapath for chaining tests: wires a pod with `ip` inside throwaway namespaces (the
// "node" netns plays the host root namespace). Real veths, so chained reference plugins
// (tuning, portmap, bandwidth) find real interfaces. Not the product datapath.
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import type { Datapath, Drift, PodNetworkRequest, PodNetworkResult, PodTeardownRequest, WiredPod } from '../../../src/datapath/datapath.ts';
import { VpcnetError } from '../../../src/errors.ts';

function ip(args: string[], okCodes = [0]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (!okCodes.includes(r.status ?? -1)) throw new VpcnetError('NETLINK', `ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export class VethDatapath implements Datapath {
  private readonly node: string;

  constructor(nodeNetns: string) {
    this.node = nodeNetns;
  }

  async setupNode(): Promise<void> {}
  async teardownNode(): Promise<void> {}
  async setupNic(): Promise<void> {}
  async teardownNic(): Promise<void> {}

  static hostIfname(containerId: string, ifname: string): string {
    let h = 2166136261;
    for (const c of `${containerId}/${ifname}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    return `vpc${h.toString(16).padStart(8, '0')}`;
  }

  async setupPod(req: PodNetworkRequest): Promise<PodNetworkResult> {
    const host = VethDatapath.hostIfname(req.containerId, req.ifname);
    const pod = basename(req.netns);
    const exists = ip(['-n', this.node, 'link', 'show', host], [0, 1]).includes(host);
    if (!exists) {
      ip(['-n', this.node, 'link', 'add', host, 'mtu', String(req.mtu), 'type', 'veth', 'peer', 'name', req.ifname, 'mtu', String(req.mtu), 'netns', pod]);
      ip(['-n', pod, 'addr', 'add', `${req.ip}/32`, 'dev', req.ifname]);
      ip(['-n', pod, 'link', 'set', req.ifname, 'up']);
      ip(['-n', pod, 'route', 'add', '169.254.1.1', 'dev', req.ifname, 'scope', 'link']);
      ip(['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', req.ifname]);
      ip(['-n', this.node, 'link', 'set', host, 'up']);
      ip(['-n', this.node, 'route', 'add', `${req.ip}/32`, 'dev', host, 'scope', 'link']);
    }
    const link = JSON.parse(ip(['-j', '-n', pod, 'link', 'show', req.ifname])) as Array<{ address: string }>;
    return { hostIfname: host, podIfname: req.ifname, podMac: link[0]?.address ?? '', ip: req.ip, gateway: '169.254.1.1', netns: req.netns };
  }

  async teardownPod(req: PodTeardownRequest): Promise<void> {
    ip(['-n', this.node, 'link', 'del', VethDatapath.hostIfname(req.containerId, req.ifname)], [0, 1, 2]);
  }

  async listPods(): Promise<WiredPod[]> {
    return [];
  }

  async checkPod(req: PodNetworkRequest): Promise<Drift[]> {
    const addrs = ip(['-n', basename(req.netns), 'addr', 'show', 'dev', req.ifname], [0, 1]);
    return addrs.includes(`${req.ip}/32`) ? [] : [{ kind: 'missing', object: `address ${req.ip}/32 dev ${req.ifname}` }];
  }
}
