// The scale run: N simulated nodes boot at once against one emulated EC2 account (shared token
// buckets), then churn pods. Each node is its own agent: its own AwsProvider (own IMDS path,
// own client-side rate limiter, own SDK client) and its own PoolManager. Everything shares one
// scaled clock so emulated time agrees. Used by `npm run bench:scale` and the scale smoke test.
import { Agent } from 'node:http';
import { EC2Client } from '@aws-sdk/client-ec2';
import { pino, type Logger } from 'pino';
import { AwsProvider } from '../../providers/aws/client/aws-provider.ts';
import { TAGS } from '../../providers/aws/client/options.ts';
import { Ec2RateLimiter, type RunOptions } from '../../providers/aws/client/rate-limiter.ts';
import { AwsEmulator } from '../../providers/aws/emulator/index.ts';
import type { NodeLimits } from '../../providers/provider.ts';
import { retryTransient } from '../../src/agent/boot-retry.ts';
import { Reconciler } from '../../src/agent/reconciler.ts';
import { isVpcnetError } from '../../src/errors.ts';
import { noopMetrics } from '../../src/metrics/metrics.ts';
import { MemoryCheckpointStore } from '../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../src/ipam/pool-manager.ts';
import type { PodRef, PoolSettings } from '../../src/ipam/types.ts';
import { FakeClock, scaledClock, type Clock } from '../../src/util/clock.ts';
import { mulberry32 } from '../support/prng.ts';
import { sdkTransport } from '../support/aws-sdk-transport.ts';
import { bootWithRestarts } from './boot-restarts.ts';
import { VirtualTimeDriver } from './virtual-clock.ts';

export interface ScaleOptions {
  nodes: number;
  /** Pods each node holds at its peak; default 60% of the node's max pods. */
  podsPerNode?: number;
  /**
   * 'virtual' (default): emulated time stands still while work is in flight and jumps to the
   * next timer when all is quiet, so figures do not depend on machine load. 'scaled': emulated
   * time runs `speed` times faster than the wall clock.
   */
  time?: 'virtual' | 'scaled';
  /** For time 'scaled': emulated time runs this many times faster than the wall clock. */
  speed?: number;
  seed: number;
  /** Instance types, assigned round-robin. */
  instanceTypes?: string[];
  /** Release-half-and-refill cycles after the first fill; default 1. */
  churnCycles?: number;
  /** Pod arrivals (and departures) of one phase are spread over this window, emulated ms; default max(120 s, 0.9 s per node). */
  phaseWindowMs?: number;
  /** CNI ADD deadline (emulated ms); the agent's default is 10 s. */
  addDeadlineMs?: number;
  /**
   * A pod whose ADD answers "try again later" is retried as kubelet does (sandbox recreated
   * with backoff); it counts as failed only if it has no address this long after it arrived.
   */
  podStartTimeoutMs?: number;
  /** A node not warm this long after boot (emulated ms) counts as never warm. */
  warmTimeoutMs?: number;
  /** After churn, wait this long (emulated ms) for cooldowns and trimming before stopping. */
  settleMs?: number;
  /** Then a steady phase this long (emulated ms, no pod changes) to count steady-state calls; default 1 h. */
  steadyMs?: number;
  targets?: Partial<PoolSettings>;
  /**
   * /28 prefix blocks where the type supports them (the agent's default; all the default types
   * are Nitro); false: secondary IPs with WARM_ENI_TARGET=1.
   */
  prefixDelegation?: boolean;
  logger?: Logger;
  /** Progress lines for a human (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface ActionFigures {
  action: string;
  /** Requests the emulator saw (throttled ones included). */
  total: number;
  throttled: number;
  /** Calls per node as the clients counted them (retries included). */
  perNodeMean: number;
  perNodeP99: number;
  perNodeMax: number;
  bootPerNodeMean: number;
  churnPerNodeMean: number;
  mutating: boolean;
}

