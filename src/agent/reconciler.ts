// The node reconciler: on start and then periodically it compares the kernel's pod wiring with
// the pool's allocations (wiring nobody holds is removed; allocations without wiring are
// reported, never released) and deletes NICs this cluster leaked in the cloud. Cloud truth for
// the pool's own blocks is the pool manager's job (PoolManager.reconcile), not this one's.
import type { Logger } from 'pino';
import type { CloudProvider } from '../../providers/provider.ts';
import type { Datapath, DatapathMode, WiredPod } from '../datapath/datapath.ts';
import { hostVethName } from '../datapath/naming.ts';
import { toVpcnetError } from '../errors.ts';
import type { Allocation } from '../ipam/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock } from '../util/clock.ts';

export interface ReconcilerOptions {
  datapath: Pick<Datapath, 'listPods' | 'teardownPod'>;
  /** Leaked-NIC clean-up runs only when the provider has that capability. */
  provider: Pick<CloudProvider, 'leakedNics'>;
  /** The pool's allocations now; read after the kernel so an ADD in flight is never a leak. */
  allocations: () => Allocation[];
  mode: DatapathMode;
  intervalMs: number;
  leakedNicGraceMs: number;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** 0..1, spreads the first NIC sweep of nodes that boot together; default Math.random. */
  random?: () => number;
  /**
   * One sweeper for the cluster (a Kubernetes Lease): asked before each sweep, which then runs
   * every leakedNicGraceMs / 2. Without it every node sweeps, but only every
   * `soloSweepIntervalMs` (jittered 50-150%).
   */
  sweepLease?: { tryAcquire(): Promise<boolean> };
  /** Sweep period of a node without a lease; default 2 h. */
  soloSweepIntervalMs?: number;
}

export interface KernelReport {
  /** Wiring removed because no allocation holds it. */
  removed: WiredPod[];
  /** Allocations whose wiring is missing from the kernel (reported, kept). */
  missing: Allocation[];
  /** Wiring without an allocation that carries an allocated address: left alone (listed when first found). */
  conflicts: WiredPod[];
  /** Leak candidates seen for the first time: removed on the next pass if still there. */
  suspects: WiredPod[];
}

export interface NicReport {
  deleted: string[];
  failed: string[];
}

