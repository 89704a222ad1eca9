// prom-client implementation of Metrics. Each instance owns its registry (no global default
// registry), so tests and several agents in one process never share series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, type Labels, type MetricName, type Metrics } from './metrics.ts';
import type { Logger } from '../util/logger.ts';

/** Label names per metric: Prometheus needs them up front. Unknown labels are dropped. */
export const METRIC_LABELS: Record<MetricName, readonly string[]> = {
  vpcnet_pool_addresses: ['state'],
  vpcnet_pool_blocks: ['kind'],
  vpcnet_pool_nics: [],
  vpcnet_allocations_total: ['result'],
  vpcnet_releases_total: ['result'],
  vpcnet_cloud_calls_total: ['provider', 'action', 'outcome'],
  vpcnet_cloud_throttles_total: ['provider', 'action'],
  vpcnet_cloud_call_seconds: ['provider', 'action'],
  vpcnet_cni_request_seconds: ['command', 'result'],
  vpcnet_reconcile_total: ['kind', 'outcome'],
  vpcnet_pool_condition: ['condition'],
  vpcnet_startup_failures_total: ['step', 'code'],
  vpcnet_startup_blocked: ['step', 'code'],
  vpcnet_datapath_pending_deletions: [],
  vpcnet_subnet_free_prefixes: ['subnet'],
};

const BUCKETS: Partial<Record<MetricName, number[]>> = {
  vpcnet_cni_request_seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  vpcnet_cloud_call_seconds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
};

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export interface PrometheusMetricsOptions {
  /** Also export Node.js process metrics (RSS, CPU, event loop). */
  processMetrics?: boolean;
  logger?: Logger;
}

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<MetricName, AnyMetric>();
  private readonly warned = new Set<string>();
  private readonly log: Logger | undefined;

  constructor(opts: PrometheusMetricsOptions = {}) {
    this.log = opts.logger;
    for (const [name, def] of Object.entries(METRICS) as Array<[MetricName, (typeof METRICS)[MetricName]]>) {
      const base = { name, help: def.help, labelNames: [...METRIC_LABELS[name]], registers: [this.registry] };
      const metric =
        def.kind === 'counter'
          ? new Counter(base)
          : def.kind === 'gauge'
            ? new Gauge(base)
            : new Histogram({ ...base, ...(BUCKETS[name] ? { buckets: BUCKETS[name] } : {}) });
      this.metrics.set(name, metric);
    }
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vpcnet_process_' });
  }

  inc(name: MetricName, labels: Labels = {}, value = 1): void {
    const m = this.metrics.get(name);
    if (m instanceof Counter || m instanceof Gauge) m.inc(this.labels(name, labels), value);
  }

  set(name: MetricName, value: number, labels: Labels = {}): void {
    const m = this.metrics.get(name);
    if (m instanceof Gauge) m.set(this.labels(name, labels), value);
  }

  observe(name: MetricName, seconds: number, labels: Labels = {}): void {
    const m = this.metrics.get(name);
    if (m instanceof Histogram) m.observe(this.labels(name, labels), seconds);
  }

  /** Text exposition format for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private labels(name: MetricName, labels: Labels): Record<string, string | number> {
    const allowed = METRIC_LABELS[name];
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (allowed.includes(k)) out[k] = v;
      else if (!this.warned.has(`${name}/${k}`)) {
        this.warned.add(`${name}/${k}`);
        this.log?.warn({ metric: name, label: k }, 'metric label not declared, dropped');
      }
    }
    return out;
  }
}