export interface ScaleResult {
  nodes: number;
  instanceTypes: Record<string, number>;
  time: 'virtual' | 'scaled';
  speed: number | undefined;
  prefixDelegation: boolean;
  seed: number;
  wallSeconds: number;
  emulatedSeconds: number;
  bootWallSeconds: number;
  warm: { p50: number; p99: number; max: number; notWarm: number };
  /** Agent restarts needed because boot failed (the DaemonSet would restart it). */
  bootRestarts: number;
  bootRestartCodes: Record<string, number>;
  /** Nodes given up after MAX_BOOT_RESTARTS failed boots (CrashLoopBackOff): failed nodes, by the last error's code. */
  bootFailures: number;
  bootFailureCodes: Record<string, number>;
  pods: { allocations: number; releases: number; peakPerNode: number };
  /** Pods that never got an address (after kubelet-style retries): what a user would see. */
  failures: number;
  failureCodes: Record<string, number>;
  /** ADD answers "try again later" that kubelet retried, by error code (a pod start delayed). */
  addRetries: number;
  addRetryCodes: Record<string, number>;
  /** Emulated seconds from a pod's arrival to its address, over pods that waited for a retry. */
  retriedPodStart: { count: number; p50: number; mean: number; p99: number; max: number };
  /** Unattached NICs of the cluster the agents' leak sweep deleted before the leak count. */
  leakedNicsCleaned: number;
  /** RequestLimitExceeded answers from the emulator, all run / during boot. */
  throttled: number;
  throttledAtBoot: number;
  actions: ActionFigures[];
  mutatingPerNode: { boot: { mean: number; p99: number; max: number }; churn: { mean: number; p99: number; max: number }; total: { mean: number; p99: number; max: number } };
  callsPerNode: { mean: number; p99: number };
  /** Boot plus the churn cycles (before the steady phase): every attempt, and what EC2 accepted, per node. */
  bootAndChurn: { attemptsPerNode: { mean: number; p99: number; max: number }; acceptedPerNode: number; acceptedByAction: Record<string, number> };
  /** The steady phase after churn (no pod changes): cloud calls per node per hour. */
  steady: { hours: number; describesPerNodeHour: number; describesPerNodeHourMax: number; callsPerNodeHour: number };
  leaks: {
    /** ENIs not attached to any instance at the end. */
    unattachedNics: number;
    /** ENIs attached to a node that its pool does not know. */
    unknownNics: number;
    /** Addresses on a node's ENIs that its pool does not know. */
    unknownAddresses: number;
    /** Addresses a pool holds that the cloud does not have on that ENI. */
    phantomAddresses: number;
    /** Pods whose address is not held by the cloud on their node. */
    lostPods: number;
    /** Same IP handed to two live pods. */
    doubleAssigned: number;
    /** Attached ENIs left after all instances terminated (delete-on-termination not set). */
    afterTermination: number;
    /** What the provider's leak finder reports after termination (should equal unattachedNics + afterTermination). */
    leakFinderFound: number;
  };
  leakTotal: number;
  rssPeakMb: number;
  heapUsedMb: number;
}

const CLUSTER = 'scale';
const CREDENTIALS = { accessKeyId: 'AKIDSCALE', secretAccessKey: 'scale-secret' };
const DEFAULT_TYPES = ['m5.large', 'm5.xlarge', 'c5.large', 't3.medium'];
const AZS = ['us-west-2a', 'us-west-2b', 'us-west-2c'];
/**
 * Nodes reading instance metadata at once. On EC2 each node's metadata service is local; here
 * all share one loopback listener, and a few parallel reads per node for 1000 nodes would
 * overflow its accept backlog and this process's file limit.
 */
const METADATA_CONCURRENCY = 50;
/** Assumed EC2 answer times (emulated ms): the order of what the API shows, not measurements. */
const API_LATENCY_MS: Record<string, number> = {
  '*': 150,
  CreateNetworkInterface: 400,
  AttachNetworkInterface: 300,
  DetachNetworkInterface: 300,
  DeleteNetworkInterface: 300,
  AssignPrivateIpAddresses: 250,
  UnassignPrivateIpAddresses: 200,
  ModifyNetworkInterfaceAttribute: 200,
};
/** An attachment stays 'attaching' (and a detaching ENI in use) this long. */
const ATTACH_DELAY_MS = 2000;
const DETACH_DELAY_MS = 2000;
/** Kubelet's back-off between sandbox attempts after a failed CNI ADD (starts ~10 s, caps at minutes). */
const KUBELET_RETRY_BASE_MS = 10_000;
const KUBELET_RETRY_CAP_MS = 120_000;
/** The agent's default reconcile.leakedNicGraceMs. */
const LEAKED_NIC_GRACE_MS = 600_000;

interface SimNode {
  index: number;
  instanceId: string;
  instanceType: string;
  /** Metadata reads in flight (they count as work; an EC2 call made inside one lends it back). */
  meta: { reading: number };
  provider: AwsProvider;
  pool: PoolManager | undefined;
  limits: NodeLimits | undefined;
  warmAt: number | undefined;
  restarts: number;
  bootCounts: Record<string, number>;
  live: PodRef[];
  seq: number;
}

