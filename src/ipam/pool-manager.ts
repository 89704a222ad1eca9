// Drives the pure Pool against a CloudProvider: restore -> reconcile -> plan/act loops.
// Every change that matters is committed; an allocation is durable before it is returned.
// One cloud-touching job runs at a time (refill or reconcile); allocate/release never wait
// for the cloud unless the pool is empty, and then only up to their deadline.
import { pino, type Logger } from 'pino';
import { hasNicLifecycle, type CloudProvider, type NodeLimits } from '../../providers/provider.ts';
import { VpcnetError, toVpcnetError } from '../errors.ts';
import { noopMetrics, type Metrics } from '../metrics/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { CheckpointStore } from './checkpoint.ts';
import { CommitQueue } from './commit-queue.ts';
import { isAmbiguous } from './conditions.ts';
import { executeAction } from './executor.ts';
import { publishPoolGauges } from './pool-metrics.ts';
import { Pool, type PoolOptions } from './pool.ts';
import type { Allocation, Plan, PlanAction, PodKey, PodRef, PoolSettings, PoolStatus, ReconcileReport } from './types.ts';

export interface PoolManagerOptions {
  provider: CloudProvider;
  store: CheckpointStore;
  limits: NodeLimits;
  targets?: Partial<PoolSettings>;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Period of the plan/act loop (ipamd checks every 5 s). */
  intervalMs?: number;
  /** Period of the full reconcile against listNics(). */
  reconcileIntervalMs?: number;
  /** How long allocate() waits for a refill by default. */
  allocateDeadlineMs?: number;
  /** Plan/act rounds per refill before yielding to the next trigger. */
  maxRounds?: number;
  /** 0..1, spreads the loops of nodes that boot together (start jitter); default Math.random. */
  random?: () => number;
}

export interface AllocateOptions {
  /** Wait at most this long for a refill; default allocateDeadlineMs. */
  deadlineMs?: number;
}

/** Reason for cancelling a waiter's own timer (abort() without one builds a DOMException with a stack). */
const WOKEN = Object.freeze({ woken: true });

export class PoolManager {
  private readonly opts: PoolManagerOptions;
  private readonly provider: CloudProvider;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly commits: CommitQueue;
  private current: Pool;
  private chain: Promise<unknown> = Promise.resolve();
  private refilling: Promise<void> | undefined;
  private refillAgain = false;
  private waiters = new Set<() => void>();
  private loopAbort: AbortController | undefined;
  private loopDone: Promise<void> | undefined;
  private waiting = 0;
  /** An action failed ambiguously (the cloud may have done it): read cloud truth before planning. */
  private truthUnknown = false;
  private started = false;
  private stopped = false;
  /** Until the first refill is done the node cannot serve: its cloud calls are urgent. */
  private booting = true;

