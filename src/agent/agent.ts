// The composition root: the only place that wires real implementations together.
// start(): discover the node -> node datapath -> pool (restore, reconcile, fill) -> CNI socket
// -> local API -> install the CNI executable and conflist once the pool can serve.
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { CloudNic, CloudProvider, NodeInfo, NodeLimits, ProviderCondition, SubnetSpaceReport } from '../../providers/provider.ts';
import { CniHandler } from '../cni/handler.ts';
import { installForwarder, writeConflist } from '../cni/install.ts';
import { cniSettingsFrom } from '../cni/settings.ts';
import type { CniIpam } from '../cni/types.ts';
import type { VpcnetConfig } from '../config/schema.ts';
import type { Datapath, NodeNetConfig } from '../datapath/datapath.ts';
import { IpvlanWiring } from '../datapath/ipvlan.ts';
import { LinuxDatapath } from '../datapath/linux-datapath.ts';
import { optionalRenameExchange } from '../datapath/native/setns-addon.ts';
import { isVpcnetError, VpcnetError } from '../errors.ts';
import { FileCheckpointStore, type CheckpointStore } from '../ipam/checkpoint.ts';
import { PoolManager } from '../ipam/pool-manager.ts';
import type { Allocation, PoolStatus } from '../ipam/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PrometheusMetrics } from '../metrics/prometheus.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { silentLogger } from '../util/logger.ts';
import { IpMasqWatcher, type IpMasqStatus } from './ip-masq-watcher.ts';
import { ipv4NonMasq } from '../datapath/ip-masq-config.ts';
import { retryUntilReady, type StartupBlock } from './boot-retry.ts';
import { KubeWiring, nodeNameOf, type KubeStatus, type KubeWiringOverrides } from './kube-wiring.ts';
import { NicDirectory } from './nic-directory.ts';
import { createProvider, nodeMaxPods, type ProviderDeps } from './provider-factory.ts';
import { Reconciler } from './reconciler.ts';
import { CniSocketServer } from './socket-server.ts';
import { startCniBoundary, type CniBoundary } from './cni-boundary.ts';
import { FdNetnsInspector } from '../cni/netns-inspector.ts';
import type { NetnsInspector } from '../cni/types.ts';
import { boundPort, startHttp } from './status-api.ts';

/** Where build/native puts the forwarder (deploy/bootstrap.sh, the image build). */
export const DEFAULT_FORWARDER = fileURLToPath(new URL('../../build/native/vpcnet-cni', import.meta.url));

export interface AgentOverrides {
  provider?: CloudProvider;
  datapath?: Datapath;
  store?: CheckpointStore;
  clock?: Clock;
  metrics?: PrometheusMetrics;
  logger?: Logger;
  /** The built forwarder to install; default build/native/vpcnet-cni. */
  forwarderPath?: string;
  /** Fixed cloud credentials (demo, emulator tests); default: the SDK's credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Skip the HTTP listeners (tests that run many agents in one process). */
  noHttp?: boolean;
  /** Kubernetes client and timings (tests); used when config.kubernetes.enabled. */
  kube?: KubeWiringOverrides;
  /** Pod netns identity (tests with a fake datapath); default: the forwarder's descriptor. */
  netns?: NetnsInspector;
  /** Jitter of start-up retries, 0..1 (tests); default Math.random. */
  random?: () => number;
}

/** Where the start-up is: `blocked` says which step waits to be retried after which error. */
export interface StartupStatus {
  phase: 'starting' | 'blocked' | 'started' | 'stopped';
  /** The step being retried and its last error (phase blocked). */
  blocked?: StartupBlock;
  /** Failed attempts of all steps so far. */
  failures: number;
}

export interface AgentStatus {
  /** Start-up progress: until `started` the agent does not serve, and says why here. */
  startup: StartupStatus;
  node: NodeInfo | undefined;
  limits: NodeLimits | undefined;
  ready: boolean;
  installed: boolean;
  pool: PoolStatus | undefined;
  /** The pods' addresses (allocations). */
  pods: Allocation[] | undefined;
  /** Present when the Kubernetes integration is on. */
  kubernetes?: KubeStatus;
  /** Present when an ip-masq-agent config file is followed. */
  ipMasqAgent?: IpMasqStatus;
  /** Conditions the cloud provider raises outside any one call (GCE NextHopCannotIpForward). */
  providerConditions?: ProviderCondition[];
  /** Free aligned /28s of the subnets the node has read (AWS with prefix delegation). */
  subnets?: SubnetSpaceReport[];
}