export function isMutating(action: string): boolean {
  return !action.startsWith('Describe');
}

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const say = opts.progress ?? ((): void => undefined);
  const virtual = (opts.time ?? 'virtual') === 'virtual';
  const speed = opts.speed ?? 10;
  const vclock = virtual ? new FakeClock() : undefined;
  const clock: Clock = vclock ?? scaledClock(speed);
  const inFlight = { calls: 0 };
  const driver = vclock ? new VirtualTimeDriver(vclock, () => inFlight.calls > 0, { quantumMs: 50 }) : undefined;
  // Each node's own limiter (default ceilings and adaptive rate), metered on the shared clock.
  const limiter = (meta = { reading: 0 }, random: () => number = Math.random): Ec2RateLimiter =>
    new CountingLimiter({ inFlight, meta, clock: nodeClock(clock, inFlight, meta), random });
  const rand = mulberry32(opts.seed);
  const types = opts.instanceTypes ?? DEFAULT_TYPES;
  // The account's network-interface bucket refills 5 tokens/s, about 2 NIC attaches/s: pods
  // arrive no faster than the account can grow NICs for them (each node needs one or two).
  const window = opts.phaseWindowMs ?? Math.max(120_000, opts.nodes * 900);
  const addDeadlineMs = opts.addDeadlineMs ?? 10_000;
  const rss = startRssSampler();
  const prefixDelegation = opts.prefixDelegation ?? true;
  const targets: Partial<PoolSettings> = { prefixDelegation, ...opts.targets };
  await warmUpProcess(log);
  const wallStart = Date.now();
  const emuStart = clock.now();

  // The emulator runs on the shared scaled clock, so its own `speed` stays 1: that option
  // scales refill and delays for a wall clock, and both together would count the speed twice.
  const emu = new AwsEmulator({ clock, seed: opts.seed, logger: log, attachDelayMs: ATTACH_DELAY_MS, detachDelayMs: DETACH_DELAY_MS });
  const endpoint = await emu.start({ port: 0 });
  const scenario = buildScenario(opts.nodes, types);
  const res = emu.applyScenario(scenario.scenario);
  // Each node has its own SDK client, but they draw sockets from one pool: N agents x their own
  // keep-alive sockets (and the emulator's ends of them) would exhaust this process's files.
  const sockets = new Agent({ keepAlive: true, maxSockets: 256 });
  // The SDK's timeouts run on the wall clock. In virtual time an EC2 answer takes no emulated
  // time (its assumed latency is added after it), and the in-process emulator never drops a
  // request, so a wall-clock timeout here only measures how long this process's 2 busy cores
  // kept a ready answer waiting: counted as a cloud timeout it made admitted calls look
  // ambiguous and retried them (the 5000-node run before). In virtual time the timeouts are
  // only a guard against a hung socket; the agent's real 10 s timeout and what follows it
  // (retry, metadata check, describe) are held by the AWS client's unit and contract tests.
  const timeouts = virtual ? { requestTimeout: 600_000, connectionTimeout: 600_000 } : { requestTimeout: 10_000, connectionTimeout: 3000 };
  const sdkClient = (): EC2Client =>
    new EC2Client({
      region: 'us-west-2',
      endpoint,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: { httpAgent: sockets, ...timeouts, socketAcquisitionWarningTimeout: 600_000 },
    });
  const nodes: SimNode[] = res.instanceIds.map((instanceId, index) => {
    const meta = { reading: 0 };
    const rateLimiter = limiter(meta, mulberry32(opts.seed * 104_729 + index));
    return {
    index,
    meta,
    instanceId,
    instanceType: scenario.types[index] as string,
    provider: new AwsProvider({
      clusterName: CLUSTER,
      region: 'us-west-2',
      ec2Endpoint: endpoint,
      metadataEndpoint: emu.imdsEndpoint(instanceId),
      credentials: CREDENTIALS,
      clock: nodeClock(clock, inFlight, meta),
      logger: log,
      transport: sdkTransport(sdkClient()),
      random: mulberry32(opts.seed * 7919 + index),
      rateLimiter,
      prefixDelegation,
      // With scaled time N agents share 2 cores: the metadata deadline is 10 s of wall time,
      // so this process's CPU starvation is not mistaken for an unreachable metadata service.
      ...(virtual ? {} : { metadataBackoff: { deadlineMs: 10_000 * speed } }),
    }),
    pool: undefined,
    limits: undefined,
    warmAt: undefined,
    restarts: 0,
    bootCounts: {},
    live: [],
    seq: 0,
    };
  });
  const ledger = new Ledger();
  const failureCodes: Record<string, number> = {};
  const retryCodes: Record<string, number> = {};
  const retriedStarts: number[] = [];
  const podStartTimeoutMs = opts.podStartTimeoutMs ?? 900_000;
  const restartCodes: Record<string, number> = {};
  const bootFailureCodes: Record<string, number> = {};
  const pods = { allocations: 0, releases: 0, peakPerNode: 0 };

  try {
    // ---- boot: every node at once ----
    driver?.start();
    say(`booting ${nodes.length} nodes (${virtual ? 'virtual time' : `speed ${speed}x`})`);
    const progress = setInterval(() => {
      const warm = nodes.filter((n) => n.warmAt !== undefined).length;
      say(`  warm ${warm}/${nodes.length} after ${((clock.now() - emuStart) / 1000).toFixed(0)} emulated s, ${inFlight.calls} calls in flight, rss ${rss.currentMb()} MB`);
    }, 5000);
    try {
      const metadataGate = new Semaphore(METADATA_CONCURRENCY);
      await Promise.all(
        nodes.map((n) =>
          bootNode(n, { clock, log, targets, addDeadlineMs, restartCodes, bootFailureCodes, warmTimeoutMs: opts.warmTimeoutMs ?? 1_800_000, metadataGate, inFlight }),
        ),
      );
    } finally {
      clearInterval(progress);
    }
    const bootWallSeconds = (Date.now() - wallStart) / 1000;
    for (const n of nodes) n.bootCounts = n.provider.callCounts();
    const bootThrottled = sum(Object.values(emu.stats().throttled));
    say(`all warm after ${bootWallSeconds.toFixed(1)} s wall; churning pods`);

    // ---- churn: fill, release half, fill again ----
    const cycles = opts.churnCycles ?? 1;
    const churnProgress = setInterval(() => {
      say(`  churn: ${pods.allocations} ADDs, ${pods.releases} DELs, ${sum(Object.values(retryCodes))} retried, ${sum(Object.values(failureCodes))} failed, rss ${rss.currentMb()} MB`);
    }, 5000);
    try {
      await Promise.all(
        nodes.map((n) =>
          churnNode(n, { clock, rand, window, cycles, addDeadlineMs, podStartTimeoutMs, podsPerNode: opts.podsPerNode, ledger, failureCodes, retryCodes, retriedStarts, pods }),
        ),
      );
    } finally {
      clearInterval(churnProgress);
    }
    say(`churn done; settling ${((opts.settleMs ?? 90_000) / 1000).toFixed(0)} emulated s`);
    await clock.sleep(opts.settleMs ?? 90_000);
    const churnEnd = nodes.map((n) => ({ ...n.provider.callCounts() }));
    const churnAdmitted = { ...emu.stats().admitted };
    // Steady state: pods stay, every pool keeps its loop and periodic reconcile running.
    const steadyMs = opts.steadyMs ?? 3_600_000;
    say(`steady state: ${(steadyMs / 1000).toFixed(0)} emulated s with no pod changes`);
    await clock.sleep(steadyMs);
    const steadyDelta = nodes.map((n, i) => diffCounts(n.provider.callCounts(), churnEnd[i] ?? {}));
    const perHour = 3_600_000 / Math.max(1, steadyMs);
    const steady = {
      hours: round(steadyMs / 3_600_000, 2),
      describesPerNodeHour: round(mean(steadyDelta.map((d) => sumWhere(d, (a) => a.startsWith('Describe')))) * perHour, 3),
      describesPerNodeHourMax: round(Math.max(0, ...steadyDelta.map((d) => sumWhere(d, (a) => a.startsWith('Describe')))) * perHour, 3),
      callsPerNodeHour: round(mean(steadyDelta.map((d) => sum(Object.values(d)))) * perHour, 3),
    };

    // ---- shutdown and leak checks ----
    await Promise.all(nodes.map((n) => n.pool?.stop()));
    // What every agent's reconciler does (src/agent/reconciler.ts): NICs of this cluster left
    // unattached past the grace period are deleted. One sweep stands for all nodes' sweeps.
    await clock.sleep(LEAKED_NIC_GRACE_MS);
    const sweeper = new Reconciler({
      datapath: { listPods: async () => [], teardownPod: async () => undefined },
      provider: new AwsProvider({ clusterName: CLUSTER, region: 'us-west-2', ec2Endpoint: endpoint, credentials: CREDENTIALS, clock, logger: log, rateLimiter: limiter() }),
      allocations: () => [],
      mode: 'routed',
      intervalMs: LEAKED_NIC_GRACE_MS,
      leakedNicGraceMs: LEAKED_NIC_GRACE_MS,
      clock,
      metrics: noopMetrics,
      logger: log,
    });
    const swept = await sweeper.reconcileNics();
    const leaks = checkLeaks(emu, nodes, ledger);
    const unattachedBefore = new Set(emu.listEnis().filter((e) => !e.instanceId).map((e) => e.eniId));
    for (const id of res.instanceIds) emu.state.terminateInstance(id);
    const leftovers = emu.listEnis().filter((e) => e.tags[TAGS.cluster] === CLUSTER);
    const finder = new AwsProvider({
      clusterName: CLUSTER,
      region: 'us-west-2',
      ec2Endpoint: endpoint,
      credentials: CREDENTIALS,
      clock,
      logger: log,
      rateLimiter: limiter(),
    });
    const found = await finder.findLeakedNics(0);
    const allLeaks = {
      ...leaks,
      afterTermination: leftovers.filter((e) => !unattachedBefore.has(e.eniId)).length,
      leakFinderFound: found.length,
    };

    const endEmu = emu.stats();
    const actions = actionFigures(nodes, endEmu);
    const mutBoot = nodes.map((n) => sumWhere(n.bootCounts, isMutating));
    const mutTotal = nodes.map((n) => sumWhere(n.provider.callCounts(), isMutating));
    const mutChurn = mutTotal.map((t, i) => t - (mutBoot[i] as number));
    const callsTotal = nodes.map((n) => sum(Object.values(n.provider.callCounts())));
    const warmTimes = nodes.flatMap((n) => (n.warmAt === undefined ? [] : [(n.warmAt - emuStart) / 1000]));
    const typeCounts: Record<string, number> = {};
    for (const n of nodes) typeCounts[n.instanceType] = (typeCounts[n.instanceType] ?? 0) + 1;
    const leakTotal =
      allLeaks.unattachedNics + allLeaks.unknownNics + allLeaks.unknownAddresses + allLeaks.phantomAddresses + allLeaks.lostPods + allLeaks.doubleAssigned + allLeaks.afterTermination;
    const mem = process.memoryUsage();
    return {
      nodes: nodes.length,
      instanceTypes: typeCounts,
      time: virtual ? 'virtual' : 'scaled',
      prefixDelegation,
      speed: virtual ? undefined : speed,
      seed: opts.seed,
      wallSeconds: round((Date.now() - wallStart) / 1000, 1),
      emulatedSeconds: round((clock.now() - emuStart) / 1000, 0),
      bootWallSeconds: round(bootWallSeconds, 1),
      warm: { p50: round(quantile(warmTimes, 0.5), 1), p99: round(quantile(warmTimes, 0.99), 1), max: round(Math.max(0, ...warmTimes), 1), notWarm: nodes.length - warmTimes.length },
      bootRestarts: sum(nodes.map((n) => n.restarts)),
      bootRestartCodes: restartCodes,
      bootFailures: sum(Object.values(bootFailureCodes)),
      bootFailureCodes,
      pods,
      failures: sum(Object.values(failureCodes)),
      failureCodes,
      addRetries: sum(Object.values(retryCodes)),
      addRetryCodes: retryCodes,
      retriedPodStart: {
        count: retriedStarts.length,
        p50: round(quantile(retriedStarts, 0.5) / 1000, 1),
        mean: round(mean(retriedStarts) / 1000, 1),
        p99: round(quantile(retriedStarts, 0.99) / 1000, 1),
        max: round(Math.max(0, ...retriedStarts) / 1000, 1),
      },
      leakedNicsCleaned: swept.deleted.length,
      throttled: sum(Object.values(endEmu.throttled)),
      throttledAtBoot: bootThrottled,
      actions,
      mutatingPerNode: { boot: dist(mutBoot), churn: dist(mutChurn), total: dist(mutTotal) },
      callsPerNode: { mean: round(mean(callsTotal), 2), p99: quantile(callsTotal, 0.99) },
      bootAndChurn: {
        attemptsPerNode: dist(churnEnd.map((c) => sum(Object.values(c)))),
        // Accepted = attempts the emulator admitted, at the end of churn (admitted counts are per account).
        acceptedPerNode: round(sum(Object.values(churnAdmitted)) / nodes.length, 2),
        acceptedByAction: Object.fromEntries(Object.entries(churnAdmitted).map(([a, v]) => [a, round(v / nodes.length, 2)])),
      },
      steady,
      leaks: allLeaks,
      leakTotal,
      rssPeakMb: rss.stop(),
      heapUsedMb: Math.round(mem.heapUsed / 2 ** 20),
    };
  } finally {
    await Promise.all(nodes.map((n) => n.pool?.stop().catch(() => undefined)));
    await driver?.stop();
    sockets.destroy();
    await emu.stop();
  }
}

