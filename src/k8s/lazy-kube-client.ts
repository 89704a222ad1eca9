// A KubeClient that loads its client (http-kube-client.ts) and reads the kubeconfig or the
// service account only when the first call is made: an agent with Kubernetes off loads none of
// it, and start-up never waits on it. A config that cannot be loaded fails every call with
// CONFIG_INVALID (the loops report it as any other API failure).
import { VpcnetError } from '../errors.ts';
import type { KubeClient } from './kube-client.ts';

export interface LazyKubeSettings {
  kubeconfig?: string | undefined;
  /** In-cluster API server (KUBERNETES_SERVICE_HOST/PORT), used when no kubeconfig is given. */
  serviceHost?: string | undefined;
  servicePort: number;
  requestTimeoutMs: number;
}

type Methods = { [K in keyof KubeClient]: KubeClient[K] };

export function lazyKubeClient(settings: LazyKubeSettings): KubeClient {
  let loading: Promise<KubeClient> | undefined;
  const real = (): Promise<KubeClient> =>
    (loading ??= Promise.all([import('./http-kube-client.ts'), import('./kubeconfig.ts')]).then(([{ HttpKubeClient }, { inClusterTarget, kubeconfigFileTarget }]) => {
      try {
        if (!settings.kubeconfig && !settings.serviceHost) {
          throw new VpcnetError('CONFIG_INVALID', 'no kubeconfig given and not in a pod (KUBERNETES_SERVICE_HOST unset)');
        }
        const target = settings.kubeconfig
          ? kubeconfigFileTarget(settings.kubeconfig)
          : inClusterTarget({ host: settings.serviceHost as string, port: settings.servicePort });
        return new HttpKubeClient(target, { requestTimeoutMs: settings.requestTimeoutMs });
      } catch (err) {
        if (err instanceof VpcnetError && err.code === 'CONFIG_INVALID') throw err; // already names the file and field
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
    patchNodeAnnotations: forward('patchNodeAnnotations'),
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