export class Agent {
  readonly config: VpcnetConfig;
  /** Set by start() from the registry (loading only the configured cloud's module), or given. */
  private cloud: CloudProvider | undefined;
  private readonly providerDeps: ProviderDeps;
  private dp: Datapath | undefined;
  private readonly datapathOverride: Datapath | undefined;
  readonly metrics: PrometheusMetrics;
  private readonly store: CheckpointStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly forwarderPath: string;
  private readonly noHttp: boolean;
  private readonly datapathLogger: Logger;
  /** Present when config.kubernetes.enabled. */
  readonly kube: KubeWiring | undefined;
  private ipMasq: IpMasqWatcher | undefined;
  private node: NodeInfo | undefined;
  private limits: NodeLimits | undefined;
  /** Pod MTU: datapath.mtu, else the MTU the cloud reports for the primary NIC (AWS 9001, Azure 1500, GCE 1460). */
  private mtu = 0;
  private pool: PoolManager | undefined;
  private socket: CniSocketServer | undefined;
  private boundary: CniBoundary | undefined;
  private readonly netnsOverride: NetnsInspector | undefined;
  private reconciler: Reconciler | undefined;
  private servers: Server[] = [];
  private installed = false;
  private installTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly startAbort = new AbortController();
  private startup: StartupStatus = { phase: 'starting', failures: 0 };
  private readonly random: (() => number) | undefined;

  constructor(config: VpcnetConfig, o: AgentOverrides = {}) {
    this.config = config;
    this.clock = o.clock ?? systemClock;
    this.log = (o.logger ?? silentLogger()).child({ component: 'agent' });
    this.metrics = o.metrics ?? new PrometheusMetrics({ processMetrics: true });
    this.kube = config.kubernetes.enabled
      ? new KubeWiring({ settings: config.kubernetes, nodeName: nodeNameOf(config), clock: this.clock, metrics: this.metrics, logger: o.logger ?? silentLogger(), ...o.kube })
      : undefined;
    const deps: ProviderDeps = {
      clock: this.clock,
      metrics: this.metrics as Metrics,
      logger: o.logger ?? silentLogger(),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      // With Kubernetes a provider's sweeps run under a Lease and it may read Node.spec.podCIDR.
      ...(this.kube ? { cluster: this.kube.cluster } : {}),
    };
    this.cloud = o.provider;
    this.providerDeps = deps;
    this.datapathOverride = o.datapath;
    this.datapathLogger = deps.logger;
    this.store = o.store ?? new FileCheckpointStore(config.paths.checkpoint, { warn: (msg, details) => this.log.warn(details, msg), exchange: optionalRenameExchange() });
    this.forwarderPath = o.forwarderPath ?? DEFAULT_FORWARDER;
    this.noHttp = o.noHttp ?? false;
    this.netnsOverride = o.netns;
    this.random = o.random;
  }

  /**
   * Starts the agent. Cloud failures never make it fail: each step is retried with backoff
   * until it succeeds (boot-retry.ts), and until then /readyz answers 503, `vpcnet status`,
   * the metrics and the node condition say which step waits and why. Resolves once the CNI
   * socket serves, or when stop() ends a start-up still waiting.
   */
  async start(): Promise<void> {
    try {
      await this.startSteps();
      this.startup = { phase: 'started', failures: this.startup.failures };
    } catch (err) {
      if (!this.startAbort.signal.aborted) throw err;
      this.startup = { ...this.startup, phase: 'stopped' };
      this.log.info({}, 'start-up ended by stop');
    }
  }