// ---- boot ----

/** Loads the SDK and fetch paths once against a throwaway emulator, so the first node's boot does not pay the process's start-up. */
async function warmUpProcess(log: Logger): Promise<void> {
  const emu = new AwsEmulator({ logger: log, throttling: false });
  const endpoint = await emu.start({ port: 0 });
  try {
    const { instanceIds } = emu.applyScenario({
      vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/24', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.0.0.0/24' }],
    });
    const id = instanceIds[0] as string;
    const p = new AwsProvider({ clusterName: CLUSTER, region: 'us-west-2', ec2Endpoint: endpoint, metadataEndpoint: emu.imdsEndpoint(id), credentials: CREDENTIALS, logger: log });
    await p.discover();
    await p.listNics();
  } finally {
    await emu.stop();
  }
}

interface BootDeps {
  clock: Clock;
  log: Logger;
  targets: Partial<PoolSettings> | undefined;
  addDeadlineMs: number;
  restartCodes: Record<string, number>;
  /** Nodes given up after MAX_BOOT_RESTARTS, by the last error's code. */
  bootFailureCodes: Record<string, number>;
  warmTimeoutMs: number;
  metadataGate: Semaphore;
  inFlight: { calls: number };
}

/** The agent's boot path: discover, list NICs, start the pool; a failed boot restarts (as its DaemonSet would). */
async function bootNode(n: SimNode, d: BootDeps): Promise<void> {
  const outcome = await bootWithRestarts(
    async () => {
      // Metadata reads are work in flight too (virtual time must not move past them).
      // Counted once through the gate: reads queued behind it wait on others' work, not their own.
      // As the agent does (src/agent/boot-retry.ts): transient failures are retried, not restarted.
      const boot = { clock: d.clock, logger: d.log };
      const discovered = retryTransient('discover', () => d.metadataGate.run(() => {
        d.inFlight.calls++;
        n.meta.reading++;
        return n.provider.discover().finally(() => {
          n.meta.reading--;
          d.inFlight.calls--;
        });
      }), boot);
      const { limits } = await discovered;
      await retryTransient('list-nics', () => n.provider.listNics(), boot);
      const pool = new PoolManager({
        provider: n.provider,
        store: new MemoryCheckpointStore(),
        limits,
        ...(d.targets ? { targets: d.targets } : {}),
        clock: d.clock,
        logger: d.log,
        allocateDeadlineMs: d.addDeadlineMs,
      });
      await pool.start();
      n.pool = pool;
      n.limits = limits;
    },
    {
      clock: d.clock,
      onRestart: (err) => {
        d.log.warn({ node: n.instanceId, err }, 'scale: boot failed, restarting');
        const code = isVpcnetError(err) ? err.code : 'UNKNOWN';
        d.restartCodes[code] = (d.restartCodes[code] ?? 0) + 1;
        n.restarts++;
      },
    },
  );
  if (!outcome.booted) {
    // Given up (CrashLoopBackOff): a failed node, reported; the run goes on.
    const code = isVpcnetError(outcome.error) ? outcome.error.code : 'UNKNOWN';
    d.bootFailureCodes[code] = (d.bootFailureCodes[code] ?? 0) + 1;
    d.log.error({ node: n.instanceId, err: outcome.error }, 'scale: boot given up');
    return;
  }
  // Warm: the pool can serve, and the planner wants no more growth.
  const pool = n.pool;
  if (!pool) return;
  for (const giveUp = d.clock.now() + d.warmTimeoutMs; d.clock.now() < giveUp; ) {
    const now = d.clock.now();
    const grow = pool.pool.plan(now).actions.some((a) => a.kind === 'attach-nic' || a.kind === 'assign');
    if (pool.ready() && !grow) {
      n.warmAt = now;
      return;
    }
    await d.clock.sleep(1000);
  }
}

