// The GCE scale run (`npm run bench:scale -- --cloud gcp`): N nodes boot at once against one
// emulated project (shared per-minute rate quotas), each with its own GcpProvider (its own
// metadata server, its own call counts) and PoolManager, then churn pods; at the end every node
// gives its range back. Emulated time is a scaled wall clock. Figures: Compute calls per node
// (boot and churn), time from boot to a usable range (p50/p99), pod-visible failures, ranges or
// routes left behind, double-assigned addresses.
import { pino, type Logger } from 'pino';
import { SdkComputeApi, type ComputeApi } from '../../providers/gcp/client/compute-api.ts';
import { GceRateLimiter } from '../../providers/gcp/client/rate-limiter.ts';
import { GcpProvider, type RangeMode } from '../../providers/gcp/client/gcp-provider.ts';
import { MetadataClient } from '../../providers/gcp/client/metadata-client.ts';
import { GcpEmulator } from '../../providers/gcp/emulator/index.ts';
import type { NodeLimits } from '../../providers/provider.ts';
import { isVpcnetError } from '../../src/errors.ts';
import { MemoryCheckpointStore } from '../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../src/ipam/pool-manager.ts';
import type { PodRef } from '../../src/ipam/types.ts';
import { scaledClock, type Clock } from '../../src/util/clock.ts';
import { mulberry32 } from '../support/prng.ts';
import { bootWithRestarts } from './boot-restarts.ts';

export interface GcpScaleOptions {
  nodes: number;
  seed: number;
  /** Emulated time runs this many times faster than the wall clock; default 20. */
  speed?: number;
  mode?: RangeMode;
  podsPerNode?: number;
  cycles?: number;
  /** Pod arrivals of one phase spread over this window (emulated ms); default 120 s. */
  phaseWindowMs?: number;
  /** Insert to DONE of an operation (emulated ms); default 3 s. */
  operationDelayMs?: number;
  logger?: Logger;
  progress?: (line: string) => void;
}

export interface GcpScaleResult {
  cloud: 'gcp';
  mode: RangeMode;
  nodes: number;
  speed: number;
  callsPerNode: { boot: Record<string, number>; churn: Record<string, number>; bootTotalMean: number; bootTotalMax: number; churnTotal: number };
  writesPerNodeMean: number;
  /** Emulated seconds from a node's boot to a range its pool can hand out. */
  timeToRangeS: { p50: number; p99: number; max: number };
  throttled: Record<string, number>;
  bootRestarts: number;
  /** Nodes given up after MAX_BOOT_RESTARTS failed boots (CrashLoopBackOff), by the last error's code: failed nodes. */
  bootFailures: number;
  bootFailureCodes: Record<string, number>;
  pods: { allocations: number; releases: number; failures: number; failureCodes: Record<string, number>; retried: number };
  doubleAssigned: number;
  leaks: { aliasRangesLeft: number; routesLeft: number; rangesNotHeldByAPool: number };
  wallSeconds: number;
}

const KUBELET_RETRY_BASE_MS = 10_000;
const PROJECT = 'vc10-scale';
const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];

/** Counts one node's Compute calls by method (the real SDK layer underneath). */
function counting(api: ComputeApi, counts: Record<string, number>): ComputeApi {
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      counts[name] = (counts[name] ?? 0) + 1;
      return fn(...a);
    };
  return {
    getInstance: wrap('instances.get', (z: string, n: string) => api.getInstance(z, n)),
    setAliasRanges: wrap('instances.updateNetworkInterface', (z: string, i: string, n: string, f: string, r: Parameters<ComputeApi['setAliasRanges']>[4]) => api.setAliasRanges(z, i, n, f, r)),
    getSubnetwork: wrap('subnetworks.get', (r: string, n: string) => api.getSubnetwork(r, n)),
    insertRoute: wrap('routes.insert', (r: Parameters<ComputeApi['insertRoute']>[0]) => api.insertRoute(r)),
    deleteRoute: wrap('routes.delete', (n: string) => api.deleteRoute(n)),
    getRoute: wrap('routes.get', (n: string) => api.getRoute(n)),
    listRoutes: wrap('routes.list', (f: string) => api.listRoutes(f)),
  };
}

interface SimNode {
  zone: string;
  name: string;
  provider: GcpProvider;
  counts: Record<string, number>;
  bootCounts: Record<string, number>;
  pool?: PoolManager;
  limits?: NodeLimits;
  bootedAt: number;
  usableAt?: number;
  restarts: number;
  /** Set when boot was given up after MAX_BOOT_RESTARTS: the last error's code. */
  bootFailure?: string;
  live: PodRef[];
  seq: number;
}

