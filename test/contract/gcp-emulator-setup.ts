// One GCE emulator + the real provider (SDK + metadata server) per test, for the contract and
// the bad-input tests. The instance is node-a of a small scenario.
import { pino } from 'pino';
import type { ContractSetup } from '../../providers/contract/provider-contract.ts';
import { SdkComputeApi } from '../../providers/gcp/client/compute-api.ts';
import { GcpProvider, type GcpProviderOptions } from '../../providers/gcp/client/gcp-provider.ts';
import { MetadataClient } from '../../providers/gcp/client/metadata-client.ts';
import { GcpEmulator, type GcpEmulatorOptions } from '../../providers/gcp/emulator/index.ts';
import { systemClock, type Clock } from '../../src/util/clock.ts';

export const SCENARIO = {
  project: 'vc10-contract',
  subnets: [
    {
      name: 'nodes',
      region: 'europe-west1',
      network: 'vpc',
      ipCidrRange: '10.128.0.0/20',
      secondaryIpRanges: [
        { rangeName: 'pods', ipCidrRange: '10.4.0.0/20' },
        { rangeName: 'small', ipCidrRange: '10.9.0.0/24' },
      ],
    },
  ],
  instances: [
    { name: 'node-a', zone: 'europe-west1-b', machineType: 'e2-standard-4', subnet: 'nodes' },
    { name: 'node-b', zone: 'europe-west1-b', machineType: 'e2-standard-4', subnet: 'nodes' },
  ],
};

export interface GcpEnv extends ContractSetup {
  emulator: GcpEmulator;
  provider: GcpProvider;
  api: SdkComputeApi;
}

export async function startGcpEnv(
  opts: { emulator?: GcpEmulatorOptions; provider?: Partial<GcpProviderOptions>; instance?: string; metadataEndpoint?: string; clock?: Clock } = {},
): Promise<GcpEnv> {
  const clock = opts.clock ?? systemClock;
  const emulator = new GcpEmulator({ project: 'vc10-contract', operationDelayMs: 30, auth: 'issued', clock, ...opts.emulator });
  emulator.applyScenario(SCENARIO);
  const endpoint = await emulator.start();
  const metadata = new MetadataClient({ endpoint: opts.metadataEndpoint ?? emulator.metadataEndpoint('europe-west1-b', opts.instance ?? 'node-a') });
  const api = new SdkComputeApi({ project: 'vc10-contract', endpoint, metadata, clock, requestTimeoutMs: 5000 });
  const provider = new GcpProvider({
    clusterName: 'contract',
    api,
    metadata,
    clock,
    logger: pino({ level: 'silent' }),
    rangeMode: 'alias-ip',
    rangePrefixLength: 24,
    retry: { attempts: 3, baseMs: 5, capMs: 20 },
    ...opts.provider,
  });
  return {
    emulator,
    provider,
    api,
    backdoor: {
      exhaustSubnet: () => Promise.reject(new Error('GCE nodes have no ip blocks')),
      nicExists: () => Promise.resolve(true),
    },
    cleanup: () => emulator.stop(),
  };
}