// ---- churn ----

interface ChurnDeps {
  clock: Clock;
  rand: () => number;
  window: number;
  cycles: number;
  addDeadlineMs: number;
  podStartTimeoutMs: number;
  podsPerNode: number | undefined;
  ledger: Ledger;
  failureCodes: Record<string, number>;
  retryCodes: Record<string, number>;
  retriedStarts: number[];
  pods: { allocations: number; releases: number; peakPerNode: number };
}

async function churnNode(n: SimNode, d: ChurnDeps): Promise<void> {
  const pool = n.pool;
  const limits = n.limits;
  if (!pool || !limits) return;
  const target = d.podsPerNode ?? Math.floor(0.6 * limits.maxPods);
  const add = async (): Promise<void> => {
    const pod: PodRef = { containerId: `${n.instanceId}-${n.seq++}`, ifname: 'eth0', podNamespace: 'bench', podName: `p${n.seq}` };
    const arrived = d.clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const a = await pool.allocate(pod, { deadlineMs: d.addDeadlineMs });
        d.ledger.add(a.ip, pod.containerId);
        n.live.push(pod);
        d.pods.allocations++;
        d.pods.peakPerNode = Math.max(d.pods.peakPerNode, n.live.length);
        if (attempt > 0) d.retriedStarts.push(d.clock.now() - arrived);
        return;
      } catch (err) {
        const code = isVpcnetError(err) ? err.code : 'UNKNOWN';
        const retryable = isVpcnetError(err) && err.retryable;
        if (!retryable || d.clock.now() - arrived >= d.podStartTimeoutMs) {
          d.failureCodes[code] = (d.failureCodes[code] ?? 0) + 1;
          return;
        }
        // CNI error 11: kubelet tears the sandbox down and retries with backoff.
        d.retryCodes[code] = (d.retryCodes[code] ?? 0) + 1;
        await d.clock.sleep(Math.min(KUBELET_RETRY_BASE_MS * 2 ** attempt, KUBELET_RETRY_CAP_MS));
      }
    }
  };
  const del = async (pod: PodRef): Promise<void> => {
    const released = await pool.release(pod);
    if (released) d.ledger.remove(released.ip, pod.containerId);
    n.live = n.live.filter((p) => p !== pod);
    d.pods.releases++;
  };
  const spread = <T>(items: T[], fn: (item: T) => Promise<void>): Promise<void[]> =>
    Promise.all(items.map((item) => d.clock.sleep(d.rand() * d.window).then(() => fn(item))));
  for (let cycle = 0; ; cycle++) {
    await spread(Array.from({ length: Math.max(0, target - n.live.length) }, (_, i) => i), add);
    if (cycle >= d.cycles) return;
    const leaving = [...n.live].sort(() => d.rand() - 0.5).slice(0, Math.floor(n.live.length / 2));
    await spread(leaving, del);
  }
}