export async function runScaleGcp(opts: GcpScaleOptions): Promise<GcpScaleResult> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const say = opts.progress ?? ((): void => undefined);
  const speed = opts.speed ?? 20;
  const mode = opts.mode ?? 'alias-ip';
  const clock: Clock = scaledClock(speed);
  const rand = mulberry32(opts.seed);
  const wallStart = Date.now();
  const emu = new GcpEmulator({ clock, seed: opts.seed, project: PROJECT, operationDelayMs: opts.operationDelayMs ?? 3000, auth: 'any', logger: log });
  emu.applyScenario({
    subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/16', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.64.0.0/12' }] }],
    instances: ZONES.map((zone, z) => ({ name: `node-${z}`, zone, subnet: 'nodes', count: Math.floor(opts.nodes / ZONES.length) + (z < opts.nodes % ZONES.length ? 1 : 0) })),
  });
  const endpoint = await emu.start();
  // One SDK layer for the process (N x five gax clients would not fit in memory); each node
  // has its own provider, metadata server and counts, and each call is still one HTTP request.
  const firstZone = ZONES[0] as string;
  const shared = new SdkComputeApi({ project: PROJECT, endpoint, metadata: new MetadataClient({ endpoint: emu.metadataEndpoint(firstZone, 'node-0-0') }), clock, requestTimeoutMs: 30_000, operationTimeoutMs: 600_000 });
  const nodes: SimNode[] = [...emu.state.instances.values()].map((inst, i) => {
    const counts: Record<string, number> = {};
    return {
      zone: inst.zone,
      name: inst.name,
      counts,
      bootCounts: {},
      provider: new GcpProvider({
        clusterName: 'scale',
        api: counting(shared.withLimiter(new GceRateLimiter({ clock, random: mulberry32(opts.seed * 104729 + i) })), counts),
        metadata: new MetadataClient({ endpoint: emu.metadataEndpoint(inst.zone, inst.name), timeoutMs: 30_000 }),
        clock,
        logger: log,
        rangeMode: mode,
        rangePrefixLength: 24,
        ...(mode === 'route' ? { clusterCidr: '10.64.0.0/12' } : {}),
        random: mulberry32(opts.seed * 7919 + i),
        retry: { attempts: 8, baseMs: 1000, capMs: 30_000 },
      }),
      bootedAt: 0,
      restarts: 0,
      live: [],
      seq: 0,
    };
  });
  const failureCodes: Record<string, number> = {};
  const pods = { allocations: 0, releases: 0, failures: 0, retried: 0 };
  const holders = new Map<string, string>();
  let doubles = 0;

  say(`booting ${nodes.length} GCE nodes (${mode}, emulated time ${speed}x)`);
  const progress = setInterval(() => say(`  usable ${nodes.filter((n) => n.usableAt !== undefined).length}/${nodes.length}`), 5000);
  const gate = new Gate(64);
  try {
    await Promise.all(nodes.map((n) => gate.run(() => bootNode(n, clock, log))));
  } finally {
    clearInterval(progress);
  }
  for (const n of nodes) n.bootCounts = { ...n.counts };
  say(`boot done (${nodes.filter((n) => n.bootFailure).length} nodes given up) after ${((Date.now() - wallStart) / 1000).toFixed(1)} s wall; churning pods`);

  const window = opts.phaseWindowMs ?? 120_000;
  const cycles = opts.cycles ?? 1;
  await Promise.all(
    nodes.map(async (n) => {
      const pool = n.pool;
      if (!pool || !n.limits) return;
      const target = opts.podsPerNode ?? Math.floor(0.6 * n.limits.maxPods);
      const add = async (): Promise<void> => {
        const pod: PodRef = { containerId: `${n.name}-${n.seq++}`, ifname: 'eth0', podNamespace: 'bench', podName: `p${n.seq}` };
        const arrived = clock.now();
        for (let attempt = 0; ; attempt++) {
          try {
            const a = await pool.allocate(pod, { deadlineMs: 10_000 });
            const held = holders.get(a.ip);
            if (held !== undefined && held !== pod.containerId) doubles++;
            holders.set(a.ip, pod.containerId);
            n.live.push(pod);
            pods.allocations++;
            return;
          } catch (err) {
            const code = isVpcnetError(err) ? err.code : 'UNKNOWN';
            if (!(isVpcnetError(err) && err.retryable) || clock.now() - arrived > 900_000) {
              failureCodes[code] = (failureCodes[code] ?? 0) + 1;
              pods.failures++;
              return;
            }
            pods.retried++;
            await clock.sleep(KUBELET_RETRY_BASE_MS * 2 ** Math.min(attempt, 3));
          }
        }
      };
      const del = async (pod: PodRef): Promise<void> => {
        const a = await pool.release(pod);
        if (a && holders.get(a.ip) === pod.containerId) holders.delete(a.ip);
        n.live = n.live.filter((p) => p !== pod);
        pods.releases++;
      };
      const spread = <T>(items: T[], fn: (x: T) => Promise<void>): Promise<void[]> => Promise.all(items.map((x) => clock.sleep(rand() * window).then(() => fn(x))));
      for (let cycle = 0; ; cycle++) {
        await spread(Array.from({ length: Math.max(0, target - n.live.length) }, (_, i) => i), add);
        if (cycle >= cycles) return;
        await spread([...n.live].sort(() => rand() - 0.5).slice(0, Math.floor(n.live.length / 2)), del);
      }
    }),
  );
  const churn: Record<string, number> = {};
  for (const n of nodes) for (const [k, v] of Object.entries(n.counts)) churn[k] = (churn[k] ?? 0) + v - (n.bootCounts[k] ?? 0);

  // ---- leak checks: every range is held by exactly one pool; then every node gives it back ----
  emu.state.settle();
  const poolRanges = new Set(nodes.flatMap((n) => (n.pool?.status().nics ?? []).flatMap((x) => x.blocks.map((b) => b.cidr))));
  const cloudRanges = mode === 'alias-ip' ? [...emu.state.instances.values()].flatMap((i) => i.nics.flatMap((x) => x.aliasIpRanges.map((r) => r.ipCidrRange))) : [...emu.state.routes.values()].map((r) => r.destRange);
  const rangesNotHeldByAPool = cloudRanges.filter((c) => !poolRanges.has(c)).length;
  say('releasing every range (nodes drained)');
  await Promise.all(nodes.map((n) => n.pool?.stop()));
  await Promise.all(
    nodes.map((n) =>
      gate.run(async () => {
        const blocks = (await n.provider.listNics())[0]?.blocks ?? [];
        await n.provider.release({ nicId: 'nic0', blocks });
      }),
    ),
  );
  emu.state.settle();
  const aliasRangesLeft = [...emu.state.instances.values()].reduce((s, i) => s + i.nics.reduce((t, x) => t + x.aliasIpRanges.length, 0), 0);
  const routesLeft = emu.state.routes.size;
  const stats = emu.stats();
  await emu.stop();

  const boot: Record<string, number> = {};
  for (const n of nodes) for (const [k, v] of Object.entries(n.bootCounts)) boot[k] = (boot[k] ?? 0) + v;
  const per = (r: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v / nodes.length, 2)]));
  const bootTotals = nodes.map((n) => Object.values(n.bootCounts).reduce((a, b) => a + b, 0));
  const writes = nodes.map((n) => (n.bootCounts['instances.updateNetworkInterface'] ?? 0) + (n.bootCounts['routes.insert'] ?? 0));
  // Over nodes that got a range; a node given up at boot is a failure below, not an infinite time.
  const ttr = nodes.flatMap((n) => (n.usableAt === undefined ? [] : [(n.usableAt - n.bootedAt) / 1000])).sort((a, b) => a - b);
  const bootFailureCodes: Record<string, number> = {};
  for (const n of nodes) if (n.bootFailure) bootFailureCodes[n.bootFailure] = (bootFailureCodes[n.bootFailure] ?? 0) + 1;
  return {
    cloud: 'gcp',
    mode,
    nodes: nodes.length,
    speed,
    callsPerNode: { boot: per(boot), churn: per(churn), bootTotalMean: round(mean(bootTotals), 2), bootTotalMax: Math.max(...bootTotals), churnTotal: Object.values(churn).reduce((a, b) => a + b, 0) },
    writesPerNodeMean: round(mean(writes), 2),
    timeToRangeS: { p50: round(quantile(ttr, 0.5), 2), p99: round(quantile(ttr, 0.99), 2), max: round(ttr[ttr.length - 1] ?? 0, 2) },
    throttled: stats.throttled,
    bootRestarts: nodes.reduce((s, n) => s + n.restarts, 0),
    bootFailures: Object.values(bootFailureCodes).reduce((a, b) => a + b, 0),
    bootFailureCodes,
    pods: { ...pods, failureCodes },
    doubleAssigned: doubles,
    leaks: { aliasRangesLeft, routesLeft, rangesNotHeldByAPool },
    wallSeconds: round((Date.now() - wallStart) / 1000, 1),
  };
}

async function bootNode(n: SimNode, clock: Clock, log: Logger): Promise<void> {
  n.bootedAt = clock.now();
  const outcome = await bootWithRestarts(
    async () => {
      const { limits } = await n.provider.discover();
      const pool = new PoolManager({ provider: n.provider, store: new MemoryCheckpointStore(), limits, clock, logger: log, allocateDeadlineMs: 10_000 });
      await pool.start();
      n.pool = pool;
      n.limits = limits;
    },
    {
      clock,
      onRestart: (err) => {
        log.warn({ node: n.name, err }, 'scale: boot failed, restarting');
        n.restarts++;
      },
    },
  );
  if (!outcome.booted) {
    // Given up (CrashLoopBackOff): a failed node, reported; the run goes on.
    n.bootFailure = isVpcnetError(outcome.error) ? outcome.error.code : 'UNKNOWN';
    log.error({ node: n.name, err: outcome.error }, 'scale: boot given up');
    return;
  }
  const pool = n.pool;
  if (!pool) return;
  while (!pool.ready()) await clock.sleep(250);
  n.usableAt = clock.now();
}

class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return 0;
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x;
}
