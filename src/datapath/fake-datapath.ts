// In-memory Datapath for tests of the layers above (CNI handler, agent, reconciler):
// records every call, keeps the pods it "wired", validates input like the real one, and
// lets a test inject failures and drift.
import { VpcnetError } from '../errors.ts';
import type { Datapath, Drift, HostNic, NodeNetConfig, PodNetworkRequest, PodNetworkResult, PodTeardownRequest, WiredPod } from './datapath.ts';
import { hostVethName } from './naming.ts';
import { POD_GATEWAY } from './routed-pod.ts';
import { DEFAULT_NETNS_DIRS, validateHostIfname, validateIfname, validateNetnsPath } from './validate.ts';

export type DatapathOp =
  | { op: 'setupNode'; cfg: NodeNetConfig }
  | { op: 'teardownNode' }
  | { op: 'setupNic'; nic: HostNic }
  | { op: 'teardownNic'; nic: HostNic }
  | { op: 'setupPod'; req: PodNetworkRequest }
  | { op: 'teardownPod'; req: PodTeardownRequest }
  | { op: 'checkPod'; req: PodNetworkRequest }
  | { op: 'listPods' };

export type DatapathOpName = DatapathOp['op'];

export interface FakePod {
  req: PodNetworkRequest;
  result: PodNetworkResult;
}

const key = (containerId: string, ifname: string): string => `${containerId}/${ifname}`;

export class FakeDatapath implements Datapath {
  readonly ops: DatapathOp[] = [];
  readonly pods = new Map<string, FakePod>();
  readonly nics = new Map<number, HostNic>();
  node: NodeNetConfig | undefined;
  private readonly failures: { op: DatapathOpName; err: Error }[] = [];
  private readonly drift = new Map<string, Drift[]>();
  private readonly allowedDirs: string[];
  private readonly leaks: WiredPod[] = [];

  constructor(opts: { allowedNetnsDirs?: string[] } = {}) {
    this.allowedDirs = opts.allowedNetnsDirs ?? DEFAULT_NETNS_DIRS;
  }

  /** The next call of `op` throws `err` (queued in order). */
  failNext(op: DatapathOpName, err: Error = new VpcnetError('NETLINK', 'injected failure', { details: { errno: 'EIO' } })): void {
    this.failures.push({ op, err });
  }

  /** checkPod for this pod reports `drift` until setupPod runs again. */
  setDrift(containerId: string, ifname: string, drift: Drift[]): void {
    this.drift.set(key(containerId, ifname), drift);
  }

  /** Calls recorded for one operation. */
  calls<K extends DatapathOpName>(op: K): Extract<DatapathOp, { op: K }>[] {
    return this.ops.filter((o): o is Extract<DatapathOp, { op: K }> => o.op === op);
  }

  private record(o: DatapathOp): void {
    this.ops.push(o);
    const i = this.failures.findIndex((f) => f.op === o.op);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      if (f) throw f.err;
    }
  }

  async setupNode(cfg: NodeNetConfig): Promise<void> {
    this.record({ op: 'setupNode', cfg });
    this.node = cfg;
  }

  async teardownNode(): Promise<void> {
    this.record({ op: 'teardownNode' });
    this.node = undefined;
  }

  async setupNic(nic: HostNic): Promise<void> {
    this.record({ op: 'setupNic', nic });
    this.nics.set(nic.deviceIndex, nic);
  }

  async teardownNic(nic: HostNic): Promise<void> {
    this.record({ op: 'teardownNic', nic });
    this.nics.delete(nic.deviceIndex);
  }

  async setupPod(req: PodNetworkRequest): Promise<PodNetworkResult> {
    validateIfname(req.ifname);
    validateNetnsPath(req.netns, this.allowedDirs, false);
    this.record({ op: 'setupPod', req });
    const k = key(req.containerId, req.ifname);
    const existing = this.pods.get(k);
    const result: PodNetworkResult = existing?.result ?? {
      hostIfname: hostVethName(req.containerId, req.ifname),
      podIfname: req.ifname,
      podMac: fakeMac(k),
      ip: req.ip,
      gateway: POD_GATEWAY,
      netns: req.netns,
    };
    this.pods.set(k, { req, result: { ...result, ip: req.ip, netns: req.netns } });
    this.drift.delete(k);
    return { ...result, ip: req.ip, netns: req.netns };
  }

  async teardownPod(req: PodTeardownRequest): Promise<void> {
    validateIfname(req.ifname);
    if (req.netns) validateNetnsPath(req.netns, this.allowedDirs, false);
    if (req.hostIfname !== undefined) validateHostIfname(req.hostIfname);
    this.record({ op: 'teardownPod', req });
    const host = req.hostIfname ?? hostVethName(req.containerId, req.ifname);
    for (const [k, p] of this.pods) if (p.result.hostIfname === host) this.pods.delete(k);
    for (let i = this.leaks.length - 1; i >= 0; i--) {
      const l = this.leaks[i];
      if (l && (l.hostIfname === host || (!l.hostIfname && req.ip !== undefined && l.ips.includes(req.ip)))) this.leaks.splice(i, 1);
    }
  }

  /** Wired pods plus any leaks a test planted with addLeak(). */
  async listPods(): Promise<WiredPod[]> {
    this.record({ op: 'listPods' });
    return [...[...this.pods.values()].map((p) => ({ hostIfname: p.result.hostIfname, ips: [p.req.ip] })), ...this.leaks];
  }

  /** Kernel state the fake reports without a pod behind it (for reconciler tests). */
  addLeak(leak: WiredPod): void {
    this.leaks.push(leak);
  }

  async checkPod(req: PodNetworkRequest): Promise<Drift[]> {
    validateIfname(req.ifname);
    this.record({ op: 'checkPod', req });
    const k = key(req.containerId, req.ifname);
    const pod = this.pods.get(k);
    if (!pod) return [{ kind: 'missing', object: `link ${hostVethName(req.containerId, req.ifname)}` }];
    if (pod.req.ip !== req.ip) return [{ kind: 'mismatch', object: `route ${req.ip}`, expected: req.ip, actual: pod.req.ip }];
    return this.drift.get(k) ?? [];
  }
}

function fakeMac(seed: string): string {
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const b = [0x0a, 0x58, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
