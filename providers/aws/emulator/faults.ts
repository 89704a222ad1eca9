// Injected faults and latency per EC2 action. A fault answers with an EC2 error (code, HTTP
// status), or resets the connection; `when: 'after'` performs the call first and then fails
// the response, which is how a client learns to cope with "succeeded but I never heard".
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';

export interface FaultRule {
  /** EC2 action name, or '*' for every action. */
  action: string;
  /** EC2 error code, e.g. 'InternalError', 'RequestLimitExceeded'. Ignored for kind 'reset'. */
  code?: string;
  message?: string;
  /** HTTP status; default 500 for InternalError/Unavailable, 503 for RequestLimitExceeded, else 400. */
  status?: number;
  kind?: 'error' | 'reset';
  when?: 'before' | 'after';
  /** Fire this many times, then retire; default unlimited. */
  count?: number;
  /** Chance per matching call, 0..1; default 1. */
  probability?: number;
}

const faultRuleSchema = z.strictObject({
  action: z.string().min(1),
  code: z.string().min(1).optional(),
  message: z.string().optional(),
  status: z.number().int().min(400).max(599).optional(),
  kind: z.enum(['error', 'reset']).optional(),
  when: z.enum(['before', 'after']).optional(),
  count: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
});

/** Validates a fault rule from outside (admin API). */
export function parseFaultRule(input: unknown): FaultRule {
  const res = faultRuleSchema.safeParse(input);
  if (!res.success) throw new VpcnetError('CONFIG_INVALID', 'invalid fault rule', { details: { issues: res.error.issues } });
  return res.data;
}

export interface ActiveFault extends FaultRule {
  id: number;
  fired: number;
}

export interface FaultHit {
  kind: 'error' | 'reset';
  code: string;
  message: string;
  status: number;
}

function defaultStatus(code: string): number {
  if (code === 'RequestLimitExceeded' || code === 'Unavailable' || code === 'ServiceUnavailable') return 503;
  if (code === 'InternalError' || code === 'InternalFailure') return 500;
  return 400;
}

export class Faults {
  private rules: ActiveFault[] = [];
  private latency = new Map<string, number>();
  private nextId = 1;
  private readonly random: () => number;

  constructor(random: () => number) {
    this.random = random;
  }

  add(rule: FaultRule): number {
    const id = this.nextId++;
    this.rules.push({ ...rule, id, fired: 0 });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
    this.latency.clear();
  }

  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Adds latency (emulated ms) to an action, or to every action with '*'. */
  setLatency(action: string, ms: number): void {
    if (ms > 0) this.latency.set(action, ms);
    else this.latency.delete(action);
  }

  latencyFor(action: string): number {
    return this.latency.get(action) ?? this.latency.get('*') ?? 0;
  }

  /** The fault to apply to this call at this point, if any; counts it as fired. */
  take(action: string, when: 'before' | 'after'): FaultHit | undefined {
    for (const rule of this.rules) {
      if (rule.action !== '*' && rule.action !== action) continue;
      if ((rule.when ?? 'before') !== when) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.fired++;
      if (rule.count !== undefined && rule.fired >= rule.count) this.remove(rule.id);
      const code = rule.code ?? 'InternalError';
      return {
        kind: rule.kind ?? 'error',
        code,
        message: rule.message ?? `Injected fault (${code}).`,
        status: rule.status ?? defaultStatus(code),
      };
    }
    return undefined;
  }
}
