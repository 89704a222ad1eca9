import { describe, expect, it } from '@jest/globals';
import { PrometheusMetrics } from '../../../src/metrics/prometheus.ts';
import { METRICS } from '../../../src/metrics/metrics.ts';

describe('PrometheusMetrics', () => {
  it('exports every metric with its type and help, and renders values', async () => {
    const m = new PrometheusMetrics();
    m.inc('vpcnet_allocations_total', { result: 'ok' });
    m.inc('vpcnet_allocations_total', { result: 'ok' }, 2);
    m.set('vpcnet_pool_addresses', 12, { state: 'available' });
    m.observe('vpcnet_cni_request_seconds', 0.004, { command: 'ADD', result: 'ok' });
    const text = await m.render();
    for (const [name, def] of Object.entries(METRICS)) {
      expect(text).toContain(`# HELP ${name} ${def.help}`);
      expect(text).toContain(`# TYPE ${name} ${def.kind}`);
    }
    expect(text).toContain('vpcnet_allocations_total{result="ok"} 3');
    expect(text).toContain('vpcnet_pool_addresses{state="available"} 12');
    expect(text).toContain('vpcnet_cni_request_seconds_bucket{le="0.005",command="ADD",result="ok"} 1');
    expect(text).toContain('vpcnet_cni_request_seconds_count{command="ADD",result="ok"} 1');
  });

  it('keeps instances apart and drops undeclared labels instead of throwing', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics();
    a.inc('vpcnet_releases_total', { result: 'ok', bogus: 'x' });
    expect(await a.render()).toContain('vpcnet_releases_total{result="ok"} 1');
    expect(await b.render()).not.toContain('vpcnet_releases_total{result="ok"}');
  });
});
