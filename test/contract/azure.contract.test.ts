// The provider contract against the Azure emulator through the real SDKs over TLS: a
// standalone VM (managed identity from IMDS; NIC PUTs) and a scale-set instance (workload
// identity; scale-set VM updates through @azure/arm-compute).
import { runProviderContract } from '../../providers/contract/provider-contract.ts';
import { startAzureEmulatorEnv } from './azure-emulator-setup.ts';

// Standard_D8s_v5 with 2 NICs: 256 addresses per VM less the 2 primaries.
runProviderContract('azure VM (emulator, real SDK, TLS)', () => startAzureEmulatorEnv({ node: 'vm' }), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['prefix', 'ip'], mtu: 1500, blockRefs: true },
  expectedMaxPods: 250,
});

runProviderContract('azure scale-set VM (emulator, real SDK, TLS, workload identity)', () => startAzureEmulatorEnv({ node: 'vmss' }), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['ip'], mtu: 1500, blockRefs: true },
  expectedMaxPods: 250,
});