  private async startSteps(): Promise<void> {
    // Listen first: a port in use fails before any cloud call or kernel change, and the probes
    // answer during boot (/readyz 503 until the pool can serve).
    if (!this.noHttp) await this.startHttp();
    this.cloud ??= await createProvider(this.config, this.providerDeps);
    const { node, limits } = await this.untilReady('discover', () => this.provider.discover());
    this.node = node;
    this.limits = limits;
    this.log.info({ instanceId: node.instanceId, instanceType: node.instanceType, zone: node.zone, limits }, 'node discovered');
    // The pool's first reconcile reuses this listing (the provider answers it from its NIC view).
    const nics = await this.untilReady('list-nics', () => this.provider.listNics({ urgent: true }));
    this.mtu = this.config.datapath.mtu ?? podMtuOf(node, nics);
    const netCfg = this.nodeNetConfig(node, nics);
    this.dp = this.datapathOverride ?? this.linuxDatapath(netCfg);
    await this.dp.setupNode(netCfg);
    this.kube?.start(node);
    const wiring = this.kube;
    if (wiring) {
      void nodeMaxPods(this.config, node, limits).then(
        (n) => wiring.publishMaxPods(n),
        (err: unknown) => this.log.warn({ err: (err as Error).message }, 'max pods not computed; the node is not annotated'),
      );
    }
    await this.followIpMasqAgent(netCfg);

    const mtu = this.mtu;
    const pool = await this.untilReady('pool', () => this.startPool(limits));
    this.pool = pool;
    this.unblocked();
    if (this.startAbort.signal.aborted) throw new VpcnetError('POOL_NOT_READY', 'agent stopping');
    // Before the socket opens: its first kernel pass may act at once (no ADD can be in flight).
    if (this.config.reconcile.enabled) await this.startReconciler(this.dp, pool);

    const nicDir = new NicDirectory({ datapath: this.dp, nics: () => pool.pool.nicPlaces(), mtu });
    const handler = new CniHandler({
      ipam: ipamFor(pool),
      datapath: this.dp,
      resolveNic: (a) => nicDir.resolve(a),
      settings: cniSettingsFrom(this.config, mtu),
      netns:
        this.netnsOverride ??
        new FdNetnsInspector({
          ...(this.config.datapath.nodeNetns ? { nodeNetns: this.config.datapath.nodeNetns } : {}),
          onUnreadable: (path) => this.log.warn({ path }, 'cannot read a namespace identity to refuse it'),
        }),
      clock: this.clock,
      metrics: this.metrics,
      logger: this.log,
      ...(this.kube ? { onAdded: (a: Allocation) => this.kube?.onAdded(a) } : {}),
    });
    this.kube?.attach({
      pool,
      releaseAttachment: (k) => handler.releaseAttachment(k),
      busy: (k) => handler.busy(k),
      providerConditions: () => this.cloud?.conditions?.() ?? [],
    });
    // DELs spooled while the agent was down are applied before the first ADD can arrive.
    const kube = this.kube;
    this.boundary = await startCniBoundary({
      config: this.config,
      handler,
      allocations: () => pool.pool.allocations(),
      ...(kube ? { claimed: (a: Allocation) => kube.claims(a) } : {}),
      clock: this.clock,
      metrics: this.metrics,
      logger: this.log,
    });
    this.socket = new CniSocketServer({
      path: this.config.paths.socket,
      handler: (req) => handler.handle(req),
      requestTimeoutMs: this.config.cni.requestTimeoutMs,
      clock: this.clock,
      logger: this.log,
    });
    await this.socket.start();
    this.scheduleInstall();
    this.log.info({ socket: this.config.paths.socket }, 'agent started');
  }

  /** The pool restored, reconciled with the cloud and filled; a failed try leaves nothing running. */
  private async startPool(limits: NodeLimits): Promise<PoolManager> {
    const pool = new PoolManager({
      provider: this.kube ? this.kube.wrapProvider(this.provider) : this.provider,
      store: this.store,
      limits,
      targets: this.config.pool,
      clock: this.clock,
      metrics: this.metrics,
      logger: this.log,
      allocateDeadlineMs: this.config.cni.addDeadlineMs,
      // One period for "the next reconcile": cloud truth for blocks, kernel, leaked NICs.
      reconcileIntervalMs: this.config.reconcile.intervalMs,
    });
    try {
      await pool.start();
    } catch (err) {
      await pool.stop().catch(() => undefined);
      throw err;
    }
    return pool;
  }

  /** A cloud-facing start-up step, retried until it succeeds (never fatal), reported while it fails. */
  private untilReady<T>(step: string, fn: () => Promise<T>): Promise<T> {
    return retryUntilReady(step, fn, {
      clock: this.clock,
      logger: this.log,
      signal: this.startAbort.signal,
      ...(this.random ? { random: this.random } : {}),
      // local state no retry can mend
      isFatal: (err) => isVpcnetError(err) && (err.code === 'CHECKPOINT_CORRUPT' || err.code === 'CHECKPOINT_VERSION' || err.code === 'CHECKPOINT_IO'),
      onBlocked: (block) => this.blocked(block),
    });
  }