/** Every live pod's IP, across all nodes: a second live holder is a double assignment. */
class Ledger {
  readonly holders = new Map<string, string>();
  doubles = 0;

  add(ip: string, pod: string): void {
    const held = this.holders.get(ip);
    if (held !== undefined && held !== pod) this.doubles++;
    this.holders.set(ip, pod);
  }

  remove(ip: string, pod: string): void {
    if (this.holders.get(ip) === pod) this.holders.delete(ip);
  }
}

// ---- leak checks ----

function checkLeaks(emu: AwsEmulator, nodes: SimNode[], ledger: Ledger): Omit<ScaleResult['leaks'], 'afterTermination' | 'leakFinderFound'> {
  const enis = emu.listEnis();
  const byInstance = new Map<string, typeof enis>();
  let unattachedNics = 0;
  for (const e of enis) {
    if (!e.instanceId) {
      unattachedNics++;
      continue;
    }
    const list = byInstance.get(e.instanceId) ?? [];
    list.push(e);
    byInstance.set(e.instanceId, list);
  }
  let unknownNics = 0;
  let unknownAddresses = 0;
  let phantomAddresses = 0;
  let lostPods = 0;
  for (const n of nodes) {
    const cloud = byInstance.get(n.instanceId) ?? [];
    const status = n.pool?.status();
    const poolNics = new Map((status?.nics ?? []).map((nic) => [nic.id, new Set(nic.blocks.map((b) => b.cidr.replace(/\/32$/, '')))]));
    const cloudIps = new Map<string, Set<string>>();
    for (const e of cloud) {
      const ips = new Set([...e.secondaryIps, ...e.prefixes]);
      cloudIps.set(e.eniId, ips);
      const known = poolNics.get(e.eniId);
      if (!known) {
        unknownNics++;
        unknownAddresses += ips.size;
        continue;
      }
      for (const ip of ips) if (!known.has(ip)) unknownAddresses++;
    }
    for (const [nicId, ips] of poolNics) {
      const have = cloudIps.get(nicId);
      for (const ip of ips) if (!have?.has(ip)) phantomAddresses++;
    }
    const allocs = n.pool?.pool.toCheckpoint().allocations ?? [];
    for (const a of allocs) if (!cloudIps.get(a.nicId)?.has(a.blockCidr.replace(/\/32$/, ''))) lostPods++;
  }
  return { unattachedNics, unknownNics, unknownAddresses, phantomAddresses, lostPods, doubleAssigned: ledger.doubles };
}

