// The provider contract against the GCE emulator through @google-cloud/compute and the
// metadata server, in both range modes: alias IP ranges on nic0, and a route per node.
import { runProviderContract } from '../../providers/contract/provider-contract.ts';
import { startGcpEnv } from './gcp-emulator-setup.ts';

runProviderContract('gcp alias-ip (emulator, real SDK)', () => startGcpEnv(), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['range'], mtu: 1460, blockRefs: true },
  expectedMaxPods: 110,
});

runProviderContract('gcp route (emulator, real SDK)', () => startGcpEnv({ provider: { rangeMode: 'route', clusterCidr: '10.64.0.0/16' } }), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['range'], mtu: 1460, blockRefs: true },
  expectedMaxPods: 110,
});
