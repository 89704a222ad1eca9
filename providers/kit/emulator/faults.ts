// Injected faults and latency per operation, for every emulator. A fault answers with the
// cloud's error (its code, HTTP status and message), or resets the connection; `when: 'after'`
// performs the operation first and then fails the answer, which is how a client learns to cope
// with "it succeeded but I never heard" (the ambiguous class of kit/classify.ts).
// Operations are the cloud's own names: EC2 actions, ARM operation ids, GCE method names.
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';

export interface FaultRule {
  /** Operation name, or '*' for every operation. */
  action: string;
  /** The cloud's error code, e.g. 'InternalError' (EC2), 'RetryableError' (ARM). Ignored for kind 'reset'. */
  code?: string;
  message?: string;
  /** HTTP status; default from the emulator's table for the code. */
  status?: number;
  kind?: 'error' | 'reset';
  when?: 'before' | 'after';
  /** Fire this many times, then retire; default unlimited. */
  count?: number;
  /** Chance per matching call, 0..1; default 1. */
  probability?: number;
  /** Seconds sent as Retry-After with the error (ARM and GCE clients read it). */
  retryAfterSeconds?: number;
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
  retryAfterSeconds: z.number().int().min(0).optional(),
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
  retryAfterSeconds?: number;
}

export interface FaultDefaults {
  /** The code of a rule that names none (EC2: InternalError). */
  code: string;
  /** HTTP status of a code when the rule gives none. */
  statusOf(code: string): number;
}

export class FaultTable {
  private rules: ActiveFault[] = [];
  private readonly latency = new Map<string, number>();
  private nextId = 1;
  private readonly random: () => number;
  private readonly defaults: FaultDefaults;

  constructor(random: () => number, defaults: FaultDefaults) {
    this.random = random;
    this.defaults = defaults;
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

  /** Adds latency (emulated ms) to an operation, or to every operation with '*'. */
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
      const code = rule.code ?? this.defaults.code;
      const hit: FaultHit = {
        kind: rule.kind ?? 'error',
        code,
        message: rule.message ?? `Injected fault (${code}).`,
        status: rule.status ?? this.defaults.statusOf(code),
      };
      if (rule.retryAfterSeconds !== undefined) hit.retryAfterSeconds = rule.retryAfterSeconds;
      return hit;
    }
    return undefined;
  }
}
