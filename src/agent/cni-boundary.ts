// The CNI boundary's background parts, started by the agent before its socket opens: spooled
// DELs first (no ADD may be served before them), then the release of addresses whose netns is
// gone (for runtimes that never send GC).
import type { VpcnetConfig } from '../config/schema.ts';
import { DelSpool } from '../cni/del-spool.ts';
import type { CniHandler } from '../cni/handler.ts';
import { NetnsSweeper, ProcNetnsCensus, type NetnsCensus } from '../cni/netns-sweeper.ts';
import type { Allocation } from '../ipam/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';

export interface CniBoundaryDeps {
  config: VpcnetConfig;
  handler: CniHandler;
  allocations: () => Allocation[];
  /** True when a pod view (Kubernetes) still has the pod. */
  claimed?: (a: Allocation) => boolean;
  census?: NetnsCensus;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

export interface CniBoundary {
  spool: DelSpool;
  sweeper: NetnsSweeper;
  stop(): Promise<void>;
}

export async function startCniBoundary(d: CniBoundaryDeps): Promise<CniBoundary> {
  const spool = new DelSpool({
    dir: d.config.paths.delSpoolDir,
    apply: (key, at) => d.handler.applySpooledDel(key, at),
    intervalMs: Math.min(d.config.reconcile.intervalMs, 10_000),
    clock: d.clock,
    metrics: d.metrics,
    logger: d.logger,
  });
  await spool.start();
  const sweeper = new NetnsSweeper({
    allocations: d.allocations,
    release: (key) => d.handler.releaseAttachment(key),
    busy: (key) => d.handler.busy(key),
    ...(d.claimed ? { claimed: d.claimed } : {}),
    census: d.census ?? new ProcNetnsCensus(),
    graceMs: d.config.cni.goneNetnsGraceMs,
    intervalMs: Math.max(1000, Math.min(d.config.reconcile.intervalMs, Math.ceil(d.config.cni.goneNetnsGraceMs / 2))),
    clock: d.clock,
    metrics: d.metrics,
    logger: d.logger,
  });
  sweeper.start();
  return {
    spool,
    sweeper,
    stop: async () => {
      await spool.stop();
      await sweeper.stop();
    },
  };
}
