// Builds the Azure provider against a fresh in-process Azure emulator: the real
// @azure/arm-network, @azure/arm-compute and @azure/identity speak ARM over TLS (the emulator's
// own CA passed as tlsOptions.ca); IMDS is served per VM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { AzureProvider, type AzureProviderOptions } from '../../providers/azure/client/azure-provider.ts';
import { AzureEmulator, type AzureEmulatorOptions } from '../../providers/azure/emulator/index.ts';
import type { ContractSetup } from '../../providers/contract/provider-contract.ts';
import { systemClock } from '../../src/util/clock.ts';

export const WORKLOAD_CLIENT_ID = '00000000-0000-4000-8000-00000000c11e';

export interface AzureEmulatorEnv extends ContractSetup {
  emu: AzureEmulator;
  provider: AzureProvider;
  vmName: string;
  imds: string;
  credential: TokenCredential;
}

export interface AzureEnvOptions {
  /** 'vm' (standalone, managed identity) or 'vmss' (scale-set instance, workload identity). */
  node?: 'vm' | 'vmss';
  size?: string;
  nics?: number;
  subnetPrefix?: string;
  /** NIC limit when `size` is outside the table. */
  maxNics?: number;
  emulator?: AzureEmulatorOptions;
  provider?: Partial<AzureProviderOptions>;
}

/** The token the kubelet would project for the service account (content is opaque to us). */
function tokenFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc11-wi-'));
  const path = join(dir, 'token');
  writeFileSync(path, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06dnBjbmV0In0.');
  return path;
}

export async function startAzureEmulatorEnv(opts: AzureEnvOptions = {}): Promise<AzureEmulatorEnv> {
  const emu = new AzureEmulator({ operationMs: 20, throttling: { enabled: false }, ...opts.emulator });
  const node = opts.node ?? 'vm';
  const res = emu.applyScenario({
    resourceGroup: 'rg-contract',
    location: 'westeurope',
    vnets: [{ name: 'vnet', addressPrefixes: ['10.10.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: opts.subnetPrefix ?? '10.10.0.0/22' }] }],
    vms: [
      node === 'vm'
        ? { name: 'node-a', size: opts.size ?? 'Standard_D8s_v5', subnet: 'vnet/nodes', nics: opts.nics ?? 2, ...(opts.maxNics ? { maxNics: opts.maxNics } : {}) }
        : { name: 'node-a', scaleSet: 'pool1', instanceId: '3', size: opts.size ?? 'Standard_D4s_v5', subnet: 'vnet/nodes', nics: opts.nics ?? 1 },
      { name: 'other', size: 'Standard_D4s_v5', subnet: 'vnet/nodes' },
    ],
  });
  const vmName = res.vms[0]?.name ?? '';
  const endpoint = await emu.start();
  const imds = await emu.startImdsListener(vmName);
  let credential: TokenCredential;
  if (node === 'vm') {
    // The library reads this variable itself (no option for it): the emulated IMDS.
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds;
    credential = new ManagedIdentityCredential();
  } else {
    credential = new WorkloadIdentityCredential({
      tenantId: emu.state.tenantId,
      clientId: WORKLOAD_CLIENT_ID,
      tokenFilePath: tokenFile(),
      authorityHost: endpoint,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emu.tls.ca },
    } as ConstructorParameters<typeof WorkloadIdentityCredential>[0]);
  }
  const provider = new AzureProvider({
    credential,
    endpoint,
    ca: emu.tls.ca,
    metadataEndpoint: imds,
    lroPollMs: 10,
    requestTimeoutMs: 5000,
    clock: systemClock,
    prefixBlocks: true,
    backoff: { baseMs: 5, capMs: 50, deadlineMs: 2000 },
    rates: { reads: { perSecond: 10_000, burst: 10_000, concurrency: 64 }, writes: { perSecond: 10_000, burst: 10_000, concurrency: 64 } },
    ...opts.provider,
  });
  return {
    emu,
    provider,
    vmName,
    imds,
    credential,
    backdoor: {
      async exhaustSubnet(subnetId) {
        const key = emu.state.subnetKeyOfId(subnetId);
        if (key) emu.state.exhaustSubnet(key);
      },
      async nicExists(nicId) {
        return emu.state.nics.has(nicId.toLowerCase());
      },
    },
    async cleanup() {
      await emu.stop();
    },
  };
}
