// ADD, DEL, CHECK and GC on attachments (containerID + ifname): pool + datapath, with undo on
// partial failure. Each attachment's operations run one at a time.
import { VpcnetError, toVpcnetError } from '../errors.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import type { Datapath, HostNic, PodNetworkRequest } from '../datapath/datapath.ts';
import type { Allocation, PodKey, PodRef } from '../ipam/types.ts';
import { mergeResults, type CniResult } from './result.ts';
import type { KeyedLock } from './keyed-lock.ts';
import type { NetConf } from './netconf.ts';
import type { CniIpam, CniSettings, NicResolver, PodNetns } from './types.ts';

export interface AttachmentOpsDeps {
  ipam: CniIpam;
  datapath: Datapath;
  resolveNic: NicResolver;
  settings: CniSettings;
  clock: Clock;
  locks: KeyedLock;
  logger: Logger;
}

export const keyOf = (k: PodKey): string => `${k.containerId}/${k.ifname}`;

export class AttachmentOps {
  private readonly d: AttachmentOpsDeps;

  constructor(deps: AttachmentOpsDeps) {
    this.d = deps;
  }

  /**
   * Idempotent for the same request only: a repeated ADD with the same netns (by identity) and
   * the same config reuses the address and yields the same result; any other is refused and
   * the existing attachment is left as it is.
   */
  add(pod: PodRef & { netns: string }, netns: PodNetns, conf: NetConf): Promise<CniResult> {
    return this.d.locks.run(keyOf(pod), async () => {
      const existing = this.d.ipam.find(pod);
      if (existing) assertSameRequest(existing, netns, conf);
      const ref: PodRef = { ...pod, netnsId: netns.id, confDigest: conf.digest };
      const { allocation, durable } = existing ? { allocation: existing, durable: undefined } : await this.reserve(ref);
      let nic: HostNic | undefined;
      try {
        nic = await this.d.resolveNic(allocation);
        const req = this.podRequest(pod, netns, allocation, nic, conf.mtu);
        const net = await this.d.datapath.setupPod(req);
        // The checkpoint fsync ran alongside the wiring; the address is told only once durable.
        await durable;
        const own: CniResult = {
          interfaces: [{ name: net.hostIfname }, { name: net.podIfname, mac: net.podMac, mtu: req.mtu, sandbox: net.netns }],
          ips: [{ address: `${net.ip}/32`, gateway: net.gateway, interface: 1 }],
          routes: [{ dst: '0.0.0.0/0', gw: net.gateway }],
          dns: conf.dns,
        };
        return conf.prevResult ? mergeResults(conf.prevResult, own) : own;
      } catch (err) {
        if (!existing) await this.undoAdd(pod, allocation, nic);
        throw err;
      }
    });
  }

  private async reserve(ref: PodRef): Promise<{ allocation: Allocation; durable: Promise<void> | undefined }> {
    const opts = { deadlineMs: this.d.settings.addDeadlineMs };
    if (this.d.ipam.allocateStaged) return this.d.ipam.allocateStaged(ref, opts);
    return { allocation: await this.d.ipam.allocate(ref, opts), durable: undefined };
  }

  private async undoAdd(pod: PodRef & { netns: string }, allocation: Allocation, nic: HostNic | undefined): Promise<void> {
    try {
      await this.d.datapath.teardownPod({ containerId: pod.containerId, ifname: pod.ifname, ip: allocation.ip, mode: this.d.settings.mode, ...(nic ? { nic } : {}) });
      await this.d.ipam.release(pod);
    } catch (err) {
      // the reconciler finds what is left; the ADD error is what the runtime must see
      this.d.logger.error({ containerId: pod.containerId, ifname: pod.ifname, err }, 'undo of failed add incomplete');
    }
  }

  /**
   * Best effort and idempotent: unknown attachments and vanished namespaces succeed. The DEL's
   * CNI_NETNS is never used: teardown works from the node side.
   */
  del(key: PodKey): Promise<void> {
    return this.d.locks.run(keyOf(key), () => this.teardown(key));
  }

  /** DEL of an attachment only if it was made before `before` (a spooled DEL must not undo a later ADD). */
  delIfOlder(key: PodKey, before: number): Promise<boolean> {
    return this.d.locks.run(keyOf(key), async () => {
      const a = this.d.ipam.find(key);
      if (a && a.allocatedAt > before) return false;
      await this.teardown(key);
      return true;
    });
  }

