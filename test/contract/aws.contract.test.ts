// The provider contract, run against the AWS EC2 emulator through the agent's own EC2 Query
// client (test/unit/aws-client holds it to @aws-sdk/client-ec2, action by action).
import { runProviderContract } from '../../providers/contract/provider-contract.ts';
import { startAwsEmulatorEnv } from './aws-emulator-setup.ts';

// m5.large: 3 NICs x 10 IPv4 addresses, Nitro -> 3 * 9 + 2 = 29 pods, prefixes offered.
runProviderContract('aws (emulator, own EC2 client)', () => startAwsEmulatorEnv({ instanceType: 'm5.large' }), {
  claims: { nicLifecycle: true, leakedNics: true, blockKinds: ['prefix', 'ip'], mtu: 9001 },
  expectedMaxPods: 29,
});

// A Xen type: no prefix blocks even with prefix delegation enabled.
runProviderContract('aws (emulator, own EC2 client, xen)', () => startAwsEmulatorEnv({ instanceType: 't2.micro' }), {
  claims: { nicLifecycle: true, leakedNics: true, blockKinds: ['ip'], mtu: 9001 },
  expectedMaxPods: 4,
});
