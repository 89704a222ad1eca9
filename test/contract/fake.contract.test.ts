// The provider contract, run against the in-memory fake the pool tests use, so the fake
// stays as strict as the real clouds.
import { FakeCloudProvider, type FakeProviderOptions } from '../../providers/fake/fake-provider.ts';
import { fakeShape } from '../../providers/fake/shapes.ts';
import { runProviderContract, type ContractSetup } from '../../providers/contract/provider-contract.ts';
import type { Clock } from '../../src/util/clock.ts';
import { systemClock } from '../../src/util/clock.ts';

async function setup(shape: FakeProviderOptions = {}): Promise<ContractSetup> {
  // A clock the backdoor can wind back to create NICs that look old.
  let offset = 0;
  const clock: Clock = { now: () => systemClock.now() - offset, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
  const fake = new FakeCloudProvider({ ...shape, clock });
  // The fake models this cluster only: NICs of other clusters exist outside it.
  const foreign = new Set<string>();
  return {
    provider: fake,
    backdoor: {
      async exhaustSubnet() {
        while (fake.subnet.takeAddress() !== undefined) {
          // taking every free address
        }
      },
      async createLooseNic({ ours, ageMs }) {
        if (!ours) {
          const id = `eni-foreign-${foreign.size}`;
          foreign.add(id);
          return id;
        }
        const nics = await fake.listNics();
        const deviceIndex = Math.max(...nics.map((n) => n.deviceIndex)) + 1;
        fake.failNext('attachNic', 'CLOUD_UNAVAILABLE', { when: 'created' });
        offset = ageMs;
        try {
          await fake.attachNic({ deviceIndex, blockKind: 'ip', blockCount: 0 });
        } catch {
          // the NIC was created but not attached: exactly the loose NIC wanted
        } finally {
          offset = 0;
        }
        const leaked = await fake.findLeakedNics(0);
        const newest = leaked.sort((a, b) => b.since - a.since)[0];
        if (!newest) throw new Error('fake did not leave a loose NIC');
        return newest.id;
      },
      async nicExists(nicId) {
        if (foreign.has(nicId)) return true;
        if ((await fake.listNics()).some((n) => n.id === nicId)) return true;
        return (await fake.findLeakedNics(0)).some((n) => n.id === nicId);
      },
    },
    async cleanup() {},
  };
}

// Default fake limits: 3 NICs x 10 addresses, ip and prefix blocks -> 29 pods.
runProviderContract('fake', () => setup(), {
  claims: { nicLifecycle: true, leakedNics: true, blockKinds: ['ip', 'prefix'], mtu: 9001 },
  expectedMaxPods: 29,
});

// Azure-shaped: secondary ipConfigurations on the one NIC, no attach, 256 per NIC, refs + states.
runProviderContract('fake, Azure-shaped', () => setup(fakeShape('azure')), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['ip'], mtu: 1500, blockRefs: true },
  expectedMaxPods: 250,
});

// GCE-shaped: one alias range per node, no attach, MTU 1460.
runProviderContract('fake, GCE-shaped (range)', () => setup(fakeShape('gce')), {
  claims: { nicLifecycle: false, leakedNics: false, blockKinds: ['range'], mtu: 1460, blockRefs: true },
  expectedMaxPods: 110,
});
