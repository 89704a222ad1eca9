// Compute Engine API rate quotas: per project, per group of methods, per minute, refilled at
// the start of each synchronized 60 s interval (not continuously). Over quota: 403
// rateLimitExceeded. Defaults: the per-project figures of the published page (see
// docs/providers/gcp-emulator.md, https://cloud.google.com/compute/api-quota).
import type { Clock } from '../../../src/util/clock.ts';

export type QuotaGroup = 'read' | 'list' | 'mutation' | 'operationRead';

export const DEFAULT_QUOTAS: Record<QuotaGroup, number> = {
  read: 1500,
  list: 1500,
  mutation: 1500,
  operationRead: 1500,
};

/** The group a method draws from. */
export function groupOf(method: string): QuotaGroup {
  if (method.endsWith('Operations.get') || method.endsWith('Operations.wait')) return 'operationRead';
  if (method.endsWith('.list') || method.endsWith('.aggregatedList')) return 'list';
  if (method.endsWith('.get')) return 'read';
  return 'mutation';
}

export class RateQuotas {
  private readonly limits: Record<QuotaGroup, number>;
  private readonly clock: Clock;
  private readonly speed: number;
  private window = -1;
  private used: Record<QuotaGroup, number> = { read: 0, list: 0, mutation: 0, operationRead: 0 };
  enabled: boolean;

  constructor(clock: Clock, opts: { speed?: number; limits?: Partial<Record<QuotaGroup, number>>; enabled?: boolean } = {}) {
    this.clock = clock;
    this.speed = opts.speed ?? 1;
    this.limits = { ...DEFAULT_QUOTAS, ...opts.limits };
    this.enabled = opts.enabled ?? true;
  }

  /** Counts one call; false when the group's quota for this minute is spent. */
  take(group: QuotaGroup): boolean {
    if (!this.enabled) return true;
    this.roll();
    if (this.used[group] >= this.limits[group]) return false;
    this.used[group]++;
    return true;
  }

  /** Emulated ms until the next interval starts (a hint for clients; GCE sends no Retry-After). */
  msToRefill(): number {
    const minute = 60_000 / this.speed;
    return minute - (this.clock.now() % minute);
  }

  setLimit(group: QuotaGroup, perMinute: number): void {
    this.limits[group] = perMinute;
  }

  snapshot(): { limits: Record<QuotaGroup, number>; used: Record<QuotaGroup, number> } {
    this.roll();
    return { limits: { ...this.limits }, used: { ...this.used } };
  }

  private roll(): void {
    const w = Math.floor(this.clock.now() / (60_000 / this.speed));
    if (w !== this.window) {
      this.window = w;
      this.used = { read: 0, list: 0, mutation: 0, operationRead: 0 };
    }
  }
}