  private blocked(block: StartupBlock): void {
    const prev = this.startup.blocked;
    if (prev && (prev.step !== block.step || prev.code !== block.code)) this.metrics.set('vpcnet_startup_blocked', 0, { step: prev.step, code: prev.code });
    this.startup = { phase: 'blocked', blocked: block, failures: this.startup.failures + 1 };
    this.metrics.inc('vpcnet_startup_failures_total', { step: block.step, code: block.code });
    this.metrics.set('vpcnet_startup_blocked', 1, { step: block.step, code: block.code });
    this.kube?.reportStartupBlocked(block);
  }

  private unblocked(): void {
    const prev = this.startup.blocked;
    if (prev) this.metrics.set('vpcnet_startup_blocked', 0, { step: prev.step, code: prev.code });
    this.startup = { phase: 'starting', failures: this.startup.failures };
  }

  /** True when a CNI ADD can be served now. */
  ready(): boolean {
    return this.pool?.ready() ?? false;
  }

  status(): AgentStatus {
    return {
      startup: { ...this.startup },
      node: this.node,
      limits: this.limits,
      ready: this.ready(),
      installed: this.installed,
      pool: this.pool?.status(),
      pods: this.pool?.pool.allocations(),
      ...(this.kube ? { kubernetes: this.kube.status() } : {}),
      ...(this.ipMasq ? { ipMasqAgent: this.ipMasq.status() } : {}),
      ...(this.cloud?.conditions?.().length ? { providerConditions: this.cloud.conditions() } : {}),
      ...(this.cloud?.subnetSpace?.().length ? { subnets: this.cloud.subnetSpace() } : {}),
    };
  }

  /** ip-masq-agent semantics from its config file: the file's set replaces the VPC-derived one. */
  private async followIpMasqAgent(netCfg: NodeNetConfig): Promise<void> {
    const path = this.config.masquerade.ipMasqAgentConfigFile;
    const dp = this.dp;
    if (!path || !this.config.masquerade.enabled || !dp) return;
    this.ipMasq = new IpMasqWatcher({
      path,
      clock: this.clock,
      logger: this.log.child({ part: 'ip-masq-agent' }),
      apply: (cfg) =>
        dp.setupNode({ ...netCfg, masquerade: { ...netCfg.masquerade, nonMasqueradeCidrs: ipv4NonMasq(cfg), masqueradeLinkLocal: cfg.masqLinkLocal, exactNonMasquerade: true } }),
      onInvalid: (message) => this.kube?.services.warn('CONFIG_INVALID', message),
    });
    await this.ipMasq.start();
  }

  /** Ports the local API and metrics listen on (useful with port 0). */
  ports(): { api?: number; metrics?: number } {
    const [api, metrics] = this.servers;
    return { ...(api ? { api: boundPort(api) } : {}), ...(metrics ? { metrics: boundPort(metrics) } : {}) };
  }

  get poolManager(): PoolManager {
    if (!this.pool) throw new VpcnetError('POOL_NOT_READY', 'agent not started');
    return this.pool;
  }