// ---- figures ----

type EmuStats = ReturnType<AwsEmulator['stats']>;

function actionFigures(nodes: SimNode[], end: EmuStats): ActionFigures[] {
  const names = new Set<string>([...Object.keys(end.calls), ...nodes.flatMap((n) => Object.keys(n.provider.callCounts()))]);
  return [...names].sort().map((action) => {
    const per = nodes.map((n) => n.provider.callCounts()[action] ?? 0);
    const bootPer = nodes.map((n) => n.bootCounts[action] ?? 0);
    return {
      action,
      total: end.calls[action] ?? 0,
      throttled: end.throttled[action] ?? 0,
      perNodeMean: round(mean(per), 2),
      perNodeP99: quantile(per, 0.99),
      perNodeMax: Math.max(0, ...per),
      bootPerNodeMean: round(mean(bootPer), 2),
      churnPerNodeMean: round(mean(per) - mean(bootPer), 2),
      mutating: isMutating(action),
    };
  });
}

// ---- scenario ----

/** Nodes per AZ one /16 of pod subnets serves: 4096 /28s, about 3 per node at the peak (the default mix) plus headroom. */
const NODES_PER_SLASH16 = 1000;

/**
 * One VPC with a /16 per AZ per 1000 nodes in the AZ (each /16 two /17 subnets tagged for pods;
 * 1000 nodes: one /16 per AZ), instances round-robin over types, AZs and the AZ's subnets.
 * Sized so the subnets never run out: a subnet-full run would measure the address plan, not
 * the agent. More than five /16s need a raised VPC CIDR quota on AWS (default 5, adjustable).
 */
