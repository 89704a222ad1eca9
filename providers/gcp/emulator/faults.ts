// Injected faults and latency per Compute method ("instances.updateNetworkInterface",
// "routes.insert", "*"). A fault answers with an HTTP error envelope, resets the connection,
// or (kind 'operation') lets the call return its operation and ends that operation DONE with
// the error inside, the way GCE reports most failures of a mutation.
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';

const ruleSchema = z.strictObject({
  method: z.string().min(1),
  kind: z.enum(['error', 'reset', 'operation']).optional(),
  status: z.number().int().min(400).max(599).optional(),
  /** HTTP errors: the reason (rateLimitExceeded, backendError...); operation errors: the code (RESOURCE_NOT_READY...). */
  reason: z.string().min(1).optional(),
  message: z.string().optional(),
  count: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
});

export type FaultRule = z.output<typeof ruleSchema>;

export function parseFaultRule(input: unknown): FaultRule {
  const res = ruleSchema.safeParse(input);
  if (!res.success) throw new VpcnetError('CONFIG_INVALID', 'invalid fault rule', { details: { issues: res.error.issues } });
  return res.data;
}

export interface FaultHit {
  kind: 'error' | 'reset' | 'operation';
  status: number;
  reason: string;
  message: string;
}

export class Faults {
  private rules: (FaultRule & { id: number; fired: number })[] = [];
  private readonly latency = new Map<string, number>();
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

  clear(): void {
    this.rules = [];
    this.latency.clear();
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  setLatency(method: string, ms: number): void {
    if (ms > 0) this.latency.set(method, ms);
    else this.latency.delete(method);
  }

  latencyFor(method: string): number {
    return this.latency.get(method) ?? this.latency.get('*') ?? 0;
  }

  take(method: string): FaultHit | undefined {
    for (const rule of this.rules) {
      if (rule.method !== '*' && rule.method !== method) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.fired++;
      if (rule.count !== undefined && rule.fired >= rule.count) this.rules = this.rules.filter((r) => r.id !== rule.id);
      const kind = rule.kind ?? 'error';
      const status = rule.status ?? (kind === 'operation' ? 400 : 503);
      const reason = rule.reason ?? (kind === 'operation' ? 'RESOURCE_NOT_READY' : 'backendError');
      return { kind, status, reason, message: rule.message ?? `Injected fault (${reason}).` };
    }
    return undefined;
  }
}
