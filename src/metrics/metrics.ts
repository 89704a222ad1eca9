// Metrics behind an interface: no globals, a fake for tests, prom-client in the agent.

export type Labels = Record<string, string | number>;

export interface Metrics {
  inc(name: MetricName, labels?: Labels, value?: number): void;
  set(name: MetricName, value: number, labels?: Labels): void;
  observe(name: MetricName, seconds: number, labels?: Labels): void;
}

/** Every metric the project exports; operations.md lists them from here. */
export const METRICS = {
  vpcnet_pool_addresses: { kind: 'gauge', help: 'Pool addresses by state (assigned, available, cooldown, total)' },
  vpcnet_pool_blocks: { kind: 'gauge', help: 'Address blocks held, by kind (ip, prefix, range)' },
  vpcnet_pool_nics: { kind: 'gauge', help: 'NICs attached to the node that the pool uses' },
  vpcnet_allocations_total: { kind: 'counter', help: 'Pod address allocations by result' },
  vpcnet_releases_total: { kind: 'counter', help: 'Pod address releases by result' },
  vpcnet_cloud_calls_total: { kind: 'counter', help: 'Cloud API calls by action and outcome' },
  vpcnet_cloud_throttles_total: { kind: 'counter', help: 'Throttled cloud API responses by action' },
  vpcnet_cloud_call_seconds: { kind: 'histogram', help: 'Cloud API call latency by action' },
  vpcnet_cni_request_seconds: { kind: 'histogram', help: 'CNI request latency by command and result' },
  vpcnet_reconcile_total: { kind: 'counter', help: 'Reconcile runs and repairs by outcome' },
  vpcnet_pool_condition: { kind: 'gauge', help: 'Pool conditions currently raised (1 = raised), by condition' },
  vpcnet_startup_failures_total: { kind: 'counter', help: 'Failed start-up steps (retried, never fatal) by step and error code' },
  vpcnet_startup_blocked: { kind: 'gauge', help: 'The start-up is waiting to retry this step after this error (1), or not (0): the agent does not serve yet' },
  vpcnet_subnet_free_prefixes: { kind: 'gauge', help: 'Free aligned /28s per subnet, as of the last read of its NICs (taken when single addresses are placed) plus our own changes since' },
  vpcnet_datapath_pending_deletions: { kind: 'gauge', help: 'Host veths of torn-down pods the kernel is still deleting (DEL answered once the pod was detached)' },
} as const;

export type MetricName = keyof typeof METRICS;

export interface Sample {
  name: MetricName;
  labels: Labels;
  value: number;
}

/** In-memory metrics for tests: values keyed by name and sorted labels. */
export class MemoryMetrics implements Metrics {
  private readonly values = new Map<string, Sample>();
  private readonly observations = new Map<string, number[]>();

  inc(name: MetricName, labels: Labels = {}, value = 1): void {
    const key = keyOf(name, labels);
    const prev = this.values.get(key)?.value ?? 0;
    this.values.set(key, { name, labels, value: prev + value });
  }

  set(name: MetricName, value: number, labels: Labels = {}): void {
    this.values.set(keyOf(name, labels), { name, labels, value });
  }

  observe(name: MetricName, seconds: number, labels: Labels = {}): void {
    const key = keyOf(name, labels);
    const list = this.observations.get(key) ?? [];
    list.push(seconds);
    this.observations.set(key, list);
  }

  get(name: MetricName, labels: Labels = {}): number {
    return this.values.get(keyOf(name, labels))?.value ?? 0;
  }

  /** Sum over all label sets whose labels include `match`. */
  sum(name: MetricName, match: Labels = {}): number {
    let total = 0;
    for (const s of this.values.values()) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }

  observed(name: MetricName, labels: Labels = {}): number[] {
    return this.observations.get(keyOf(name, labels)) ?? [];
  }
}

export const noopMetrics: Metrics = { inc() {}, set() {}, observe() {} };

function keyOf(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return `${name}{${parts.join(',')}}`;
}
