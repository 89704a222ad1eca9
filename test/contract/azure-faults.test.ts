// Bad input and hostile conditions against the Azure provider and emulator, through the real
// SDKs over TLS: each is a clear error or condition, nothing lost, nothing half-applied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { VpcnetError } from '../../src/errors.ts';
import type { CloudBlock, CloudNic } from '../../providers/provider.ts';
import { startAzureEmulatorEnv, WORKLOAD_CLIENT_ID, type AzureEmulatorEnv, type AzureEnvOptions } from './azure-emulator-setup.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let env: AzureEmulatorEnv | undefined;

async function start(opts: AzureEnvOptions = {}): Promise<AzureEmulatorEnv> {
  env = await startAzureEmulatorEnv(opts);
  return env;
}

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

async function primary(e: AzureEmulatorEnv): Promise<CloudNic> {
  const { node } = await e.provider.discover();
  const nic = (await e.provider.listNics()).find((n) => n.id === node.primaryNicId);
  if (!nic) throw new Error('no primary NIC');
  return nic;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VpcnetError);
  return (err as VpcnetError).code;
}

const cidrs = (b: CloudBlock[]): string[] => b.map((x) => x.cidr).sort();
const vmPrincipal = (e: AzureEmulatorEnv): string => [...e.emu.state.vms.values()].find((v) => v.name === e.vmName)?.principalId ?? '';
const roleActions = (file: string): string[] => (JSON.parse(readFileSync(join(ROOT, 'deploy/iam', file), 'utf8')) as { Actions: string[] }).Actions;

describe('Azure IMDS', () => {
  it('refuses a request without Metadata: true or without an api-version, as Azure does', async () => {
    const e = await start();
    const noHeader = await fetch(`${e.imds}/metadata/instance?api-version=2021-02-01`);
    expect(noHeader.status).toBe(400);
    expect(((await noHeader.json()) as { error: string }).error).toMatch(/Required metadata header not specified/);
    const noVersion = await fetch(`${e.imds}/metadata/instance`, { headers: { Metadata: 'true' } });
    expect(noVersion.status).toBe(400);
    const body = (await noVersion.json()) as { error: string; 'newest-versions': string[] };
    expect(body.error).toMatch(/api-version is invalid or was not specified/);
    expect(body['newest-versions']).toContain('2025-04-07');
    const forwarded = await fetch(`${e.imds}/metadata/instance?api-version=2021-02-01`, { headers: { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' } });
    expect(forwarded.status).toBe(400);
  });

  it('every value is a string and a leaf needs format=text', async () => {
    const e = await start({ nics: 2 });
    const net = (await (await fetch(`${e.imds}/metadata/instance/network?api-version=2021-02-01`, { headers: { Metadata: 'true' } })).json()) as {
      interface: Array<{ macAddress: string; ipv4: { subnet: Array<{ prefix: unknown }> } }>;
    };
    expect(net.interface).toHaveLength(2);
    for (const i of net.interface) {
      expect(i.macAddress).toMatch(/^000D3A[0-9A-F]{6}$/);
      expect(typeof i.ipv4.subnet[0]?.prefix).toBe('string');
    }
    const leaf = await fetch(`${e.imds}/metadata/instance/compute/vmSize?api-version=2021-02-01`, { headers: { Metadata: 'true' } });
    expect(leaf.status).toBe(400);
    const text = await fetch(`${e.imds}/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text`, { headers: { Metadata: 'true' } });
    expect(await text.text()).toBe('Standard_D8s_v5');
  });

  it('an IMDS that fails makes discover fail with METADATA_UNREACHABLE', async () => {
    const e = await start();
    e.emu.imds.failing.set(e.vmName, 500);
    expect(await codeOf(e.provider.discover())).toBe('METADATA_UNREACHABLE');
  });
});

describe('Azure provider under conflicts, throttling and faults', () => {
  it('a NIC changed behind our back (412) is read again and written once more; nothing lost', async () => {
    const e = await start();
    const before = await primary(e);
    e.emu.faults.add({ action: 'Microsoft.Network/networkInterfaces/write', code: 'PreconditionFailed', status: 412, count: 1 });
    const got = await e.provider.assign({ nicId: before.id, kind: 'ip', count: 3 });
    expect(got).toHaveLength(3);
    expect(e.emu.calls['Microsoft.Network/networkInterfaces/write']).toBe(2);
    expect(cidrs((await primary(e)).blocks)).toEqual(cidrs([...before.blocks, ...got]));
  });

  it('a real concurrent writer: two assigns at once both land (409 AnotherOperationInProgress waited out, 412 re-read)', async () => {
    const e = await start({ emulator: { operationMs: 150 } });
    const nic = await primary(e);
    const [a, b] = await Promise.all([e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 }), e.provider.assign({ nicId: nic.id, kind: 'ip', count: 3 })]);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(3);
    const all = [...a, ...b].map((x) => x.cidr);
    expect(new Set(all).size).toBe(5);
    expect(cidrs((await primary(e)).blocks)).toEqual([...all].sort());
  });

  it('a NIC busy (409) and ARM throttling (429 with Retry-After) are retried until the write lands', async () => {
    const e = await start();
    const nic = await primary(e);
    e.emu.faults.add({ action: 'Microsoft.Network/networkInterfaces/write', code: 'AnotherOperationInProgress', status: 409, count: 2 });
    e.emu.faults.add({ action: 'Microsoft.Network/networkInterfaces/read', code: 'RetryableError', status: 429, count: 1 });
    const got = await e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 });
    expect(got).toHaveLength(2);
    expect((await primary(e)).blocks).toHaveLength(2);
  });

  it("ARM's own buckets: a client over the write budget gets 429 + Retry-After and remaining-writes headers, and still lands every write", async () => {
    const e = await start({ emulator: { throttling: { buckets: { writes: { capacity: 2, refillPerSecond: 2 } } } } });
    const nic = await primary(e);
    for (let i = 0; i < 4; i++) expect(await e.provider.assign({ nicId: nic.id, kind: 'ip', count: 1 })).toHaveLength(1);
    expect(e.emu.stats().throttled['Microsoft.Network/networkInterfaces/write'] ?? 0).toBeGreaterThan(0);
    expect((await primary(e)).blocks).toHaveLength(4);
  });

  it('throttling that never ends surfaces as CLOUD_THROTTLED after the deadline and changes nothing', async () => {
    const e = await start();
    const nic = await primary(e);
    e.emu.faults.add({ action: 'Microsoft.Network/networkInterfaces/write', code: 'RetryableError', status: 429 });
    expect(await codeOf(e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 }))).toBe('CLOUD_THROTTLED');
    e.emu.faults.clear();
    expect((await primary(e)).blocks).toEqual([]);
  });

  it('configurations whose provisioning failed are removed again and never handed out', async () => {
    const e = await start();
    const nic = await primary(e);
    e.emu.state.failNextProvisioning.set(nic.id.toLowerCase(), 1);
    expect(await codeOf(e.provider.assign({ nicId: nic.id, kind: 'ip', count: 3 }))).toBe('CLOUD_UNAVAILABLE');
    expect((await primary(e)).blocks).toEqual([]);
    const free = e.emu.state.subnets.values().next().value?.space.freeCount;
    const ok = await e.provider.assign({ nicId: nic.id, kind: 'ip', count: 3 });
    expect(ok.every((b) => b.state === 'ready')).toBe(true);
    expect(e.emu.state.subnets.values().next().value?.space.freeCount).toBe((free ?? 0) - 3);
  });

  it('while a write is still provisioning, its configurations are listed as pending (not usable)', async () => {
    const e = await start({ emulator: { operationMs: 10_000 }, provider: { settleMs: 100 } });
    const nic = await primary(e);
    // Accept the write, then fail the operation poll so the provider stops waiting.
    e.emu.faults.add({ action: 'Microsoft.Network/locations/operations/read', code: 'InternalServerError', status: 500 });
    await e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 }).catch(() => undefined);
    const listed = (await primary(e)).blocks;
    expect(listed).toHaveLength(2);
    expect(listed.every((b) => b.state === 'pending')).toBe(true);
  });

  it('a full subnet fails the whole batch with SUBNET_FULL; no address taken, NIC unchanged', async () => {
    // a /28: 16 - 5 reserved - 3 primaries = 8 free
    const e = await start({ subnetPrefix: '10.10.0.0/28' });
    const nic = await primary(e);
    const subnet = [...e.emu.state.subnets.values()][0];
    const free = subnet?.space.freeCount ?? 0;
    expect(free).toBeGreaterThan(0);
    expect(await codeOf(e.provider.assign({ nicId: nic.id, kind: 'ip', count: free + 1 }))).toBe('SUBNET_FULL');
    expect(subnet?.space.freeCount).toBe(free);
    expect((await primary(e)).blocks).toEqual([]);
    expect(await codeOf(e.provider.assign({ nicId: nic.id, kind: 'prefix', count: 1 }))).toBe('SUBNET_FULL');
    expect(await e.provider.assign({ nicId: nic.id, kind: 'ip', count: free })).toHaveLength(free);
  });

  it('an unknown VM size is UNKNOWN_INSTANCE_TYPE at discover, before any write', async () => {
    const e = await start({ size: 'Standard_Q99zz_v9', maxNics: 2, nics: 1 });
    expect(await codeOf(e.provider.discover())).toBe('UNKNOWN_INSTANCE_TYPE');
    expect(e.emu.calls['Microsoft.Network/networkInterfaces/write']).toBeUndefined();
  });
});

