// What the Azure SDKs call by default, against the emulator through @azure/arm-network and
// @azure/arm-compute over TLS: the subscription-wide and resource-group lists, the scale-set NIC
// lists, nextLink paging that holds still under concurrent changes, subnet back references,
// ARM's errors for a missing resource group and for what is not modelled, and the option that
// accepts any well-formed bearer token.
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AzureEmulator, type AzureEmulatorOptions } from '../../../providers/azure/emulator/index.ts';

const RG = 'rg-lists';

interface Env {
  emu: AzureEmulator;
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

let env: Env | undefined;
afterEach(async () => {
  await env?.emu.stop();
  env = undefined;
});

/** A credential handing out a fixed token (what a client that logged in elsewhere sends). */
function fixedToken(token: () => string): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token: token(), expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

async function start(opts: AzureEmulatorOptions = {}, credential?: TokenCredential): Promise<Env> {
  const emu = new AzureEmulator({ operationMs: 0, throttling: { enabled: false }, ...opts });
  emu.applyScenario({
    resourceGroup: RG,
    location: 'westeurope',
    vnets: [
      { name: 'vnet-a', addressPrefixes: ['10.20.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: '10.20.0.0/22' }, { name: 'spare', addressPrefix: '10.20.8.0/24' }] },
      { name: 'vnet-b', addressPrefixes: ['10.30.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: '10.30.0.0/24' }] },
    ],
    vms: [
      { name: 'vm-1', size: 'Standard_D8s_v5', subnet: 'vnet-a/nodes', nics: 2 },
      { name: 'vm-2', size: 'Standard_D4s_v5', subnet: 'vnet-a/nodes' },
      { name: 'vm-3', size: 'Standard_D4s_v5', subnet: 'vnet-b/nodes' },
      { name: 'p0', scaleSet: 'pool', instanceId: '0', size: 'Standard_D4s_v5', subnet: 'vnet-a/nodes' },
      { name: 'p1', scaleSet: 'pool', instanceId: '1', size: 'Standard_D8s_v5', subnet: 'vnet-a/nodes', nics: 2 },
    ],
  });
  // A second resource group, for the subscription-wide lists.
  emu.state.addVnet('rg-other', 'vnet-o', 'westeurope', ['10.40.0.0/16']);
  emu.state.addSubnet('rg-other', 'vnet-o', 'nodes', '10.40.0.0/24');
  emu.state.createVm({ name: 'vm-o', rg: 'rg-other', size: 'Standard_D4s_v5', subnetKey: emu.state.subnetKey('rg-other', 'vnet-o', 'nodes') });
  const endpoint = await emu.start();
  const cred = credential ?? fixedToken(() => emu.issue({ id: 'tester', kind: 'managed' }, 'https://management.azure.com/').token);
  const common = { endpoint, tlsOptions: { ca: emu.tls.ca }, retryOptions: { maxRetries: 0 }, credentials: { scopes: ['https://management.azure.com/.default'] } };
  return {
    emu,
    network: new NetworkManagementClient(cred, emu.state.subscriptionId, common),
    compute: new ComputeManagementClient(cred, emu.state.subscriptionId, common),
  };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const names = (xs: Array<{ name?: string }>): string[] => xs.map((x) => x.name ?? '').sort();

/** The ARM error code and status a call failed with. */
async function armError(p: Promise<unknown>): Promise<{ status?: number; code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    // The SDK's paging error hides ARM's message in its own; the parsed body (details) has it.
    const e = err as { statusCode?: number; code?: string; message: string; details?: { error?: { message?: string }; message?: string } };
    const message = e.details?.error?.message ?? e.details?.message ?? e.message;
    return { status: e.statusCode, code: e.code, message };
  }
  throw new Error('expected the call to fail');
}

describe('Azure emulator: the lists the SDKs call', () => {
  it('networkInterfaces.listAll and list: standalone NICs of the subscription / of one group', async () => {
    env = await start();
    const everyNic = await all(env.network.networkInterfaces.listAll());
    expect(names(everyNic)).toEqual(['vm-1-nic0', 'vm-1-nic1', 'vm-2-nic0', 'vm-3-nic0', 'vm-o-nic0']);
    expect(names(await all(env.network.networkInterfaces.list(RG)))).toEqual(['vm-1-nic0', 'vm-1-nic1', 'vm-2-nic0', 'vm-3-nic0']);
  });

  it('virtualNetworks.list and listAll', async () => {
    env = await start();
    expect(names(await all(env.network.virtualNetworks.list(RG)))).toEqual(['vnet-a', 'vnet-b']);
    const every = await all(env.network.virtualNetworks.listAll());
    expect(names(every)).toEqual(['vnet-a', 'vnet-b', 'vnet-o']);
    expect(every.find((v) => v.name === 'vnet-a')?.subnets?.map((s) => s.name)).toEqual(['nodes', 'spare']);
  });

  it('virtualMachines.list and listAll (Microsoft.Compute)', async () => {
    env = await start();
    const inRg = await all(env.compute.virtualMachines.list(RG));
    expect(names(inRg)).toEqual(['vm-1', 'vm-2', 'vm-3']);
    expect(inRg.find((v) => v.name === 'vm-1')?.networkProfile?.networkInterfaces).toHaveLength(2);
    expect(names(await all(env.compute.virtualMachines.listAll()))).toEqual(['vm-1', 'vm-2', 'vm-3', 'vm-o']);
  });

  it('the scale-set-wide and per-instance NIC lists', async () => {
    env = await start();
    const ss = await all(env.network.networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces(RG, 'pool'));
    expect(ss.map((n) => n.id?.split('/virtualMachines/')[1]).sort()).toEqual(['0/networkInterfaces/pool-nic0', '1/networkInterfaces/pool-nic0', '1/networkInterfaces/pool-nic1']);
    const one = await all(env.network.networkInterfaces.listVirtualMachineScaleSetVMNetworkInterfaces(RG, 'pool', '1'));
    expect(names(one)).toEqual(['pool-nic0', 'pool-nic1']);
    const missing = await armError(all(env.network.networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces(RG, 'no-such-pool')));
    expect(missing).toMatchObject({ status: 404, code: 'ResourceNotFound' });
  });

  it('pages long lists with nextLink, and a page never shifts when NICs come and go meanwhile', async () => {
    env = await start({ listPageSize: 2 });
    const e = env;
    const pages: string[][] = [];
    let first = true;
    for await (const page of e.network.networkInterfaces.listAll().byPage()) {
      pages.push(page.map((n) => n.name ?? ''));
      if (first) {
        first = false;
        // Between pages: a NIC that sorts first goes away and a new VM's NIC sorts before the rest.
        e.emu.state.deleteVm(e.emu.state.vmByName('vm-1')?.id ?? '');
        e.emu.state.createVm({ name: 'vm-0', rg: RG, size: 'Standard_D4s_v5', subnetKey: e.emu.state.subnetKey(RG, 'vnet-a', 'nodes') });
      }
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    // Every NIC that existed throughout is listed exactly once; none repeats.
    const seen = pages.flat();
    expect(new Set(seen).size).toBe(seen.length);
    for (const n of ['vm-2-nic0', 'vm-3-nic0', 'vm-o-nic0']) expect(seen).toContain(n);
  });

  it('a changed $skipToken is refused with an ARM error, not served as a page', async () => {
    env = await start({ listPageSize: 2 });
    const token = (await fetchJson(env, `/subscriptions/${env.emu.state.subscriptionId}/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01`)).body as { nextLink: string };
    const next = new URL(token.nextLink);
    expect(next.origin).toBe(env.emu.endpoint);
    const skip = next.searchParams.get('$skipToken') ?? '';
    // Opaque: it is not an offset or an id a client could read or make.
    expect(skip).not.toMatch(/^\d+$/);
    expect(Buffer.from(skip, 'base64url').toString('latin1')).not.toMatch(/nic/i);
    next.searchParams.set('$skipToken', skip.slice(0, -2) + (skip.endsWith('A') ? 'B' : 'A') + skip.slice(-1));
    const bad = await fetchJson(env, next.pathname + next.search);
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('InvalidSkipToken');
  });

  it("a subnet lists the ipConfiguration ids of the NICs that use it, as ARM's back references", async () => {
    env = await start();
    const nodes = await env.network.subnets.get(RG, 'vnet-a', 'nodes');
    const ids = (nodes.ipConfigurations ?? []).map((c) => c.id ?? '');
    const expected = [...env.emu.state.nics.values()]
      .filter((n) => n.ipConfigs.some((c) => c.subnetKey === env?.emu.state.subnetKey(RG, 'vnet-a', 'nodes')))
      .map((n) => `${n.id}/ipConfigurations/ipconfig1`);
    expect(ids.sort()).toEqual(expected.sort());
    // Scale-set NICs are referenced under their VM instance.
    expect(ids.some((id) => /virtualMachineScaleSets\/pool\/virtualMachines\/1\/networkInterfaces\/pool-nic1\/ipConfigurations\/ipconfig1$/.test(id))).toBe(true);
    // A configuration added to a NIC appears; an unused subnet has none.
    const nic = await env.network.networkInterfaces.get(RG, 'vm-2-nic0');
    const subnet = nic.ipConfigurations?.[0]?.subnet;
    await env.network.networkInterfaces.createOrUpdate(RG, 'vm-2-nic0', { ...nic, ipConfigurations: [...(nic.ipConfigurations ?? []), { name: 'pod-1', subnet }] }, { updateIntervalInMs: 10 });
    const after = await env.network.subnets.get(RG, 'vnet-a', 'nodes');
    expect(after.ipConfigurations?.map((c) => c.id)).toContain(`${nic.id}/ipConfigurations/pod-1`);
    expect((await env.network.subnets.get(RG, 'vnet-a', 'spare')).ipConfigurations ?? []).toEqual([]);
    // Scale runs may leave the references out.
    env.emu.state.subnetBackReferences = false;
    expect((await env.network.subnets.get(RG, 'vnet-a', 'nodes')).ipConfigurations ?? []).toEqual([]);
  });
});

describe("Azure emulator: ARM's errors", () => {
  it('an unknown resource group is 404 ResourceGroupNotFound, for gets and lists alike', async () => {
    env = await start();
    const want = { status: 404, code: 'ResourceGroupNotFound', message: "Resource group 'no-such-rg' could not be found." };
    expect(await armError(env.network.networkInterfaces.get('no-such-rg', 'vm-1-nic0'))).toEqual(want);
    // The SDKs' pagers keep only the status and code of a failed page.
    expect(await armError(all(env.network.networkInterfaces.list('no-such-rg')))).toMatchObject({ status: 404, code: 'ResourceGroupNotFound' });
    expect(await armError(all(env.compute.virtualMachines.list('no-such-rg')))).toMatchObject({ status: 404, code: 'ResourceGroupNotFound' });
    // A resource that is missing in a group that exists stays ResourceNotFound.
    expect(await armError(env.network.networkInterfaces.get(RG, 'no-such-nic'))).toMatchObject({ status: 404, code: 'ResourceNotFound' });
  });

  it('calls the emulator does not model answer ARM errors, never an empty list', async () => {
    env = await start();
    expect(await armError(all(env.network.routeTables.list(RG)))).toMatchObject({ status: 404, code: 'InvalidResourceType' });
    const routes = await fetchJson(env, `/subscriptions/${env.emu.state.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Network/routeTables?api-version=2024-05-01`);
    expect(routes.body).toEqual({
      error: { code: 'InvalidResourceType', message: "The resource type 'routeTables' could not be found in the namespace 'Microsoft.Network' for api version '2024-05-01'." },
    });
    expect(await armError(all(env.network.networkSecurityGroups.listAll()))).toMatchObject({ status: 404, code: 'InvalidResourceType' });
    const storage = await fetchJson(env, `/subscriptions/${env.emu.state.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01`);
    expect(storage.status).toBe(409);
    expect((storage.body as { error: { code: string } }).error.code).toBe('MissingSubscriptionRegistration');
  });
});

describe('Azure emulator: acceptAnyToken', () => {
  // A token some other issuer signed (header.payload.signature), as az or a CI login hands out.
  const foreign = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"oid":"11111111-2222-4333-8444-555555555555"}').toString('base64url')}.c2ln`;

  it('is off by default: a token the emulator did not issue is 401', async () => {
    env = await start({}, fixedToken(() => foreign));
    expect(await armError(env.network.networkInterfaces.get(RG, 'vm-1-nic0'))).toMatchObject({ status: 401, code: 'InvalidAuthenticationToken' });
  });

  it('when on, any well-formed bearer token is accepted, its oid the principal', async () => {
    env = await start({ acceptAnyToken: true }, fixedToken(() => foreign));
    expect((await env.network.networkInterfaces.get(RG, 'vm-1-nic0')).name).toBe('vm-1-nic0');
    env.emu.setPermissions('11111111-2222-4333-8444-555555555555', ['Microsoft.Network/virtualNetworks/read']);
    expect(await armError(env.network.networkInterfaces.get(RG, 'vm-1-nic0'))).toMatchObject({ status: 403, code: 'AuthorizationFailed' });
    // Not a bearer token at all: still refused.
    const bad = await fetchJson(env, `/subscriptions/${env.emu.state.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01`, 'Bearer not a token');
    expect(bad.status).toBe(401);
  });
});

/** A raw HTTPS GET against the emulator, trusting its CA (for what the SDKs hide). */
async function fetchJson(e: Env, path: string, auth?: string): Promise<{ status: number; body: unknown }> {
  const { request } = await import('node:https');
  const url = new URL(path, e.emu.endpoint);
  const token = auth ?? `Bearer ${e.emu.issue({ id: 'tester', kind: 'managed' }, 'arm').token}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: e.emu.tls.ca, headers: { authorization: token } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}