const wiringKey = (w: WiredPod): string => w.hostIfname ?? `rules:${[...w.ips].sort().join(',')}`;
const allocKey = (a: Allocation): string => `${a.containerId}/${a.ifname}`;

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly log: Logger;
  /** Leak candidates and missing wirings seen by the previous pass. */
  private suspects = new Set<string>();
  private missingSeen = new Set<string>();
  private reported = new Set<string>();
  private conflictsReported = new Set<string>();
  private abort: AbortController | undefined;
  private done: Promise<void> | undefined;

  constructor(opts: ReconcilerOptions) {
    this.o = opts;
    this.log = opts.logger.child({ component: 'reconciler' });
  }

  /**
   * The first kernel pass runs before the CNI socket opens (no ADD can be in flight), so what it
   * finds is acted on at once; then the periodic loop.
   */
  async start(): Promise<void> {
    await this.reconcileKernel({ immediate: true }).catch((err: unknown) => this.failed('kernel', err));
    this.abort = new AbortController();
    this.done = this.loop(this.abort.signal);
  }

  /**
   * The NIC sweep is a cluster-wide describe. With a lease only its holder sweeps, twice per
   * grace period (a leak lives about 1.5 x grace at most). Without one every node would make
   * it: then rarely (2 h, jittered 50-150%, so nodes booted together never sweep in step), so
   * that 1000 nodes cost the account's describe bucket well under one call a second.
   */
  private sweepEveryMs(): number {
    const graceHalf = Math.max(this.o.intervalMs, Math.floor(this.o.leakedNicGraceMs / 2));
    if (this.o.sweepLease) return graceHalf;
    const solo = Math.max(graceHalf, this.o.soloSweepIntervalMs ?? 7_200_000);
    return Math.floor(solo * (0.5 + (this.o.random ?? Math.random)()));
  }

  /** Sweeps if this agent is the sweeper (holds the lease, or there is none). */
  private async sweepIfMine(): Promise<void> {
    if (this.o.sweepLease && !(await this.o.sweepLease.tryAcquire())) return;
    await this.reconcileNics();
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.done;
  }

  /**
   * Kernel vs allocations. A periodic pass acts on a leak only when the previous pass saw it
   * too (an ADD or DEL racing the listing never looks like a leak twice).
   */
  async reconcileKernel(opts: { immediate?: boolean } = {}): Promise<KernelReport> {
    const wired = await this.o.datapath.listPods();
    const allocations = this.o.allocations();
    const report: KernelReport = { removed: [], missing: [], conflicts: [], suspects: [] };
    const ownerByName = new Set(allocations.map((a) => hostVethName(a.containerId, a.ifname)));
    const heldIps = new Set(allocations.map((a) => a.ip));
    const suspects = new Set<string>();
    for (const w of wired) {
      if (w.hostIfname && ownerByName.has(w.hostIfname)) continue;
      if (w.ips.some((ip) => heldIps.has(ip))) {
        // Its rules name an address a live pod holds: tearing it down would cut that pod off.
        if (w.hostIfname) report.conflicts.push(w);
        continue;
      }
      const key = wiringKey(w);
      if (!opts.immediate && !this.suspects.has(key)) {
        suspects.add(key);
        report.suspects.push(w);
        continue;
      }
      if (await this.removeLeak(w)) report.removed.push(w);
      else suspects.add(key);
    }
    this.suspects = suspects;
    report.conflicts = this.onlyNew(report.conflicts);
    report.missing = this.findMissing(allocations, wired, opts.immediate ?? false);
    this.record(report);
    return report;
  }

  /** Deletes NICs of this cluster left unattached for longer than the grace period. */
  async reconcileNics(): Promise<NicReport> {
    const report: NicReport = { deleted: [], failed: [] };
    const cleanup = this.o.provider.leakedNics;
    if (!cleanup) return report;
    const leaked = await cleanup.findLeakedNics(this.o.leakedNicGraceMs);
    for (const nic of leaked) {
      try {
        await cleanup.deleteNic(nic.id);
        report.deleted.push(nic.id);
        this.o.metrics.inc('vpcnet_reconcile_total', { kind: 'nics', outcome: 'leaked-nic-deleted' });
        this.log.warn({ nicId: nic.id, subnetId: nic.subnetId, since: new Date(nic.since).toISOString() }, 'leaked NIC deleted');
      } catch (err) {
        report.failed.push(nic.id);
        this.o.metrics.inc('vpcnet_reconcile_total', { kind: 'nics', outcome: 'leaked-nic-error' });
        this.log.warn({ nicId: nic.id, code: toVpcnetError(err, 'CLOUD_UNAVAILABLE').code }, 'leaked NIC delete failed');
      }
    }
    return report;
  }

  private async removeLeak(w: WiredPod): Promise<boolean> {
    // Re-read right before acting: an allocation made since the listing wins.
    const now = this.o.allocations();
    if (w.hostIfname && now.some((a) => hostVethName(a.containerId, a.ifname) === w.hostIfname)) return false;
    if (now.some((a) => w.ips.includes(a.ip))) return false;
    // The pod's identity is unknown (the name is a hash): teardown goes by host link or address,
    // under a container id CNI forbids ('#'), so no real pod's veth name can come out of it.
    const base = { containerId: '#reconciler', ifname: 'eth0', mode: this.o.mode };
    try {
      if (w.hostIfname) await this.o.datapath.teardownPod({ ...base, hostIfname: w.hostIfname });
      else for (const ip of w.ips) await this.o.datapath.teardownPod({ ...base, ip });
    } catch (err) {
      this.o.metrics.inc('vpcnet_reconcile_total', { kind: 'kernel', outcome: 'wiring-error' });
      this.log.warn({ hostIfname: w.hostIfname, ips: w.ips, code: toVpcnetError(err, 'NETLINK').code }, 'leaked pod wiring not removed');
      return false;
    }
    return true;
  }

  /** Conflicts are reported once each (metric and log count drift found, not passes). */
  private onlyNew(conflicts: WiredPod[]): WiredPod[] {
    const keys = new Set(conflicts.map(wiringKey));
    for (const k of [...this.conflictsReported]) if (!keys.has(k)) this.conflictsReported.delete(k);
    const fresh = conflicts.filter((w) => !this.conflictsReported.has(wiringKey(w)));
    for (const w of fresh) this.conflictsReported.add(wiringKey(w));
    return fresh;
  }

  /** Allocations whose host veth and address are both absent (reported once each). */
  private findMissing(allocations: Allocation[], wired: WiredPod[], immediate: boolean): Allocation[] {
    const names = new Set(wired.flatMap((w) => (w.hostIfname ? [w.hostIfname] : [])));
    const routed = new Set(wired.filter((w) => w.hostIfname).flatMap((w) => w.ips));
    const missingNow = allocations.filter((a) => !names.has(hostVethName(a.containerId, a.ifname)) && !routed.has(a.ip));
    const keys = new Set(missingNow.map(allocKey));
    // An ADD in flight has its allocation before its wiring: report only what two passes saw.
    const confirmed = missingNow.filter((a) => (immediate || this.missingSeen.has(allocKey(a))) && !this.reported.has(allocKey(a)));
    this.missingSeen = keys;
    for (const k of [...this.reported]) if (!keys.has(k)) this.reported.delete(k);
    for (const a of confirmed) this.reported.add(allocKey(a));
    return confirmed;
  }

  private record(r: KernelReport): void {
    const counts = { 'wiring-removed': r.removed.length, 'wiring-missing': r.missing.length, 'wiring-conflict': r.conflicts.length };
    for (const [outcome, n] of Object.entries(counts)) if (n) this.o.metrics.inc('vpcnet_reconcile_total', { kind: 'kernel', outcome }, n);
    if (r.removed.length) this.log.warn({ removed: r.removed }, 'removed pod wiring without an allocation');
    if (r.missing.length) {
      this.log.warn({ missing: r.missing.map((a) => ({ containerId: a.containerId, ifname: a.ifname, ip: a.ip })) }, 'allocations without pod wiring');
    }
    if (r.conflicts.length) this.log.error({ conflicts: r.conflicts }, 'pod wiring without an allocation holds an allocated address');
  }

  private failed(pass: 'kernel' | 'nics', err: unknown): void {
    this.o.metrics.inc('vpcnet_reconcile_total', { kind: pass, outcome: `${pass}-error` });
    this.log.warn({ pass, code: toVpcnetError(err, pass === 'kernel' ? 'NETLINK' : 'CLOUD_UNAVAILABLE').code, err }, 'reconcile pass failed');
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let nextSweep = this.o.clock.now() + Math.floor((this.o.random ?? Math.random)() * this.sweepEveryMs());
    while (!signal.aborted) {
      try {
        await this.o.clock.sleep(this.o.intervalMs, signal);
      } catch {
        return;
      }
      await this.reconcileKernel().catch((err: unknown) => this.failed('kernel', err));
      if (this.o.provider.leakedNics && this.o.clock.now() >= nextSweep) {
        nextSweep = this.o.clock.now() + this.sweepEveryMs();
        await this.sweepIfMine().catch((err: unknown) => this.failed('nics', err));
      }
    }
  }
}
