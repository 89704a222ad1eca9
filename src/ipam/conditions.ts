// Maps cloud failures to pool conditions. A condition with `until` pauses growth until then;
// one without is only visible (e.g. a failed release). Successes clear them.
import type { ErrorCode } from '../errors.ts';
import type { PoolCondition, PoolConditionType } from './types.ts';
import { isAmbiguous } from '../../providers/kit/classify.ts';

export function conditionTypeOf(code: ErrorCode): PoolConditionType {
  switch (code) {
    case 'SUBNET_FULL':
      return 'SubnetFull';
    case 'CLOUD_LIMIT_EXCEEDED':
      return 'CloudLimitReached';
    case 'CLOUD_PERMISSION_DENIED':
    case 'CLOUD_AUTH':
      return 'CloudPermissionDenied';
    default:
      return 'CloudUnavailable';
  }
}

/** Failures where the cloud may have done the work anyway (the kit's one answer): state is unknown until a reconcile. */
export { isAmbiguous };

export class ConditionSet {
  private readonly byType = new Map<PoolConditionType, PoolCondition>();

  raise(type: PoolConditionType, message: string, now: number, until?: number): void {
    const since = this.byType.get(type)?.since ?? now;
    this.byType.set(type, until === undefined ? { type, message, since } : { type, message, since, until });
  }

  clear(type: PoolConditionType): void {
    this.byType.delete(type);
  }

  get(type: PoolConditionType): PoolCondition | undefined {
    return this.byType.get(type);
  }

  /** The condition that pauses growth at `now`, if any. */
  pausing(now: number): PoolCondition | undefined {
    return [...this.byType.values()].find((c) => c.until !== undefined && c.until > now);
  }

  list(): PoolCondition[] {
    return [...this.byType.values()].map((c) => ({ ...c }));
  }

  restore(conditions: PoolCondition[]): void {
    for (const c of conditions) this.byType.set(c.type, { ...c });
  }
}