function buildScenario(count: number, types: string[]): { scenario: unknown; types: string[] } {
  const perAz = Math.max(1, Math.ceil(count / AZS.length / NODES_PER_SLASH16));
  const cidrs = Array.from({ length: AZS.length * perAz }, (_, b) => `10.${b}.0.0/16`);
  // Block b = az + AZS.length * k, so the 1000-node layout (10.0-10.2, one per AZ) stays as it was.
  const subnetsOf = AZS.map((az, a) =>
    Array.from({ length: perAz }, (_, k) => a + AZS.length * k).flatMap((b) => [
      { cidr: `10.${b}.0.0/17`, az, tags: { 'kubernetes.io/role/cni': '1' } },
      { cidr: `10.${b}.128.0/17`, az, tags: { 'kubernetes.io/role/cni': '1' } },
    ]),
  );
  const chosen: string[] = [];
  const instances = Array.from({ length: count }, (_, i) => {
    const type = types[i % types.length] as string;
    chosen.push(type);
    const inAz = subnetsOf[i % AZS.length] as { cidr: string }[];
    const subnet = inAz[Math.floor(i / AZS.length) % inAz.length] as { cidr: string };
    return { instanceType: type, subnet: subnet.cidr, securityGroups: ['sg-nodes'] };
  });
  return {
    scenario: {
      vpcs: [{ cidr: cidrs[0], extraCidrs: cidrs.slice(1), subnets: subnetsOf.flat() }],
      instances,
    },
    types: chosen,
  };
}

/** A node's view of the clock: while its open metadata read sleeps (backoff, answer time), that read is not work in flight. */
function nodeClock(clock: Clock, inFlight: { calls: number }, meta: { reading: number }): Clock {
  return {
    now: () => clock.now(),
    sleep: async (ms, signal) => {
      const lent = meta.reading;
      inFlight.calls -= lent;
      try {
        await clock.sleep(ms, signal);
      } finally {
        inFlight.calls += lent;
      }
    },
  };
}

/**
 * Counts calls in flight (virtual time waits for them) and adds the assumed EC2 answer time
 * after each answer. The wait is on the clock and not counted, so it never holds a socket or
 * stalls virtual time; the emulator's state changes at the start of the wait.
 */
class CountingLimiter extends Ec2RateLimiter {
  private readonly inFlight: { calls: number };
  private readonly meta: { reading: number };
  private readonly answerClock: Clock;

  constructor(o: { inFlight: { calls: number }; meta: { reading: number }; clock: Clock; random: () => number }) {
    super({ random: o.random }, o.clock);
    this.inFlight = o.inFlight;
    this.meta = o.meta;
    this.answerClock = o.clock;
  }

  override run<T>(action: string, fn: () => Promise<T>, runOpts: RunOptions = {}): Promise<T> {
    // Counted once sent: a call queued behind the node's own limiter waits on counted calls.
    // A call made while the node's metadata read is open is that read's work: counted once.
    return super.run(action, async () => {
      const add = 1 - this.meta.reading;
      this.inFlight.calls += add;
      try {
        return await fn();
      } finally {
        this.inFlight.calls -= add;
        await this.answerClock.sleep(API_LATENCY_MS[action] ?? API_LATENCY_MS['*'] ?? 0);
      }
    }, runOpts);
  }
}

// ---- small helpers ----

function startRssSampler(): { currentMb: () => number; stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 500);
  timer.unref();
  return {
    currentMb: () => Math.round(process.memoryUsage().rss / 2 ** 20),
    stop: () => {
      clearInterval(timer);
      return Math.round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20);
    },
  };
}

class Semaphore {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    }
  }
}


function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function diffCounts(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

function sumWhere(counts: Record<string, number>, pred: (action: string) => boolean): number {
  return sum(Object.entries(counts).flatMap(([k, v]) => (pred(k) ? [v] : [])));
}

function mean(xs: number[]): number {
  return xs.length ? sum(xs) / xs.length : 0;
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function dist(xs: number[]): { mean: number; p99: number; max: number } {
  return { mean: round(mean(xs), 2), p99: quantile(xs, 0.99), max: Math.max(0, ...xs) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
