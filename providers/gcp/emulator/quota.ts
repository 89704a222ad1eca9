// Compute Engine API rate quotas: per project, per group of methods, per minute, refilled at
// the start of each synchronized 60 s interval (not continuously). Over quota: 403
// rateLimitExceeded. Defaults: the per-project figures of the published page (see
// docs/providers/gcp-emulator.md, https://cloud.google.com/compute/api-quota).
import type { Clock } from '../../../src/util/clock.ts';
import { DEFAULT_QUOTAS, msToNextWindow, QUOTA_WINDOW_MS, type QuotaGroup } from '../api-quotas.ts';

export { DEFAULT_QUOTAS, groupOf, type QuotaGroup } from '../api-quotas.ts';

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
    return msToNextWindow(this.clock.now(), QUOTA_WINDOW_MS / this.speed);
  }

  setLimit(group: QuotaGroup, perMinute: number): void {
    this.limits[group] = perMinute;
  }

  snapshot(): { limits: Record<QuotaGroup, number>; used: Record<QuotaGroup, number> } {
    this.roll();
    return { limits: { ...this.limits }, used: { ...this.used } };
  }

  private roll(): void {
    const w = Math.floor(this.clock.now() / (QUOTA_WINDOW_MS / this.speed));
    if (w !== this.window) {
      this.window = w;
      this.used = { read: 0, list: 0, mutation: 0, operationRead: 0 };
    }
  }
}
