import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeClock } from '../../../src/util/clock.ts';
import { FakeKubeClient } from '../../../src/k8s/fake-kube-client.ts';
import { KubeServices } from '../../../src/k8s/kube-services.ts';

describe('KubeServices', () => {
  it('starts while the API server is down and comes together when it returns', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.putNode({
      name: 'node-a',
      uid: 'uid-a',
      providerId: 'aws:///us-west-2b/i-0123456789abcdef0',
      labels: { 'topology.kubernetes.io/zone': 'us-west-2b' },
      annotations: {},
      taints: [],
      conditions: [],
    });
    client.putConfig({ name: 'b', spec: { subnetId: 'subnet-0b', securityGroupIds: [], zone: 'us-west-2b' } });
    client.putPod({ namespace: 'default', name: 'web', uid: 'u1', nodeName: 'node-a', hostNetwork: false, annotations: {} });
    client.setDown(true);
    const k = new KubeServices({ client, nodeName: 'node-a', clock, logger: pino({ level: 'silent' }), annotatePodIps: true, backoff: { baseMs: 100, capMs: 1000, random: () => 0.5 } });
    k.start();
    let identity: unknown;
    void k.identity().then((id) => (identity = id));
    k.warn('SUBNET_FULL', 'before the node is known'); // logged only, never throws
    await clock.advance(2000);
    expect(identity).toBeUndefined();
    expect(k.pods.synced).toBe(false);

    client.setDown(false);
    await clock.advance(2000);
    expect(identity).toMatchObject({ cloud: 'aws', instanceId: 'i-0123456789abcdef0', zone: 'us-west-2b' });
    expect(k.pods.synced).toBe(true);
    expect(k.networkConfig.current()).toMatchObject({ source: 'zone', spec: { subnetId: 'subnet-0b' } });
    k.warn('SUBNET_FULL', 'subnet-0b has no free addresses');
    k.annotator?.annotate('default', 'web', '10.1.0.7');
    await k.annotator?.idle();
    await k.stop();
    expect([...client.events.values()].map((e) => e.reason)).toEqual(['SubnetFull']);
    expect(client.pods.get('default/web')?.annotations['vpcnet.io/pod-ip']).toBe('10.1.0.7');
  });
});
