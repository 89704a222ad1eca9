// The figure the agent publishes on its Node: `vpcnet max-pods` for its type and mode.
import { expect, test } from '@jest/globals';
import type { NodeInfo, NodeLimits } from '../../../providers/provider.ts';
import { nodeMaxPods } from '../../../src/agent/provider-factory.ts';
import { configSchema } from '../../../src/config/schema.ts';

const node = (instanceType: string): NodeInfo => ({ instanceType }) as NodeInfo;
const limits = (over: Partial<NodeLimits> = {}): NodeLimits => ({ maxNics: 3, addressesPerNic: 10, blockKinds: ['ip', 'prefix'], prefixLength: 28, maxPods: 29, ...over });
const config = (pool: Record<string, unknown> = {}): ReturnType<typeof configSchema.parse> => configSchema.parse({ provider: { name: 'aws' }, pool });

test("AWS: the calculator's value for the node's mode, capped by pool.maxPods", async () => {
  expect(await nodeMaxPods(config(), node('m5.large'), limits())).toBe(110);
  expect(await nodeMaxPods(config({ prefixDelegation: false }), node('m5.large'), limits())).toBe(29);
  expect(await nodeMaxPods(config(), node('t2.medium'), limits({ blockKinds: ['ip'], maxPods: 17 }))).toBe(17);
  expect(await nodeMaxPods(config({ maxPods: 50 }), node('c5.18xlarge'), limits())).toBe(50);
  // A type the table lacks: the provider's figure.
  expect(await nodeMaxPods(config(), node('zz9.large'), limits({ maxPods: 42 }))).toBe(42);
});
