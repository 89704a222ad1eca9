// The two hooks the agent's Kubernetes wiring uses: onAdded after a successful ADD, and
// releaseAttachment (DEL semantics, for pods the API server says are gone).
import { describe, expect, it } from '@jest/globals';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { VpcnetError } from '../../../src/errors.ts';
import type { Allocation } from '../../../src/ipam/types.ts';
import { NIC, RecordingDatapath, SETTINGS } from './doubles.ts';

const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet' });
const env = (command: string, id: string): Record<string, string> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: id,
  CNI_NETNS: '/run/netns/p',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID=u1',
});

function setup(onAdded?: (a: Allocation) => void): { handler: CniHandler; ipam: MemoryIpam; datapath: RecordingDatapath } {
  const ipam = new MemoryIpam({ addresses: ['10.0.0.20', '10.0.0.21'] });
  const datapath = new RecordingDatapath();
  const handler = new CniHandler({ ipam, datapath, resolveNic: () => NIC, settings: SETTINGS, netns: new MemoryNetnsInspector(), ...(onAdded ? { onAdded } : {}) });
  return { handler, ipam, datapath };
}

describe('CniHandler hooks', () => {
  it('onAdded sees the allocation (with the pod) after a successful ADD only', async () => {
    const seen: Allocation[] = [];
    const { handler, datapath } = setup((a) => seen.push(a));
    expect((await handler.handle({ env: env('ADD', 'c1'), stdin: conf })).exitCode).toBe(0);
    expect(seen).toEqual([expect.objectContaining({ containerId: 'c1', podNamespace: 'default', podName: 'web', ip: '10.0.0.20' })]);
    datapath.failSetup = new VpcnetError('NETLINK', 'veth create failed');
    expect((await handler.handle({ env: env('ADD', 'c2'), stdin: conf })).exitCode).not.toBe(0);
    expect(seen).toHaveLength(1);
  });

  it('a throwing onAdded never fails the ADD', async () => {
    const { handler } = setup(() => {
      throw new Error('listener broke');
    });
    expect((await handler.handle({ env: env('ADD', 'c1'), stdin: conf })).exitCode).toBe(0);
  });

  it('releaseAttachment tears down host state and frees the address; unknown ones are a no-op', async () => {
    const { handler, ipam, datapath } = setup();
    await handler.handle({ env: env('ADD', 'c1'), stdin: conf });
    await handler.releaseAttachment({ containerId: 'c1', ifname: 'eth0' });
    expect(ipam.list()).toEqual([]);
    expect(datapath.calls).toEqual(['setup c1/eth0', 'teardown c1/eth0']);
    await expect(handler.releaseAttachment({ containerId: 'nope', ifname: 'eth0' })).resolves.toBeUndefined();
  });
});
