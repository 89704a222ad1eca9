// Follows an ip-masq-agent config file: read at start and every resyncInterval (the file's own,
// 60 s by default, as ip-masq-agent), applied when its content changes. A file that does not
// parse keeps the rules last applied and raises a condition (status, log, Node event); a file
// that disappears means ip-masq-agent's defaults, as ip-masq-agent does.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { VpcnetError } from '../errors.ts';
import { IP_MASQ_AGENT_DEFAULTS, ipv6Parts, parseIpMasqAgentConfig, type IpMasqAgentConfig } from '../datapath/ip-masq-config.ts';
import type { Clock } from '../util/clock.ts';

export interface IpMasqStatus {
  path: string;
  /** applied: the file (or the defaults when it is absent) is in effect; invalid: the last good rules are kept. */
  state: 'applied' | 'invalid' | 'pending';
  config?: IpMasqAgentConfig;
  /** Parts of the file that change nothing because pods are IPv4-only (masqLinkLocalIPv6, IPv6 CIDRs). */
  ignoredIpv6?: string[];
  error?: string;
  since: number;
}

export interface IpMasqWatcherOptions {
  path: string;
  clock: Clock;
  logger: Logger;
  /** Installs the rules; throws if they could not be installed (then the old ones stay). */
  apply(cfg: IpMasqAgentConfig): Promise<void>;
  /** A bad file: for a Node event. */
  onInvalid?(message: string): void;
}

export class IpMasqWatcher {
  private readonly o: IpMasqWatcherOptions;
  private lastText: string | undefined | null = null; // null: never read
  private current: IpMasqStatus;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(opts: IpMasqWatcherOptions) {
    this.o = opts;
    this.current = { path: opts.path, state: 'pending', since: opts.clock.now() };
  }

  status(): IpMasqStatus {
    return { ...this.current };
  }

  /** Reads and applies once, then keeps following the file in the background. */
  async start(): Promise<void> {
    await this.syncOnce();
    this.loop = (async () => {
      while (!this.stopper.signal.aborted) {
        const every = this.current.config?.resyncIntervalMs ?? IP_MASQ_AGENT_DEFAULTS.resyncIntervalMs;
        try {
          await this.o.clock.sleep(every, this.stopper.signal);
        } catch {
          return;
        }
        await this.syncOnce();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /** One read-compare-apply step (tests call it directly). */
  async syncOnce(): Promise<void> {
    let text: string | undefined;
    try {
      text = await readFile(this.o.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return this.invalid(`cannot read ${this.o.path}: ${(err as Error).message}`);
      text = undefined; // absent: ip-masq-agent's defaults
    }
    if (text === this.lastText && this.current.state === 'applied') return;
    let cfg: IpMasqAgentConfig;
    try {
      cfg = text === undefined ? IP_MASQ_AGENT_DEFAULTS : parseIpMasqAgentConfig(text);
    } catch (err) {
      this.lastText = text;
      return this.invalid(err instanceof VpcnetError ? err.message : String(err));
    }
    try {
      await this.o.apply(cfg);
    } catch (err) {
      this.o.logger.error({ err }, 'ip-masq-agent rules not applied; the previous ones stay');
      return this.invalid(`rules not applied: ${(err as Error).message}`);
    }
    this.lastText = text;
    const ignoredIpv6 = ipv6Parts(cfg);
    this.current = { path: this.o.path, state: 'applied', config: cfg, since: this.o.clock.now(), ...(ignoredIpv6.length ? { ignoredIpv6 } : {}) };
    if (ignoredIpv6.length) {
      // ip-masq-agent writes these into its ip6tables chain (with --enable-ipv6); vpcnet pods have no IPv6 address, so there is no such traffic
      this.o.logger.warn({ path: this.o.path, ignored: ignoredIpv6 }, `vpcnet pods are IPv4-only: ${ignoredIpv6.join(', ')} in the ip-masq-agent config change nothing`);
    }
    this.o.logger.info({ path: this.o.path, nonMasqueradeCIDRs: cfg.nonMasqueradeCIDRs, masqLinkLocal: cfg.masqLinkLocal, present: text !== undefined }, 'ip-masq-agent config applied');
  }

  private invalid(message: string): void {
    const fresh = this.current.state !== 'invalid' || this.current.error !== message;
    this.current = { ...this.current, path: this.o.path, state: 'invalid', error: message, since: fresh ? this.o.clock.now() : this.current.since };
    if (!fresh) return;
    this.o.logger.warn({ path: this.o.path, error: message }, 'ip-masq-agent config invalid; keeping the last good rules');
    this.o.onInvalid?.(message);
  }
}
