// The agent side of the CNI protocol: one call per forwarder request. It validates everything
// first (no state changes on bad input), serializes work per attachment, and turns every
// failure into a spec error object.
import { VpcnetError } from '../errors.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { noopMetrics, type Metrics } from '../metrics/metrics.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import type { Datapath } from '../datapath/datapath.ts';
import type { Allocation, PodKey } from '../ipam/types.ts';
import { parseEnv, type CniEnv } from './env.ts';
import { parseNetConf, responseVersion, type NetConf } from './netconf.ts';
import { renderResult } from './result.ts';
import { errorResponse } from './error-object.ts';
import { KeyedLock } from './keyed-lock.ts';
import { AttachmentOps, keyOf as attachmentKey } from './attachment-ops.ts';
import { COMMAND_SINCE, compareVersions, SUPPORTED_VERSIONS } from './versions.ts';
import type { CniIpam, CniRequest, CniResponse, CniSettings, NetnsInspector, NicResolver } from './types.ts';

export interface CniHandlerDeps {
  ipam: CniIpam;
  datapath: Datapath;
  resolveNic: NicResolver;
  settings: CniSettings;
  /** Decides the pod netns of ADD/CHECK by identity (FdNetnsInspector in the agent). */
  netns: NetnsInspector;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Told about each successful ADD, after the result is final; must not block (the agent annotates pods). */
  onAdded?: (allocation: Allocation) => void;
}

const OK_EMPTY: CniResponse = { exitCode: 0, stdout: '' };

export class CniHandler {
  private readonly ops: AttachmentOps;
  private readonly ipam: CniIpam;
  private readonly settings: CniSettings;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly locks = new KeyedLock();
  private readonly onAdded: ((allocation: Allocation) => void) | undefined;
  private readonly netns: NetnsInspector;

  constructor(deps: CniHandlerDeps) {
    this.ipam = deps.ipam;
    this.settings = deps.settings;
    this.clock = deps.clock ?? systemClock;
    this.metrics = deps.metrics ?? noopMetrics;
    this.log = (deps.logger ?? silentLogger()).child({ component: 'cni' });
    this.ops = new AttachmentOps({ ...deps, clock: this.clock, locks: this.locks, logger: this.log });
    this.onAdded = deps.onAdded;
    this.netns = deps.netns;
  }

  /**
   * Tears an attachment down and frees its address as a DEL would, under the same per-attachment
   * lock: for the agent's release of pods the API server says are gone (their netns is gone too).
   */
  releaseAttachment(key: PodKey): Promise<void> {
    return this.ops.del(key);
  }

  /** A DEL recorded while the agent was down: applied unless the attachment is newer than the record. */
  applySpooledDel(key: PodKey, spooledAt: number): Promise<boolean> {
    return this.ops.delIfOlder(key, spooledAt);
  }

  /** True while a CNI command for this attachment is running. */
  busy(key: PodKey): boolean {
    return this.locks.has(attachmentKey(key));
  }

  async handle(req: CniRequest): Promise<CniResponse> {
    const started = this.clock.now();
    const command = req.env.CNI_COMMAND ?? 'unknown';
    const version = responseVersion(req.stdin);
    let res: CniResponse;
    try {
      res = await this.dispatch(req);
      this.log.debug({ command, containerId: req.env.CNI_CONTAINERID, ifname: req.env.CNI_IFNAME }, 'cni request done');
    } catch (err) {
      res = errorResponse(err, version);
      this.log.warn({ command, containerId: req.env.CNI_CONTAINERID, ifname: req.env.CNI_IFNAME, err }, 'cni request failed');
    }
    const result = res.exitCode === 0 ? 'ok' : 'error';
    this.metrics.observe('vpcnet_cni_request_seconds', (this.clock.now() - started) / 1000, { command: metricCommand(command), result });
    return res;
  }

