// DEL is never lost: with the agent down the BUILT forwarder records the DEL
// in the spool directory named by the netconf and answers success; the agent's DelSpool applies
// every record before it serves, and a record never undoes a newer ADD of the same attachment.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installBuiltForwarder, runForwarder } from './forwarder-harness.ts';
import { DelSpool } from '../../../src/cni/del-spool.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { MemoryMetrics } from '../../../src/metrics/metrics.ts';
import { NIC, RecordingDatapath, SETTINGS } from '../../unit/cni/doubles.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vc8c-spool-'));
  dirs.push(d);
  return d;
}

function setup(): { ipam: MemoryIpam; handler: CniHandler; datapath: RecordingDatapath } {
  const ipam = new MemoryIpam({ addresses: ['10.0.0.20', '10.0.0.21'] });
  const datapath = new RecordingDatapath();
  const handler = new CniHandler({ ipam, datapath, resolveNic: () => NIC, settings: SETTINGS, netns: new MemoryNetnsInspector() });
  return { ipam, handler, datapath };
}

const conf = (dir: string): string => JSON.stringify({ cniVersion: '1.0.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(dir, 'down.sock'), delSpoolDir: join(dir, 'spool') });

async function spoolDel(dir: string, bin: string, containerId: string): Promise<void> {
  const r = await runForwarder(bin, { CNI_COMMAND: 'DEL', CNI_CONTAINERID: containerId, CNI_IFNAME: 'eth0', CNI_NETNS: '/var/run/netns/x', CNI_PATH: dir }, conf(dir));
  expect(r).toMatchObject({ code: 0, stdout: '' });
}

describe('DEL spool', () => {
  it('a DEL spooled while the agent was down is applied at start: address released, host side torn down, record removed', async () => {
    const dir = tmp();
    const bin = join(await installBuiltForwarder(dir), 'vpcnet');
    const { ipam, handler, datapath } = setup();
    await ipam.allocate({ containerId: 'gone', ifname: 'eth0' }, { deadlineMs: 0 });
    await new Promise((r) => setTimeout(r, 5));
    await spoolDel(dir, bin, 'gone');
    expect(readdirSync(join(dir, 'spool'))).toHaveLength(1);
    const metrics = new MemoryMetrics();
    const spool = new DelSpool({ dir: join(dir, 'spool'), apply: (k, at) => handler.applySpooledDel(k, at), intervalMs: 0, metrics });
    await spool.start();
    expect(ipam.list()).toEqual([]);
    expect(datapath.calls).toEqual(['teardown gone/eth0']);
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    await spool.stop();
  });

  it('a spooled DEL never undoes a newer ADD of the same attachment', async () => {
    const dir = tmp();
    const bin = join(await installBuiltForwarder(dir), 'vpcnet');
    await spoolDel(dir, bin, 'again');
    await new Promise((r) => setTimeout(r, 5));
    const { ipam, handler, datapath } = setup();
    // the runtime started the container again after the DEL (same id): a newer allocation
    await ipam.allocate({ containerId: 'again', ifname: 'eth0' }, { deadlineMs: 0 });
    const spool = new DelSpool({ dir: join(dir, 'spool'), apply: (k, at) => handler.applySpooledDel(k, at), intervalMs: 0 });
    const out = await spool.applyAll();
    expect(out).toEqual({ applied: 0, skipped: 1, failed: 0 });
    expect(ipam.list().map((a) => a.containerId)).toEqual(['again']);
    expect(datapath.calls).toEqual([]);
  });

  it('records that name no valid attachment are dropped; a failing DEL stays for the next pass', async () => {
    const dir = tmp();
    const spoolDir = join(dir, 'spool');
    const bin = join(await installBuiltForwarder(dir), 'vpcnet');
    await spoolDel(dir, bin, 'keep');
    writeFileSync(join(spoolDir, 'del-0-0-1.json'), '{"spooledAt":1,"v":2,"env":{"CNI_COMMAND":"DEL","CNI_CONTAINERID":"../x","CNI_IFNAME":"eth0"},"stdin":""}', { mode: 0o600 });
    writeFileSync(join(spoolDir, 'del-0-0-2.json'), 'not json', { mode: 0o600 });
    const { ipam, handler, datapath } = setup();
    await ipam.allocate({ containerId: 'keep', ifname: 'eth0' }, { deadlineMs: 0 });
    datapath.failTeardown = true;
    const spool = new DelSpool({ dir: spoolDir, apply: (k) => handler.applySpooledDel(k, Date.now()), intervalMs: 0 });
    expect(await spool.applyAll()).toEqual({ applied: 0, skipped: 0, failed: 1 });
    expect(readdirSync(spoolDir)).toHaveLength(1);
    datapath.failTeardown = false;
    expect(await spool.applyAll()).toEqual({ applied: 1, skipped: 0, failed: 0 });
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(ipam.list()).toEqual([]);
  });
});
