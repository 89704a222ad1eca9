// The kubernetes section: on by default only inside a cluster (or with a kubeconfig), and
// every key settable from the environment.
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../src/config/load.ts';

describe('kubernetes config', () => {
  it('is off outside a cluster and on inside one (KUBERNETES_SERVICE_HOST), saying why', () => {
    const outside = loadConfig({ env: {} });
    expect(outside.config.kubernetes.enabled).toBe(false);
    expect(outside.sources['kubernetes.enabled']).toBe('auto');
    const inside = loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } });
    expect(inside.config.kubernetes.enabled).toBe(true);
    expect(inside.sources['kubernetes.enabled']).toBe('auto:env:KUBERNETES_SERVICE_HOST');
  });

  it('a kubeconfig turns it on; an explicit setting wins over detection', () => {
    expect(loadConfig({ env: { VPCNET_KUBECONFIG: '/etc/vpcnet/kubeconfig' } }).config.kubernetes).toMatchObject({ enabled: true, kubeconfig: '/etc/vpcnet/kubeconfig' });
    const off = loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', VPCNET_KUBERNETES: 'false' } });
    expect(off.config.kubernetes.enabled).toBe(false);
    expect(off.sources['kubernetes.enabled']).toBe('env:VPCNET_KUBERNETES');
  });

  it('has safe defaults and reads every key from the environment', () => {
    expect(loadConfig({ env: {} }).config.kubernetes).toMatchObject({ annotatePodIps: false, goneGraceMs: 60000, podReconcileIntervalMs: 60000, networkConfigWaitMs: 30000, requestTimeoutMs: 10000 });
    const { config } = loadConfig({
      env: {
        VPCNET_ANNOTATE_POD_IPS: 'true',
        VPCNET_POD_GONE_GRACE_MS: '5000',
        VPCNET_POD_RECONCILE_INTERVAL_MS: '10000',
        VPCNET_NETWORK_CONFIG_WAIT_MS: '0',
        VPCNET_KUBE_TIMEOUT_MS: '2000',
      },
    });
    expect(config.kubernetes).toMatchObject({ annotatePodIps: true, goneGraceMs: 5000, podReconcileIntervalMs: 10000, networkConfigWaitMs: 0, requestTimeoutMs: 2000 });
  });

  it('takes the in-cluster API server from the kubelet variables, and KUBECONFIG (its first file) as kubectl does', () => {
    expect(loadConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' } }).config.kubernetes).toMatchObject({ serviceHost: 'fd00::1', servicePort: 6443 });
    expect(loadConfig({ env: {} }).config.kubernetes.servicePort).toBe(443);
    const kc = loadConfig({ env: { KUBECONFIG: '/home/u/.kube/config:/home/u/.kube/other' } });
    expect(kc.config.kubernetes).toMatchObject({ enabled: true, kubeconfig: '/home/u/.kube/config' });
    expect(kc.sources['kubernetes.kubeconfig']).toBe('env:KUBECONFIG');
    expect(loadConfig({ env: { KUBECONFIG: '/a', VPCNET_KUBECONFIG: '/b' } }).config.kubernetes.kubeconfig).toBe('/b');
  });

  it('rejects a relative kubeconfig path', () => {
    expect(() => loadConfig({ env: { VPCNET_KUBECONFIG: 'kubeconfig' } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