  private async dispatch(req: CniRequest): Promise<CniResponse> {
    // VERSION needs nothing but CNI_COMMAND; the forwarder answers it the same way
    if (req.env.CNI_COMMAND === 'VERSION') return versionResponse(req.stdin);
    const env = parseEnv(req.env, this.settings.netnsPathPrefixes);
    const conf = parseNetConf(req.stdin, { tolerateHints: env.command === 'DEL' });
    if (conf.ignored) this.log.warn({ command: env.command, containerId: env.containerId, ifname: env.ifname, ignored: conf.ignored }, 'cni request: malformed hints ignored');
    if (compareVersions(conf.cniVersion, COMMAND_SINCE[env.command]) < 0) {
      throw new VpcnetError('CNI_VERSION_UNSUPPORTED', `config version does not allow ${env.command}`, {
        details: { config: conf.cniVersion, needs: COMMAND_SINCE[env.command] },
      });
    }
    switch (env.command) {
      case 'ADD':
        return this.add(env, conf, req);
      case 'DEL': {
        const key = attachmentOf(env);
        await this.inNetns(this.ipam.find(key)?.netnsId, () => this.ops.del(key));
        return OK_EMPTY;
      }
      case 'CHECK': {
        const prev = conf.prevResult;
        if (!prev) throw new VpcnetError('CNI_INVALID_CONFIG', 'CHECK needs prevResult');
        const netns = this.netns.inspect(requireNetns(env), req);
        await this.inNetns(netns.id, () => this.ops.check(attachmentOf(env), netns, prev));
        return OK_EMPTY;
      }
      case 'GC':
        if (!conf.validAttachments) throw new VpcnetError('CNI_INVALID_CONFIG', 'GC needs cni.dev/valid-attachments');
        await this.ops.gc(conf.validAttachments);
        return OK_EMPTY;
      case 'VERSION':
        return versionResponse(req.stdin);
      case 'STATUS':
        if (!this.ipam.ready()) throw new VpcnetError('CNI_NOT_AVAILABLE', 'plugin not available: the address pool cannot serve ADD yet');
        return OK_EMPTY;
    }
  }

  private async add(env: CniEnv, conf: NetConf, req: CniRequest): Promise<CniResponse> {
    const key = attachmentOf(env);
    // Decided once, before anything is allocated: a refused netns changes nothing.
    const netns = this.netns.inspect(requireNetns(env), req);
    const result = await this.inNetns(netns.id, () => this.ops.add({ ...key, netns: netns.path, ...podFields(env.args) }, netns, conf));
    this.notifyAdded(key);
    return { exitCode: 0, stdout: `${JSON.stringify(renderResult(result, conf.cniVersion))}\n` };
  }

  /**
   * Work on attachments that share a network namespace runs one at a time (taken before the
   * attachment's own lock, always in that order): a failed ADD's undo must never race another
   * attachment's setup in the same namespace (found by the fuzz test).
   */
  private inNetns<T>(netnsId: string | undefined, fn: () => Promise<T>): Promise<T> {
    return netnsId === undefined ? fn() : this.locks.run(`netns:${netnsId}`, fn);
  }

  private notifyAdded(key: PodKey): void {
    if (!this.onAdded) return;
    const allocation = this.ipam.find(key);
    if (!allocation) return;
    try {
      this.onAdded(allocation);
    } catch (err) {
      this.log.warn({ containerId: key.containerId, err }, 'add listener failed');
    }
  }
}

function versionResponse(stdin: string): CniResponse {
  return { exitCode: 0, stdout: `${JSON.stringify({ cniVersion: responseVersion(stdin), supportedVersions: SUPPORTED_VERSIONS })}\n` };
}

function attachmentOf(env: CniEnv): { containerId: string; ifname: string } {
  // parseEnv guarantees both for ADD, DEL and CHECK
  return { containerId: env.containerId as string, ifname: env.ifname as string };
}

function requireNetns(env: CniEnv): string {
  return env.netns as string;
}

function podFields(args: Record<string, string>): { podNamespace?: string; podName?: string; podUid?: string } {
  const out: { podNamespace?: string; podName?: string; podUid?: string } = {};
  if (args.K8S_POD_NAMESPACE) out.podNamespace = args.K8S_POD_NAMESPACE;
  if (args.K8S_POD_NAME) out.podName = args.K8S_POD_NAME;
  if (args.K8S_POD_UID) out.podUid = args.K8S_POD_UID;
  return out;
}

/** Bounded label values: a hostile CNI_COMMAND must not create new series. */
function metricCommand(command: string): string {
  return Object.hasOwn(COMMAND_SINCE, command) ? command : 'invalid';
}
