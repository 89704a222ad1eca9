// The Datapath contract on LinuxDatapath: pods in lab namespaces of one simulated node, a fresh
// one per test (its own prefix, removed afterwards also on failure). test/unit/datapath/datapath-contract.test.ts
// runs the same assertions on FakeDatapath.
import { execFileSync } from 'node:child_process';
import type { PodNetworkRequest } from '../../src/datapath/datapath.ts';
import { createScenario, MTU, podAddresses, type Scenario } from '../../src/lab/scenario.ts';
import { datapathContract } from '../support/datapath-contract.ts';
import { requireRoot, runPrefix } from './helpers/lab-helpers.ts';

datapathContract('LinuxDatapath (lab namespaces)', async () => {
  requireRoot();
  const prefix = `vc9k${runPrefix().slice(3)}`;
  const s: Scenario = await createScenario({ prefix, nodes: 1, podsPerNic: 6 });
  const node = s.nodes[0]!;
  const used = [0, 0];
  const names = new Map<string, string>();
  return {
    datapath: node.datapath,
    newPod: (name: string, deviceIndex: number): PodNetworkRequest => {
      const k = used[deviceIndex]!++;
      const ip = podAddresses(node, deviceIndex)[k];
      if (!ip) throw new Error('scenario has too few addresses');
      const netns = s.lab.addPod(name);
      names.set(netns, name);
      return { containerId: `ctr-${name}`, ifname: 'eth0', netns, ip, mode: 'routed', nic: node.nics[deviceIndex]!, mtu: MTU };
    },
    removeNetns: (req) => s.lab.removePod(names.get(req.netns) ?? ''),
    destroy: () => {
      s.destroy();
      return execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(prefix));
    },
  };
});
