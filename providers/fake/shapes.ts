// Configurations of the fake provider shaped like the three clouds' nodes, so the pool, the
// contract suite and the property test see each family before its real provider exists.
// Figures: docs/providers/fake.md (with the clouds' published limits they follow).
import type { FakeProviderOptions } from './fake-provider.ts';

export type FakeShape = 'aws' | 'azure' | 'gce';

/** AWS-shaped (the default): m5.large-like, 3 NICs x 10 addresses, ip and /28 prefix blocks, hot attach, MTU 9001. */
export const AWS_SHAPE: FakeProviderOptions = {
  name: 'aws',
  limits: { maxNics: 3, addressesPerNic: 10, blockKinds: ['ip', 'prefix'], prefixLength: 28 },
};

/**
 * Azure-shaped: pods take secondary ipConfigurations of the primary NIC (no hot attach from the
 * node agent: NICs are fixed at VM creation), up to 256 per NIC; each block carries its
 * ipConfiguration name and provisioning state; MTU 1500; Azure CNI's ceiling of 250 pods.
 */
export const AZURE_SHAPE: FakeProviderOptions = {
  name: 'azure',
  nicLifecycle: false,
  limits: { maxNics: 1, addressesPerNic: 256, blockKinds: ['ip'], maxPods: 250 },
  subnetCidr: '10.1.0.0/20',
  reservedLow: 4,
  reservedHigh: 1,
  mtu: 1500,
  blockRefs: { prefix: 'ipconfig' },
};

/**
 * GCE-shaped: one alias IP range per node on nic0 taken from the subnet's secondary range
 * (a /24 by default, GKE's 110 max pods), no NIC attach, MTU 1460; the ref is the range name.
 */
export const GCE_SHAPE: FakeProviderOptions = {
  name: 'gcp',
  nicLifecycle: false,
  limits: { maxNics: 1, addressesPerNic: 1, blockKinds: ['range'], prefixLength: 24, maxPods: 110 },
  subnetCidr: '10.128.0.0/20',
  reservedLow: 2,
  reservedHigh: 2,
  rangeCidr: '10.4.0.0/14',
  mtu: 1460,
  blockRefs: { prefix: 'pods-' },
};

export const FAKE_SHAPES: Record<FakeShape, FakeProviderOptions> = { aws: AWS_SHAPE, azure: AZURE_SHAPE, gce: GCE_SHAPE };

/** A shape with overrides (limits merged, the rest replaced). */
export function fakeShape(shape: FakeShape, over: FakeProviderOptions = {}): FakeProviderOptions {
  const base = FAKE_SHAPES[shape];
  return { ...base, ...over, limits: { ...base.limits, ...over.limits } };
}
