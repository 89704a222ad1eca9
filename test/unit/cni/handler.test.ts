import { describe, expect, it } from '@jest/globals';
import { testAgent } from './doubles.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { NIC, RecordingDatapath, SETTINGS } from './doubles.ts';

const conf = (v = '1.1.0', extra: Record<string, unknown> = {}): string => JSON.stringify({ cniVersion: v, name: 'vpcnet', type: 'vpcnet', ...extra });
const add = (id: string): Record<string, string> => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0' });

describe('CniHandler', () => {
  it('runs concurrent ADDs of one attachment one at a time: one address, same result', async () => {
    const { handler, ipam } = testAgent();
    const [a, b] = await Promise.all([handler.handle({ env: add('c1'), stdin: conf() }), handler.handle({ env: add('c1'), stdin: conf() })]);
    expect(a?.exitCode).toBe(0);
    expect(b?.stdout).toBe(a?.stdout);
    expect(ipam.list()).toHaveLength(1);
    expect(ipam.allocateCalls).toBe(1);
  });

  it('records request latency by command and result', async () => {
    const metrics = new MemoryMetrics();
    const { handler } = testAgent({ metrics });
    await handler.handle({ env: add('c1'), stdin: conf() });
    await handler.handle({ env: { CNI_COMMAND: 'rm -rf' }, stdin: conf() });
    expect(metrics.observed('vpcnet_cni_request_seconds', { command: 'ADD', result: 'ok' })).toHaveLength(1);
    expect(metrics.observed('vpcnet_cni_request_seconds', { command: 'invalid', result: 'error' })).toHaveLength(1);
  });

  it('GC spares attachments younger than the grace period', async () => {
    const clock = new FakeClock(1_000_000);
    const ipam = new MemoryIpam({ addresses: ['10.0.0.20', '10.0.0.21'], clock });
    const handler = new CniHandler({ ipam, datapath: new RecordingDatapath(), resolveNic: () => NIC, settings: { ...SETTINGS, gcGraceMs: 60_000 }, netns: new MemoryNetnsInspector(), clock });
    await handler.handle({ env: add('old'), stdin: conf() });
    await clock.advance(120_000);
    await handler.handle({ env: add('young'), stdin: conf() });
    const gc = await handler.handle({ env: { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, stdin: conf('1.1.0', { 'cni.dev/valid-attachments': [] }) });
    expect(gc.exitCode).toBe(0);
    expect(ipam.list().map((a) => a.containerId)).toEqual(['young']);
  });
});
