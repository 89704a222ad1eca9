// DEL cleans up by container id and interface name: a malformed prevResult (a runtime replays
// its cached one on every DEL), or runtimeConfig/capabilities that are not objects, is logged
// and ignored, and the address is freed. ADD and CHECK still refuse the same configs (code 7).
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { createLogger } from '../../../src/util/logger.ts';
import { NIC, RecordingDatapath, SETTINGS } from './doubles.ts';
import { MALFORMED_HINTS } from './malformed-hints.ts';

const conf = (extra: Record<string, unknown> = {}): string => JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', ...extra });
const envOf = (command: string): Record<string, string> => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0' });
function setup(): { handler: CniHandler; ipam: MemoryIpam; datapath: RecordingDatapath; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const ipam = new MemoryIpam({ addresses: ['10.0.0.20', '10.0.0.21'] });
  const datapath = new RecordingDatapath();
  const logger = createLogger({ level: 'warn', destination: sink });
  const handler = new CniHandler({ ipam, datapath, resolveNic: () => NIC, settings: SETTINGS, netns: new MemoryNetnsInspector(), logger });
  return { handler, ipam, datapath, logs };
}

describe('DEL with malformed hints', () => {
  it.each(MALFORMED_HINTS)('%s: succeeds, tears down, frees the address and logs what it ignored', async (_name, key, value) => {
    const { handler, ipam, datapath, logs } = setup();
    expect((await handler.handle({ env: envOf('ADD'), stdin: conf() })).exitCode).toBe(0);
    expect(ipam.list()).toHaveLength(1);

    const del = await handler.handle({ env: envOf('DEL'), stdin: conf({ [key]: value }) });
    expect(del).toEqual({ exitCode: 0, stdout: '' });
    expect(ipam.list()).toEqual([]);
    expect(ipam.freeCount).toBe(2);
    expect(datapath.calls).toContain('teardown c1/eth0');
    const line = logs.find((l) => l.msg === 'cni request: malformed hints ignored');
    expect(line).toMatchObject({ command: 'DEL', containerId: 'c1', ifname: 'eth0' });
    expect(line?.ignored).toEqual([expect.stringMatching(new RegExp(`^${key}: `))]);
  });

  it.each(MALFORMED_HINTS)('%s: ADD is still refused with code 7 and changes nothing', async (_name, key, value) => {
    const { handler, ipam } = setup();
    const r = await handler.handle({ env: envOf('ADD'), stdin: conf({ [key]: value }) });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 7 });
    expect(ipam.list()).toEqual([]);
  });

  it('CHECK still refuses a malformed prevResult (7)', async () => {
    const { handler } = setup();
    await handler.handle({ env: envOf('ADD'), stdin: conf() });
    const r = await handler.handle({ env: envOf('CHECK'), stdin: conf({ prevResult: { cniVersion: '1.1.0', ips: [{ address: 'notanip' }] } }) });
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 7 });
  });

  it('a DEL with a well-formed prevResult logs nothing ignored', async () => {
    const { handler, ipam, logs } = setup();
    const added = await handler.handle({ env: envOf('ADD'), stdin: conf() });
    const del = await handler.handle({ env: envOf('DEL'), stdin: conf({ prevResult: JSON.parse(added.stdout) as unknown, runtimeConfig: {}, capabilities: {} }) });
    expect(del.exitCode).toBe(0);
    expect(ipam.list()).toEqual([]);
    expect(logs.filter((l) => l.msg === 'cni request: malformed hints ignored')).toEqual([]);
  });

  it('DEL still refuses what is not a hint: a config that is not JSON (6) or has no name (7)', async () => {
    const { handler, ipam } = setup();
    await handler.handle({ env: envOf('ADD'), stdin: conf() });
    expect(JSON.parse((await handler.handle({ env: envOf('DEL'), stdin: '{"cniVersion":' })).stdout)).toMatchObject({ code: 6 });
    expect(JSON.parse((await handler.handle({ env: envOf('DEL'), stdin: JSON.stringify({ cniVersion: '1.1.0', type: 'vpcnet' }) })).stdout)).toMatchObject({ code: 7 });
    expect(ipam.list()).toHaveLength(1);
  });
});
