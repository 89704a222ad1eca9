// The release path for runtimes that never send CNI GC (and for DELs that never came): an
// allocation whose network namespace no longer exists, that no pod view claims and that no CNI
// command is working on, is released (DEL semantics) once it has been seen gone for a grace
// period. "Exists" is judged by identity (the dev:ino recorded at ADD), never by a path: a
// namespace lives while a process is in it or an nsfs bind mount holds it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { noopMetrics, type Metrics } from '../metrics/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { Repeater } from '../util/repeater.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import type { Allocation, PodKey } from '../ipam/types.ts';
import { keyOf } from './attachment-ops.ts';

/** The identities ("dev:ino") of every network namespace that exists now. */
export interface NetnsCensus {
  live(): Promise<Set<string>>;
}

/** Namespaces of every process plus nsfs bind mounts the agent's mount namespace shows. */
export class ProcNetnsCensus implements NetnsCensus {
  private readonly proc: string;

  constructor(proc = '/proc') {
    this.proc = proc;
  }

  async live(): Promise<Set<string>> {
    const out = new Set<string>();
    const pids = (await readdir(this.proc)).filter((n) => /^[0-9]+$/.test(n));
    await Promise.all(
      pids.map(async (pid) => {
        const st = await stat(`${this.proc}/${pid}/ns/net`, { bigint: true }).catch(() => undefined);
        if (st) out.add(`${st.dev}:${st.ino}`);
      }),
    );
    const mounts = await readFile(`${this.proc}/self/mountinfo`, 'utf8').catch(() => '');
    for (const line of mounts.split('\n')) {
      const [left, right] = line.split(' - ');
      if (!right?.startsWith('nsfs ')) continue;
      const point = left?.split(' ')[4]?.replace(/\\040/g, ' ');
      if (!point) continue;
      const st = await stat(point, { bigint: true }).catch(() => undefined);
      if (st) out.add(`${st.dev}:${st.ino}`);
    }
    return out;
  }
}

export interface NetnsSweeperOptions {
  allocations: () => Allocation[];
  /** DEL semantics under the attachment lock. */
  release: (key: PodKey) => Promise<void>;
  busy: (key: PodKey) => boolean;
  /** True when a pod view (Kubernetes) still has the pod. */
  claimed?: (a: Allocation) => boolean;
  census: NetnsCensus;
  graceMs: number;
  intervalMs: number;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
}

export class NetnsSweeper {
  private readonly o: NetnsSweeperOptions;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  /** Attachment -> when its namespace was first seen gone. */
  private readonly goneSince = new Map<string, number>();
  private readonly repeater: Repeater;

  constructor(opts: NetnsSweeperOptions) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? noopMetrics;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'netns-sweeper' });
    // graceMs 0 turns the sweeper off
    this.repeater = new Repeater(opts.graceMs > 0 ? opts.intervalMs : 0, () => this.sweep(), (err) => this.log.error({ err }, 'netns sweep failed'));
  }

  start(): void {
    this.repeater.start();
  }

  stop(): Promise<void> {
    return this.repeater.stop();
  }

  /** One pass; returns the attachments released. */
  async sweep(): Promise<PodKey[]> {
    const now = this.clock.now();
    const live = await this.o.census.live();
    const released: PodKey[] = [];
    const seen = new Set<string>();
    for (const a of this.o.allocations()) {
      const key = keyOf(a);
      seen.add(key);
      // Allocations from before identities were recorded are left to GC and the pod view.
      if (a.netnsId === undefined || live.has(a.netnsId) || this.o.busy(a) || this.o.claimed?.(a)) {
        this.goneSince.delete(key);
        continue;
      }
      const since = this.goneSince.get(key) ?? now;
      this.goneSince.set(key, since);
      if (now - since < this.o.graceMs) continue;
      try {
        await this.o.release({ containerId: a.containerId, ifname: a.ifname });
        this.goneSince.delete(key);
        released.push({ containerId: a.containerId, ifname: a.ifname });
        this.metrics.inc('vpcnet_reconcile_total', { kind: 'netns-gone', outcome: 'released' });
        this.log.info({ containerId: a.containerId, ifname: a.ifname, ip: a.ip, netns: a.netns, goneForMs: now - since }, 'released address whose netns is gone');
      } catch (err) {
        this.metrics.inc('vpcnet_reconcile_total', { kind: 'netns-gone', outcome: 'failed' });
        this.log.warn({ containerId: a.containerId, ifname: a.ifname, err }, 'releasing address whose netns is gone failed');
      }
    }
    for (const key of this.goneSince.keys()) if (!seen.has(key)) this.goneSince.delete(key);
    return released;
  }
}
