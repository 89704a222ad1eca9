// The pool on the Azure provider and emulator (real SDKs, TLS): addresses whose ipConfiguration
// has not succeeded are never handed to a pod, those that failed are given back to Azure, and
// once a configuration provisions its address becomes usable.
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryCheckpointStore } from '../../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../../src/ipam/pool-manager.ts';
import { startAzureEmulatorEnv, type AzureEmulatorEnv } from '../../contract/azure-emulator-setup.ts';

let env: AzureEmulatorEnv | undefined;
let pm: PoolManager | undefined;

afterEach(async () => {
  await pm?.stop();
  await env?.cleanup();
  pm = undefined;
  env = undefined;
});

async function emulator(opts?: Parameters<typeof startAzureEmulatorEnv>[0]): Promise<AzureEmulatorEnv> {
  env = await startAzureEmulatorEnv(opts);
  return env;
}

async function pool(e: AzureEmulatorEnv): Promise<PoolManager> {
  const { limits } = await e.provider.discover();
  pm = new PoolManager({ provider: e.provider, store: new MemoryCheckpointStore(), limits, targets: { warmIps: 4, maxAboveTarget: 2 }, intervalMs: 50, reconcileIntervalMs: 100 });
  await pm.start();
  return pm;
}

const pod = (n: number): { containerId: string; ifname: string } => ({ containerId: `c${n}`, ifname: 'eth0' });

describe('Azure pool: only provisioned configurations are handed out', () => {
  it('configurations still provisioning are held but not handed out; once Succeeded they are', async () => {
    const e = await emulator({ emulator: { operationMs: 1500 }, provider: { settleMs: 100 } });
    // The provider stops waiting on the operation (poll fails), so it reports pending blocks.
    const fault = e.emu.faults.add({ action: 'Microsoft.Network/locations/operations/read', code: 'InternalServerError', status: 500 });
    const m = await pool(e);
    await expect(m.allocate(pod(1), { deadlineMs: 400 })).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
    const nic = e.emu.state.getNic((await e.provider.discover()).node.primaryNicId);
    const updating = nic.ipConfigs.filter((c) => !c.primary && c.state === 'Updating').length;
    expect(updating).toBeGreaterThan(0);
    e.emu.faults.remove(fault);
    const a = await m.allocate(pod(1), { deadlineMs: 5000 });
    const cfg = nic.ipConfigs.find((c) => `${c.address >>> 24}.${(c.address >>> 16) & 255}.${(c.address >>> 8) & 255}.${c.address & 255}` === a.ip);
    expect(cfg?.state).toBe('Succeeded');
  });

  it('configurations that failed are never handed out and are given back to the subnet', async () => {
    const e = await emulator();
    const { node } = await e.provider.discover();
    e.emu.state.failNextProvisioning.set(node.primaryNicId.toLowerCase(), 1);
    const m = await pool(e);
    // The pool backs off after the failed assign, then refills.
    const a = await m.allocate(pod(1), { deadlineMs: 25_000 });
    const nic = e.emu.state.getNic(node.primaryNicId);
    expect(nic.ipConfigs.some((c) => c.state === 'Failed')).toBe(false);
    const byIp = new Map(nic.ipConfigs.map((c) => [`${c.address >>> 24}.${(c.address >>> 16) & 255}.${(c.address >>> 8) & 255}.${c.address & 255}`, c]));
    expect(byIp.get(a.ip)?.state).toBe('Succeeded');
  }, 40_000);
});