  private async teardown(key: PodKey): Promise<void> {
    const allocation = this.d.ipam.find(key);
    let nic: HostNic | undefined;
    if (allocation) {
      try {
        nic = await this.d.resolveNic(allocation);
      } catch (err) {
        this.d.logger.warn({ containerId: key.containerId, err }, 'nic of allocation unknown at delete');
      }
    }
    // Host routes must be gone before the address can go back to the pool and to another pod:
    // the datapath says when (unrouted), or the release follows the whole teardown.
    let released: Promise<unknown> | undefined;
    const release = (): Promise<unknown> => (released ??= this.d.ipam.release(key));
    await this.d.datapath.teardownPod({
      containerId: key.containerId,
      ifname: key.ifname,
      mode: this.d.settings.mode,
      ...(allocation ? { ip: allocation.ip, unrouted: release } : {}),
      ...(nic ? { nic } : {}),
    });
    if (allocation) await release();
  }

  /** Compares prevResult with what vpcnet recorded, then the kernel with what setupPod made. */
  check(key: PodKey, netns: PodNetns, prev: CniResult): Promise<void> {
    return this.d.locks.run(keyOf(key), async () => {
      const allocation = this.d.ipam.find(key);
      if (!allocation) throw new VpcnetError('CONTAINER_UNKNOWN', 'no vpcnet attachment for this container and interface', { details: { ...key } });
      if (allocation.netnsId !== undefined && allocation.netnsId !== netns.id) throw drift('the attachment lives in another network namespace', { netns: netns.path });
      const idx = prev.interfaces.findIndex((i) => i.name === key.ifname && i.sandbox === netns.path);
      if (idx < 0) throw drift('prevResult lists no interface for this attachment', { ifname: key.ifname, netns: netns.path });
      const listed = prev.ips.some((ip) => ip.interface === idx && ip.address.split('/')[0] === allocation.ip);
      if (!listed) throw drift('prevResult does not hold the allocated address', { ip: allocation.ip });
      const nic = await this.d.resolveNic(allocation);
      const drifts = await this.d.datapath.checkPod(this.podRequest(key, netns, allocation, nic, undefined));
      if (drifts.length > 0) throw drift('pod network differs from what vpcnet set up', { drifts });
    });
  }

  /** Releases every attachment the runtime no longer lists; continues past errors. */
  async gc(valid: PodKey[]): Promise<void> {
    const keep = new Set(valid.map(keyOf));
    const cutoff = this.d.clock.now() - this.d.settings.gcGraceMs;
    const failed: Array<{ attachment: string; error: string }> = [];
    let first: VpcnetError | undefined;
    for (const a of this.d.ipam.list()) {
      const key = keyOf(a);
      if (keep.has(key) || this.d.locks.has(key) || a.allocatedAt > cutoff) continue;
      try {
        await this.d.locks.run(key, () => this.teardown({ containerId: a.containerId, ifname: a.ifname }));
        this.d.logger.info({ containerId: a.containerId, ifname: a.ifname, ip: a.ip }, 'gc released stale attachment');
      } catch (err) {
        const e = toVpcnetError(err);
        first ??= e;
        failed.push({ attachment: key, error: e.code });
      }
    }
    if (first) throw new VpcnetError(first.code, 'gc could not release every stale attachment', { cause: first, details: { failed } });
  }

  private podRequest(key: PodKey, netns: PodNetns, allocation: Allocation, nic: HostNic, mtu: number | undefined): PodNetworkRequest {
    return {
      containerId: key.containerId,
      ifname: key.ifname,
      netns: netns.path,
      ...(netns.fd !== undefined ? { netnsFd: netns.fd } : {}),
      ip: allocation.ip,
      mode: this.d.settings.mode,
      nic,
      mtu: mtu ?? this.d.settings.mtu,
    };
  }
}

/** A repeated ADD must be the same request; allocations from before netnsId existed compare by path. */
function assertSameRequest(existing: Allocation, netns: PodNetns, conf: NetConf): void {
  const sameNetns = existing.netnsId !== undefined ? existing.netnsId === netns.id : existing.netns === undefined || existing.netns === netns.path;
  if (!sameNetns) {
    throw new VpcnetError('NETNS_INVALID', 'this container and interface are already attached in another network namespace; DEL it first', {
      details: { variable: 'CNI_NETNS', netns: netns.path, attachedIn: existing.netns, containerId: existing.containerId, ifname: existing.ifname },
    });
  }
  if (existing.confDigest !== undefined && existing.confDigest !== conf.digest) {
    throw new VpcnetError('CNI_INVALID_CONFIG', 'this container and interface are already attached with another network config; DEL it first', {
      details: { containerId: existing.containerId, ifname: existing.ifname },
    });
  }
}

function drift(msg: string, details: Record<string, unknown>): VpcnetError {
  return new VpcnetError('DATAPATH_DRIFT', msg, { details });
}