describe('Azure permissions (custom roles in deploy/iam)', () => {
  it('the VM role allows every call of discover, listNics, assign and release', async () => {
    const e = await start();
    e.emu.setPermissions(vmPrincipal(e), roleActions('azure-role.json'));
    const nic = await primary(e);
    const got = await e.provider.assign({ nicId: nic.id, kind: 'prefix', count: 1 });
    await e.provider.release({ nicId: nic.id, blocks: got });
    expect((await primary(e)).blocks).toEqual([]);
  });

  it('the scale-set role allows every call on a scale-set instance (workload identity)', async () => {
    const e = await start({ node: 'vmss' });
    e.emu.setPermissions(WORKLOAD_CLIENT_ID, roleActions('azure-role-vmss.json'));
    const nic = await primary(e);
    const got = await e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 });
    expect(got).toHaveLength(2);
    await e.provider.release({ nicId: nic.id, blocks: got });
    expect((await primary(e)).blocks).toEqual([]);
  });

  it('no permission to write is CLOUD_PERMISSION_DENIED and changes nothing; no permission at all fails discover', async () => {
    const e = await start();
    const nic = await primary(e);
    e.emu.setPermissions(vmPrincipal(e), roleActions('azure-role.json').filter((a) => a !== 'Microsoft.Network/virtualNetworks/subnets/join/action'));
    expect(await codeOf(e.provider.assign({ nicId: nic.id, kind: 'ip', count: 2 }))).toBe('CLOUD_PERMISSION_DENIED');
    expect((await primary(e)).blocks).toEqual([]);

    const e2 = await startAzureEmulatorEnv();
    try {
      e2.emu.setPermissions(vmPrincipal(e2), []);
      expect(await codeOf(e2.provider.discover())).toBe('CLOUD_PERMISSION_DENIED');
    } finally {
      await e2.cleanup();
    }
  });
});
