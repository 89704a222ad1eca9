// The Datapath contract on FakeDatapath; test/privileged/datapath-contract.test.ts runs the
// same assertions on LinuxDatapath in lab namespaces.
import type { Datapath, HostNic, PodNetworkRequest } from '../../../src/datapath/datapath.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { datapathContract } from '../../support/datapath-contract.ts';

// Compile-time check beside the runtime contract: the fake is a Datapath.
const asDatapath = (d: FakeDatapath): Datapath => d satisfies Datapath;

const nics: HostNic[] = [
  { deviceIndex: 0, mac: '02:00:00:00:01:00', primaryIp: '10.0.1.10', subnetCidr: '10.0.1.0/24', gateway: '10.0.1.1', mtu: 9001 },
  { deviceIndex: 1, mac: '02:00:00:00:01:01', primaryIp: '10.0.2.10', subnetCidr: '10.0.2.0/24', gateway: '10.0.2.1', mtu: 9001 },
];

datapathContract('FakeDatapath', async () => {
  const datapath = asDatapath(new FakeDatapath());
  let next = 100;
  return {
    datapath,
    newPod: (name: string, deviceIndex: number): PodNetworkRequest => {
      const nic = nics[deviceIndex] as HostNic;
      const ip = nic.primaryIp.replace(/\.\d+$/, `.${next++}`);
      return { containerId: `ctr-${name}`, ifname: 'eth0', netns: `/var/run/netns/pod-${name}`, ip, mode: 'routed', nic, mtu: 9001 };
    },
    removeNetns: () => undefined,
    destroy: () => undefined,
  };
});
