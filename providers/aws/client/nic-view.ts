// The node's NICs as EC2 last described them, kept current with the answers of our own calls,
// and checked against instance metadata (cheap, local) to decide when EC2 must be asked again:
// on drift that outlasts metadata's lag (after a cooldown that grows while the drift stays), on
// a long jittered interval, and after any ambiguous failure. The interval counts from the last
// confirmed state: an EC2 listing, or a change of our own that EC2 accepted and metadata then
// showed (a check then would find nothing new); a node whose pool keeps changing is still
// checked fullCheckMaxMs after its last listing. Metadata never adds to the view: an address
// only metadata shows is never handed out (it may be one we just released, or lag).
import type { CloudBlock, CloudNic } from '../../provider.ts';
import type { Clock } from '../../../src/util/clock.ts';
import type { ImdsNicAddresses } from './imds.ts';

export interface NicViewOptions {
  clock: Clock;
  random: () => number;
  /** Drift must last this long before EC2 is asked (metadata lags the API by seconds). */
  driftCooldownMs?: number;
  /** A full EC2 check after this long (jittered 75-125%) without a confirmed state, even without drift. */
  fullCheckMs?: number;
  /** The latest a full check comes after the last EC2 listing (jittered 75-100%), however often our own changes were confirmed. Default 2 × fullCheckMs. */
  fullCheckMaxMs?: number;
}

export type ViewDecision = { describe: false } | { describe: true; why: 'no-view' | 'stale' | 'drift' | 'periodic' };

export class NicView {
  private readonly o: Required<NicViewOptions>;
  private nics: CloudNic[] | undefined;
  private readonly attachments = new Map<string, string>();
  private stale = false;
  private driftSince: number | undefined;
  private cooldownMs: number;
  private nextFullAt = Infinity;
  /** When the full check is due at the latest (the last listing + fullCheckMaxMs). */
  private latestFullAt = Infinity;
  /** Our own changes applied to the view that metadata has not yet been seen to agree with. */
  private unconfirmed = false;

  constructor(opts: NicViewOptions) {
    const fullCheckMs = opts.fullCheckMs ?? 3_600_000;
    this.o = { driftCooldownMs: 30_000, fullCheckMs, fullCheckMaxMs: 2 * fullCheckMs, ...opts };
    this.cooldownMs = this.o.driftCooldownMs;
  }

  /** A fresh EC2 listing. `matchesMetadata`: whether metadata agreed with it (if not, the next drift waits longer). */
  set(nics: CloudNic[], attachmentIds: Map<string, string>, matchesMetadata = true): void {
    const now = this.o.clock.now();
    this.nics = nics.map(copyNic);
    for (const [nic, att] of attachmentIds) this.attachments.set(nic, att);
    this.stale = false;
    this.driftSince = undefined;
    this.cooldownMs = matchesMetadata ? this.o.driftCooldownMs : Math.min(this.o.fullCheckMs, this.cooldownMs * 2);
    this.unconfirmed = false;
    // Jittered too (75-100 %): nodes that booted together and kept changing must not all
    // describe at the same moment (5000 nodes at once throttled on the describe bucket).
    this.latestFullAt = now + Math.max(this.o.fullCheckMs, this.o.fullCheckMaxMs * (0.75 + 0.25 * this.o.random()));
    this.nextFullAt = this.fullCheckAfter(now);
  }

  /** A jittered full-check interval from `now`, never past the latest. */
  private fullCheckAfter(now: number): number {
    return Math.min(this.latestFullAt, now + this.o.fullCheckMs * (0.75 + 0.5 * this.o.random()));
  }

  get(): CloudNic[] | undefined {
    return this.nics?.map(copyNic);
  }

  attachmentOf(nicId: string): string | undefined {
    return this.attachments.get(nicId);
  }

  /** An ambiguous failure (the cloud may have acted): the next listing asks EC2. */
  markStale(): void {
    this.stale = true;
  }

  addNic(nic: CloudNic, attachmentId: string | undefined): void {
    if (attachmentId) this.attachments.set(nic.id, attachmentId);
    if (!this.nics) return;
    this.nics = [...this.nics.filter((n) => n.id !== nic.id), copyNic(nic)].sort((a, b) => a.deviceIndex - b.deviceIndex);
    this.unconfirmed = true;
  }

  removeNic(nicId: string): void {
    this.attachments.delete(nicId);
    if (!this.nics) return;
    this.nics = this.nics.filter((n) => n.id !== nicId);
    this.unconfirmed = true;
  }

  addBlocks(nicId: string, blocks: CloudBlock[]): void {
    const nic = this.nics?.find((n) => n.id === nicId);
    if (!nic) return this.markStale();
    const have = new Set(nic.blocks.map((b) => b.cidr));
    nic.blocks.push(...blocks.filter((b) => !have.has(b.cidr)));
    this.unconfirmed = true;
  }

  removeBlocks(nicId: string, cidrs: string[]): void {
    const nic = this.nics?.find((n) => n.id === nicId);
    if (!nic) return;
    const gone = new Set(cidrs);
    nic.blocks = nic.blocks.filter((b) => !gone.has(b.cidr));
    this.unconfirmed = true;
  }

  /** Whether the view must be refreshed from EC2, given what metadata shows now (undefined: metadata failed). */
  decide(meta: ImdsNicAddresses[] | undefined): ViewDecision {
    const now = this.o.clock.now();
    if (!this.nics) return { describe: true, why: 'no-view' };
    if (this.stale) return { describe: true, why: 'stale' };
    if (now >= this.nextFullAt) return { describe: true, why: 'periodic' };
    if (meta && this.agrees(meta)) {
      this.driftSince = undefined;
      this.cooldownMs = this.o.driftCooldownMs;
      // Our own change, accepted by EC2 and now shown by metadata: the state is confirmed, the
      // full check moves out (not past the latest).
      if (this.unconfirmed) this.nextFullAt = Math.max(this.nextFullAt, this.fullCheckAfter(now));
      this.unconfirmed = false;
      return { describe: false };
    }
    this.driftSince ??= now;
    if (now - this.driftSince >= this.cooldownMs) return { describe: true, why: 'drift' };
    return { describe: false };
  }

  /** True when metadata shows exactly the view's NICs, addresses and prefixes. */
  agrees(meta: ImdsNicAddresses[]): boolean {
    return this.nics !== undefined && sameState(this.nics, meta);
  }
}

/** NICs and their blocks compared with metadata (MACs, secondary addresses, prefixes). */
export function sameState(nics: CloudNic[], meta: ImdsNicAddresses[]): boolean {
  if (nics.length !== meta.length) return false;
  const byMac = new Map(meta.map((m) => [m.mac, m]));
  for (const nic of nics) {
    const m = byMac.get(nic.mac);
    if (!m) return false;
    const ips = nic.blocks.filter((b) => b.kind === 'ip').map((b) => b.cidr.replace(/\/32$/, ''));
    const metaIps = m.localIpv4s.filter((ip) => ip !== nic.primaryIp);
    if (!sameSet(ips, metaIps)) return false;
    if (!sameSet(nic.blocks.filter((b) => b.kind === 'prefix').map((b) => b.cidr), m.ipv4Prefixes)) return false;
  }
  return true;
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

function copyNic(n: CloudNic): CloudNic {
  return { ...n, securityGroups: [...n.securityGroups], blocks: n.blocks.map((b) => ({ ...b })) };
}
