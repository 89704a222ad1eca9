// Shared setup: a fake API server and the agent's client (src/k8s/http-kube-client.ts)
// pointed at it through the kubeconfig the server writes.
import { pino } from 'pino';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver/server.ts';
import { HttpKubeClient, type HttpKubeClientOptions } from '../../../src/k8s/http-kube-client.ts';
import { kubeconfigTarget } from '../../../src/k8s/kubeconfig.ts';

export const silent = pino({ level: 'silent' });
export const fastBackoff = { baseMs: 10, capMs: 50 };

export async function startApi(
  opts: ConstructorParameters<typeof FakeApiServer>[0] = {},
  clientOpts: HttpKubeClientOptions = {},
): Promise<{
  api: FakeApiServer;
  client: HttpKubeClient;
}> {
  const api = new FakeApiServer(opts);
  await api.start();
  const client = new HttpKubeClient(kubeconfigTarget(api.kubeconfig(), '/fake/kubeconfig'), { requestTimeoutMs: 2000, ...clientOpts });
  return { api, client };
}

export function nodeObj(name: string, extra: { providerID?: string; labels?: Record<string, string>; taints?: Obj[]; annotations?: Record<string, string> } = {}): Obj {
  return {
    metadata: { name, labels: extra.labels ?? {}, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { ...(extra.providerID ? { providerID: extra.providerID } : {}), ...(extra.taints ? { taints: extra.taints } : {}) },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
}

export function podObj(namespace: string, name: string, nodeName: string, uid?: string): Obj {
  return {
    metadata: { namespace, name, ...(uid ? { uid } : {}), labels: { app: name } },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running' },
  };
}
