// Test doubles for the CNI handler: a datapath that records calls, a fixed NIC, a ready handler.
import type { Datapath, Drift, HostNic, NodeNetConfig, PodNetworkRequest, PodNetworkResult, PodTeardownRequest, WiredPod } from '../../../src/datapath/datapath.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import type { CniSettings } from '../../../src/cni/types.ts';
import type { Metrics } from '../../../src/metrics/metrics.ts';

export const NIC: HostNic = { deviceIndex: 0, mac: '02:00:00:00:00:01', primaryIp: '10.0.0.10', subnetCidr: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 9001 };

export class RecordingDatapath implements Datapath {
  readonly pods = new Map<string, PodNetworkRequest>();
  readonly calls: string[] = [];
  failSetup: VpcnetError | undefined;
  failTeardown = false;
  drifts: Drift[] = [];

  async setupNode(_cfg: NodeNetConfig): Promise<void> {}
  async teardownNode(): Promise<void> {}
  async setupNic(_nic: HostNic): Promise<void> {}
  async teardownNic(_nic: HostNic): Promise<void> {}

  async setupPod(req: PodNetworkRequest): Promise<PodNetworkResult> {
    this.calls.push(`setup ${req.containerId}/${req.ifname}`);
    if (this.failSetup) throw this.failSetup;
    this.pods.set(`${req.containerId}/${req.ifname}`, req);
    return { hostIfname: hostIfname(req.containerId, req.ifname), podIfname: req.ifname, podMac: '0a:58:0a:00:00:99', ip: req.ip, gateway: '169.254.1.1', netns: req.netns };
  }

  async teardownPod(req: PodTeardownRequest): Promise<void> {
    this.calls.push(`teardown ${req.containerId}/${req.ifname}`);
    if (this.failTeardown) throw new VpcnetError('NETLINK', 'teardown failed (test)');
    this.pods.delete(`${req.containerId}/${req.ifname}`);
  }

  async listPods(): Promise<WiredPod[]> {
    return [...this.pods.values()].map((p) => ({ hostIfname: `eni-${p.containerId}`.slice(0, 15), ips: [p.ip] }));
  }

  async checkPod(_req: PodNetworkRequest): Promise<Drift[]> {
    return this.drifts;
  }
}

function hostIfname(containerId: string, ifname: string): string {
  let h = 0;
  for (const c of `${containerId}/${ifname}`) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `vpc${h.toString(16).padStart(8, '0')}`;
}

export const SETTINGS: CniSettings = {
  mode: 'routed',
  mtu: 9001,
  addDeadlineMs: 20,
  gcGraceMs: 0,
  netnsPathPrefixes: ['/var/run/netns/', '/run/netns/'],
};

export interface TestAgent {
  handler: CniHandler;
  ipam: MemoryIpam;
  datapath: RecordingDatapath;
}

/** The node's own and the host's namespaces, as the in-memory inspector sees them. */
export const NODE_NETNS = '/var/run/netns/node-itself';
export const HOST_NETNS = '/proc/1/ns/net';

export function testAgent(opts: { addresses?: string[]; metrics?: Metrics; settings?: Partial<CniSettings>; aliases?: Record<string, string> } = {}): TestAgent {
  const ipam = new MemoryIpam({ addresses: opts.addresses ?? ['10.0.0.20', '10.0.0.21', '10.0.0.22'] });
  const datapath = new RecordingDatapath();
  const handler = new CniHandler({
    ipam,
    datapath,
    resolveNic: () => NIC,
    settings: { ...SETTINGS, ...opts.settings },
    netns: new MemoryNetnsInspector({ forbidden: [NODE_NETNS, HOST_NETNS], aliases: opts.aliases ?? {} }),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  return { handler, ipam, datapath };
}
