// A KubeClient that loads @kubernetes/client-node (about 140 MB of heap and code in one agent
// process) only when the first call is made: an agent with Kubernetes off never loads it, and
// one with it on loads it in the background after start. A config that cannot be loaded fails
// every call with CONFIG_INVALID (the loops report it as any other API failure).
import { VpcnetError } from '../errors.ts';
import type { KubeClient } from './kube-client.ts';

export interface LazyKubeSettings {
  kubeconfig?: string | undefined;
  requestTimeoutMs: number;
}

type Methods = { [K in keyof KubeClient]: KubeClient[K] };

export function lazyKubeClient(settings: LazyKubeSettings): KubeClient {
  let loading: Promise<KubeClient> | undefined;
  const real = (): Promise<KubeClient> =>
    (loading ??= import('./real-kube-client.ts').then(({ loadKubeConfig, RealKubeClient }) => {
      try {
        const kc = loadKubeConfig(settings.kubeconfig ? { kubeconfigPath: settings.kubeconfig } : {});
        return new RealKubeClient(kc, { requestTimeoutMs: settings.requestTimeoutMs });
      } catch (err) {
        throw new VpcnetError('CONFIG_INVALID', 'cannot load the Kubernetes client configuration', {
          cause: err,
          details: { kubeconfig: settings.kubeconfig ?? '(in-cluster)' },
        });
      }
    }));
  const forward =
    <K extends keyof KubeClient>(name: K) =>
    async (...args: Parameters<KubeClient[K]>): Promise<Awaited<ReturnType<KubeClient[K]>>> => {
      const client = await real();
      return (client[name] as (...a: Parameters<KubeClient[K]>) => Promise<Awaited<ReturnType<KubeClient[K]>>>).apply(client, args);
    };
  const methods: Methods = {
    getNode: forward('getNode'),
    replaceNodeConditions: forward('replaceNodeConditions'),
    replaceNodeTaints: forward('replaceNodeTaints'),
    listPods: forward('listPods'),
    watchPods: forward('watchPods'),
    patchPodAnnotations: forward('patchPodAnnotations'),
    recordNodeEvent: forward('recordNodeEvent'),
    listNetworkConfigs: forward('listNetworkConfigs'),
    watchNetworkConfigs: forward('watchNetworkConfigs'),
    getLease: forward('getLease'),
    createLease: forward('createLease'),
    replaceLease: forward('replaceLease'),
  };
  return methods;
}