  constructor(opts: PoolManagerOptions) {
    this.opts = opts;
    this.provider = opts.provider;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? noopMetrics;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'pool-manager' });
    this.current = new Pool(this.poolOptions());
    this.commits = new CommitQueue(opts.store, () => this.current.toCheckpoint());
  }

  /** The pool itself, read-only use (status, tests). */
  get pool(): Pool {
    return this.current;
  }

  /** Restores the checkpoint (a bad one throws and is left untouched), reconciles, fills, starts the loop. */
  async start(): Promise<void> {
    const data = await this.opts.store.load();
    const poolOpts = this.poolOptions();
    this.current = data ? Pool.fromCheckpoint(data, poolOpts) : new Pool(poolOpts);
    this.log.info({ restored: data !== null, allocations: data?.allocations.length ?? 0 }, 'pool restored');
    // No checkpoint ever written means no address was ever handed out: adopt blocks as free.
    await this.reconcileNow({ trustUnknown: data === null });
    this.started = true;
    try {
      await this.refill();
    } finally {
      this.booting = false;
    }
    this.loopAbort = new AbortController();
    this.loopDone = this.loop(this.loopAbort.signal);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.loopAbort?.abort(new VpcnetError('POOL_NOT_READY', 'pool manager stopped'));
    await this.loopDone;
    await this.refilling;
    await this.chain.catch(() => undefined);
    if (this.started) await this.commits.commit().catch((err: unknown) => this.log.error({ err }, 'final checkpoint failed'));
    await this.opts.store.close?.();
    for (const wake of this.waiters) wake();
  }

  /** True when the pool can hand out an address right now. */
  ready(): boolean {
    return this.started && !this.stopped && this.current.counts(this.clock.now()).available > 0;
  }

  status(): PoolStatus {
    return this.current.status(this.clock.now());
  }

  /** An address for the pod, durable before it returns; waits for a refill up to the deadline. */
  async allocate(pod: PodRef, opts: AllocateOptions = {}): Promise<Allocation> {
    const r = await this.reserve(pod, opts);
    return this.commitAllocation(pod, r.alloc, r.existed, r.now);
  }

  /**
   * The same as allocate(), but returns as soon as the address is taken in memory, with the
   * checkpoint commit under way: the caller overlaps its own work (the pod's wiring) with the
   * fsync and must await `durable` before it tells anyone the address (it rejects, and the
   * address goes back via cooldown, when the commit fails).
   */
  async allocateStaged(pod: PodRef, opts: AllocateOptions = {}): Promise<{ allocation: Allocation; durable: Promise<void> }> {
    const r = await this.reserve(pod, opts);
    const durable = this.commitAllocation(pod, r.alloc, r.existed, r.now).then(() => undefined);
    durable.catch(() => undefined); // the caller awaits it; never an unhandled rejection
    return { allocation: r.alloc, durable };
  }

  private async reserve(pod: PodRef, opts: AllocateOptions): Promise<{ alloc: Allocation; existed: boolean; now: number }> {
    this.assertRunning();
    const waitMs = opts.deadlineMs ?? this.opts.allocateDeadlineMs ?? 10_000;
    const deadline = this.clock.now() + waitMs;
    for (;;) {
      const now = this.clock.now();
      const existed = this.current.get(pod) !== undefined;
      const alloc = this.tryAllocate(pod, now);
      if (alloc) {
        this.current.markHardLimit(false, now);
        return { alloc, existed, now };
      }
      this.assertRunning();
      // Waiting cannot help at the node's hard limit: answer at once, and say so.
      if (this.current.atHardLimit(now)) throw this.atHardLimit(now);
      if (now >= deadline) throw this.exhausted(waitMs);
      this.waiting++;
      this.kick();
      try {
        await this.waitForChange(deadline);
      } finally {
        this.waiting--;
      }
    }
  }

  /** Frees the pod's address (into cooldown). Unknown pods: null, nothing changes. */
  async release(key: PodKey): Promise<Allocation | null> {
    this.assertRunning();
    const released = this.current.release(key, this.clock.now());
    this.metrics.inc('vpcnet_releases_total', { result: released ? 'ok' : 'unknown' });
    if (!released) return null;
    this.changed();
    await this.commits.commit();
    this.log.debug({ containerId: key.containerId, ifname: key.ifname, ip: released.ip }, 'address released');
    return released;
  }

  /** Cloud truth wins: lists the NICs and repairs the pool. */
  reconcile(): Promise<ReconcileReport> {
    this.assertRunning();
    return this.reconcileNow({});
  }

  /** Releases allocations of pods that no longer exist (older than minAgeMs). */
  async reconcilePods(live: PodKey[], opts: { minAgeMs?: number } = {}): Promise<Allocation[]> {
    this.assertRunning();
    const released = this.current.reconcilePods(live, this.clock.now(), opts);
    if (released.length) {
      this.log.info({ released: released.map((a) => a.containerId) }, 'released addresses of gone pods');
      this.metrics.inc('vpcnet_reconcile_total', { outcome: 'pod-gone' }, released.length);
      this.changed();
      await this.commits.commit();
    }
    return released;
  }

  /** Runs plan -> act until the pool is at target, blocked, or maxRounds is reached. */
  refill(): Promise<void> {
    return this.exclusive(async () => {
      if (this.truthUnknown) await this.reconcileLocked({});
      for (let round = 0; round < (this.opts.maxRounds ?? 5) && !this.stopped; round++) {
        const plan = this.current.plan(this.clock.now(), { demand: this.waiting });
        if (!plan.actions.length) {
          if (round === 0) this.log.debug({ reason: plan.reason }, 'pool at target');
          return;
        }
        if (!(await this.executePlan(plan, this.urgent()))) return;
      }
    });
  }

  // ---- internals --------------------------------------------------------------------------

  private poolOptions(): PoolOptions {
    return {
      limits: this.opts.limits,
      nicLifecycle: hasNicLifecycle(this.provider),
      random: this.opts.random ?? Math.random,
      ...(this.opts.targets ? { targets: this.opts.targets } : {}),
    };
  }

  private tryAllocate(pod: PodRef, now: number): Allocation | null {
    try {
      return this.current.allocate(pod, now);
    } catch (err) {
      this.metrics.inc('vpcnet_allocations_total', { result: 'at-capacity' });
      throw err;
    }
  }

  private async commitAllocation(pod: PodRef, alloc: Allocation, existed: boolean, now: number): Promise<Allocation> {
    try {
      await this.commits.commit();
    } catch (err) {
      // Not durable, so never returned: give the address back (via cooldown, to be safe).
      if (!existed) this.current.release(pod, now);
      this.metrics.inc('vpcnet_allocations_total', { result: 'error' });
      throw toVpcnetError(err, 'CHECKPOINT_IO');
    }
    this.metrics.inc('vpcnet_allocations_total', { result: existed ? 'repeat' : 'ok' });
    this.changed();
    this.kick();
    this.log.debug({ containerId: pod.containerId, ifname: pod.ifname, ip: alloc.ip }, 'address allocated');
    return alloc;
  }

  private atHardLimit(now: number): VpcnetError {
    this.current.markHardLimit(true, now);
    this.changed();
    this.metrics.inc('vpcnet_allocations_total', { result: 'at-capacity' });
    const s = this.status();
    this.log.warn({ counts: s.counts, nics: s.nics.length }, 'node at its address limit');
    return new VpcnetError('POOL_AT_CAPACITY', `node is at its address limit: all ${s.counts.assigned} addresses its NICs can hold are in use and no NIC can be added`, {
      details: { counts: s.counts, nics: s.nics.length, condition: 'NodeAddressLimit' },
    });
  }

  private exhausted(waitMs: number): VpcnetError {
    this.metrics.inc('vpcnet_allocations_total', { result: 'exhausted' });
    const s = this.status();
    const why = s.conditions.map((c) => `${c.type}: ${c.message}`).join('; ');
    const msg = `no pod address available after waiting ${waitMs} ms (${s.counts.assigned} assigned, ${s.counts.cooldown} cooling down, ${s.counts.total} held)${why ? `; ${why}` : ''}`;
    return new VpcnetError('POOL_EXHAUSTED', msg, { details: { waitedMs: waitMs, counts: s.counts, conditions: s.conditions } });
  }

  /** Pods wait for the pool, or the node cannot serve yet: the cloud calls go first (providers/kit/urgency.ts). */
  private urgent(): boolean {
    return this.waiting > 0 || this.booting;
  }

  private async executePlan(plan: Plan, urgent: boolean): Promise<boolean> {
    this.log.info({ reason: plan.reason, actions: plan.actions, urgent }, 'pool plan');
    for (const planned of plan.actions) {
      const action = this.current.begin(planned, this.clock.now());
      if (!action) continue;
      if (!(await this.execute(action, urgent))) return false;
    }
    return true;
  }

  private async execute(action: PlanAction, urgent: boolean): Promise<boolean> {
    const started = this.clock.now();
    const outcome = await executeAction(this.provider, action, { urgent });
    const result = outcome.error ? outcome.error.code : 'ok';
    this.metrics.inc('vpcnet_cloud_calls_total', { action: action.kind, outcome: result });
    this.metrics.observe('vpcnet_cloud_call_seconds', (this.clock.now() - started) / 1000, { action: action.kind });
    this.current.applyOutcome(action, outcome, this.clock.now());
    if (outcome.error) this.log.warn({ action, error: outcome.error }, 'pool action failed');
    if (outcome.error && isAmbiguous(outcome.error.code)) this.truthUnknown = true;
    else this.log.info({ action, blocks: outcome.blocks?.length, nic: outcome.nic?.id }, 'pool action done');
    await this.commitQuietly();
    this.changed();
    return outcome.error === undefined;
  }

  private reconcileNow(opts: { trustUnknown?: boolean }): Promise<ReconcileReport> {
    return this.exclusive(() => this.reconcileLocked(opts));
  }

  private async reconcileLocked(opts: { trustUnknown?: boolean }): Promise<ReconcileReport> {
    let report: ReconcileReport;
    try {
      report = this.current.reconcile(await this.provider.listNics(this.urgent() ? { urgent: true } : {}), this.clock.now(), opts);
    } catch (err) {
      this.metrics.inc('vpcnet_reconcile_total', { outcome: 'error' });
      throw toVpcnetError(err, 'CLOUD_UNAVAILABLE');
    }
    this.truthUnknown = false;
    this.metrics.inc('vpcnet_reconcile_total', { outcome: 'ok' });
    this.recordReport(report);
    await this.commits.commit();
    this.changed();
    return report;
  }

  private recordReport(r: ReconcileReport): void {
    const repairs = { adopted: r.adopted.length, removed: r.removed.length, lost: r.lost.length, restored: r.restored.length };
    for (const [outcome, n] of Object.entries(repairs)) if (n) this.metrics.inc('vpcnet_reconcile_total', { outcome }, n);
    if (r.lost.length) this.log.error({ lost: r.lost.map((a) => ({ containerId: a.containerId, ip: a.ip })) }, 'cloud removed addresses in use');
    if (Object.values(repairs).some((n) => n > 0) || r.nicsAdded.length || r.nicsRemoved.length) {
      this.log.warn({ ...repairs, nicsAdded: r.nicsAdded, nicsRemoved: r.nicsRemoved }, 'reconcile repaired the pool');
    }
  }

  /** After a cloud change, a failed commit is logged: the next commit or a reconcile repairs it. */
  private async commitQuietly(): Promise<void> {
    try {
      await this.commits.commit();
    } catch (err) {
      this.log.error({ err }, 'checkpoint commit failed');
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(fn);
    this.chain = run;
    return run;
  }

  /** Starts a refill in the background, or asks the running one to go again. */
  private kick(): void {
    if (this.stopped || !this.started) return;
    if (this.refilling) {
      this.refillAgain = true;
      return;
    }
    this.refilling = this.refill()
      .catch((err: unknown) => this.log.error({ err }, 'refill failed'))
      .finally(() => {
        this.refilling = undefined;
        if (this.refillAgain) {
          this.refillAgain = false;
          this.kick();
        }
      });
  }

  private changed(): void {
    publishPoolGauges(this.metrics, this.status());
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Sleeps until the pool changes, a cooling address becomes free, or the deadline. */
  private async waitForChange(deadline: number): Promise<void> {
    const now = this.clock.now();
    // also wake when a growth pause ends for waiting pods, to kick the refill again
    const until = Math.min(deadline, this.current.nextCooldownEnd(now) ?? deadline, this.current.urgentGrowthAt(now) ?? deadline);
    const abort = new AbortController();
    let wake: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
      this.waiters.add(resolve);
    });
    await Promise.race([changed, this.clock.sleep(Math.max(0, until - now), abort.signal).catch(() => undefined)]);
    abort.abort(WOKEN);
    this.waiters.delete(wake);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const interval = this.opts.intervalMs ?? 5_000;
    const reconcileEvery = this.opts.reconcileIntervalMs ?? 60_000;
    const random = this.opts.random ?? Math.random;
    // Start jitter: nodes that booted together neither tick nor reconcile in step.
    let lastReconcile = this.clock.now() - Math.floor(random() * reconcileEvery);
    let wait = Math.floor(random() * interval);
    while (!signal.aborted) {
      try {
        await this.clock.sleep(wait, signal);
        wait = interval;
      } catch {
        return;
      }
      if (this.clock.now() - lastReconcile >= reconcileEvery) {
        lastReconcile = this.clock.now();
        await this.reconcileNow({}).catch((err: unknown) => this.log.warn({ err }, 'periodic reconcile failed'));
      }
      await this.refill().catch((err: unknown) => this.log.error({ err }, 'periodic refill failed'));
    }
  }

  private assertRunning(): void {
    if (!this.started || this.stopped) throw new VpcnetError('POOL_NOT_READY', this.stopped ? 'pool manager is stopped' : 'pool manager has not started');
  }
}