  /** Graceful: stop taking requests, let in-flight ones finish, write the last checkpoint. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.startAbort.abort(new VpcnetError('POOL_NOT_READY', 'agent stopping'));
    clearTimeout(this.installTimer);
    await this.kube?.quiesce();
    await this.socket?.close();
    await this.boundary?.stop();
    await this.reconciler?.stop();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await this.pool?.stop();
    await this.kube?.stop();
    await this.ipMasq?.stop();
    if (this.dp instanceof LinuxDatapath) {
      await this.dp.settled();
      this.dp.close();
    }
    this.log.info({}, 'agent stopped');
  }

  get provider(): CloudProvider {
    if (!this.cloud) throw new VpcnetError('POOL_NOT_READY', 'agent not started');
    return this.cloud;
  }

  get datapath(): Datapath {
    if (!this.dp) throw new VpcnetError('POOL_NOT_READY', 'agent not started');
    return this.dp;
  }

  private async startReconciler(datapath: Datapath, pool: PoolManager): Promise<void> {
    const r = this.config.reconcile;
    this.reconciler = new Reconciler({
      datapath,
      provider: this.provider,
      allocations: () => pool.pool.allocations(),
      mode: this.config.datapath.mode,
      intervalMs: r.intervalMs,
      leakedNicGraceMs: r.leakedNicGraceMs,
      soloSweepIntervalMs: r.leakedNicSoloSweepMs,
      // With Kubernetes one agent of the cluster sweeps (a Lease); without, each rarely.
      ...(this.kube ? { sweepLease: this.kube.sweepLease } : {}),
      clock: this.clock,
      metrics: this.metrics,
      logger: this.log,
    });
    await this.reconciler.start();
  }

  /** Routed mode is built in; ipvlan mode needs the node's network config for its routes. */
  private linuxDatapath(netCfg: NodeNetConfig): LinuxDatapath {
    const nodeNetns = this.config.datapath.nodeNetns;
    return new LinuxDatapath({
      ...(nodeNetns ? { nodeNetns } : {}),
      allowedNetnsDirs: this.config.cni.netnsPathPrefixes,
      modes: { ipvlan: new IpvlanWiring({ ...(nodeNetns ? { nodeNetns } : {}), node: netCfg, log: this.datapathLogger }) },
      logger: this.datapathLogger,
      deferVethDeletion: true,
      metrics: this.metrics,
    });
  }

  private nodeNetConfig(node: NodeInfo, nics: CloudNic[]): NodeNetConfig {
    const primary = nics.find((n) => n.deviceIndex === 0);
    if (!primary) throw new VpcnetError('CLOUD_NOT_FOUND', 'the cloud lists no primary NIC (device 0) for this node', { details: { instanceId: node.instanceId } });
    const m = this.config.masquerade;
    return {
      primaryIp: node.primaryIp,
      primaryMac: primary.mac,
      vpcCidrs: node.vpcCidrs,
      masquerade: { enabled: m.enabled, nonMasqueradeCidrs: m.nonMasqueradeCidrs, masqueradeLinkLocal: m.masqueradeLinkLocal, randomFully: m.randomFully },
      mtu: this.mtu,
      ...(this.config.datapath.serviceCidr ? { serviceCidr: this.config.datapath.serviceCidr } : {}),
    };
  }

  private async startHttp(): Promise<void> {
    const source = {
      status: () => this.status(),
      ready: () => this.ready(),
      metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.render() }),
    };
    this.servers.push(await startHttp(this.config.apiListen, source, 'api'));
    this.servers.push(await startHttp(this.config.metricsListen, source, 'metrics'));
  }

  /** kubelet reads a conflist as "network ready": write it only once the pool can serve. */
  private scheduleInstall(): void {
    const attempt = async (): Promise<void> => {
      if (this.stopping) return;
      if (this.ready()) {
        try {
          await installForwarder(this.forwarderPath, this.config.paths.cniBinDir);
          await writeConflist({
            confDir: this.config.paths.cniConfDir,
            mtu: this.mtu,
            agentSocket: this.config.paths.socket,
            delSpoolDir: this.config.paths.delSpoolDir,
            // snat: hairpin to a published port from the node itself, as AWS VPC CNI's conflist
            chained: this.config.cni.chainPortmap ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : [],
          });
          this.installed = true;
          this.log.info({ binDir: this.config.paths.cniBinDir, confDir: this.config.paths.cniConfDir }, 'CNI executable and conflist installed');
          return;
        } catch (err) {
          this.log.error({ err }, 'CNI install failed; retrying');
        }
      }
      this.installTimer = setTimeout(() => void attempt(), 250);
    };
    void attempt();
  }
}

/** The NIC's own MTU when the cloud reports one per NIC, else the node's. */
function podMtuOf(node: NodeInfo, nics: CloudNic[]): number {
  return nics.find((n) => n.deviceIndex === 0)?.mtu ?? node.mtu;
}

/** The CNI handler's view of the pool manager. */
function ipamFor(pool: PoolManager): CniIpam {
  return {
    allocate: (pod, opts) => pool.allocate(pod, opts),
    allocateStaged: (pod, opts) => pool.allocateStaged(pod, opts),
    release: async (key) => {
      await pool.release(key);
    },
    find: (key) => pool.pool.get(key),
    list: () => pool.pool.allocations(),
    ready: () => pool.ready(),
  };
}
