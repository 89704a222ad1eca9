// This node's pods, as the API server sees them. The reconciler asks it which pods are
// gone so their addresses can be released; before the first successful list it knows
// nothing, and it never calls a pod gone while any pod of that name/uid exists.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import type { Backoff } from '../../providers/kit/retry.ts';
import type { KubeClient, KubePod } from './kube-client.ts';
import { Reflector, type ReflectorChange } from './reflector.ts';

/** Static pods are known to the kubelet (and so to CNI) by this hash, not by the mirror pod's uid. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export interface PodIdentity {
  podNamespace?: string;
  podName?: string;
  podUid?: string;
}

export interface PodView {
  readonly synced: boolean;
  /** True while a pod with this namespace/name (and uid, when given) exists. */
  isLive(ref: PodIdentity): boolean;
}

export interface PodWatcherOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  backoff?: Backoff;
  /** The server closes each watch after about this long and we resume from the last resourceVersion. */
  watchTimeoutSeconds?: number;
}

export const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

export class PodWatcher implements PodView {
  private readonly reflector: Reflector<KubePod>;

  constructor(opts: PodWatcherOptions) {
    const fieldSelector = `spec.nodeName=${opts.nodeName}`;
    const timeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    this.reflector = new Reflector<KubePod>(
      {
        list: () => opts.client.listPods({ fieldSelector }),
        watch: (resourceVersion, onEvent) =>
          opts.client.watchPods({ fieldSelector, resourceVersion, allowBookmarks: true, timeoutSeconds }, onEvent),
      },
      podKey,
      (p) => p.resourceVersion,
      {
        clock: opts.clock,
        logger: opts.logger.child({ component: 'pod-watcher' }),
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      },
    );
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  get synced(): boolean {
    return this.reflector.synced;
  }

  /** Listed and watching without a break since: the view is current (false during an outage). */
  get live(): boolean {
    return this.reflector.live;
  }

  /** Successful lists so far; a relist after 410 or an outage increments it. */
  get lists(): number {
    return this.reflector.lists;
  }

  /** The resourceVersion the next watch resumes from (advanced by events and bookmarks). */
  get resourceVersion(): string {
    return this.reflector.resourceVersion;
  }

  /** Pods on this node keyed "namespace/name". */
  livePods(): ReadonlyMap<string, KubePod> {
    return this.reflector.items();
  }

  /** Keys "namespace/name/uid" of the pods on this node. */
  livePodKeys(): Set<string> {
    return new Set([...this.reflector.items().values()].map((p) => `${p.namespace}/${p.name}/${p.uid}`));
  }

  isLive(ref: PodIdentity): boolean {
    if (!ref.podNamespace || !ref.podName) return true; // cannot tell: treat as live
    const pod = this.reflector.items().get(`${ref.podNamespace}/${ref.podName}`);
    if (!pod) return false;
    if (!ref.podUid) return true;
    return pod.uid === ref.podUid || pod.annotations[MIRROR_ANNOTATION] === ref.podUid;
  }

  onChange(listener: (c: ReflectorChange<KubePod>) => void): void {
    this.reflector.onChange(listener);
  }
}

export interface ReleasableAllocation extends PodIdentity {
  /** Milliseconds since the epoch. */
  allocatedAt: number;
}

/**
 * The allocations whose pod no longer exists, for the reconciler to release. Empty until the
 * watcher has listed once. Allocations younger than `graceMs` are kept: the pod may be newer
 * than our view. Allocations without a pod name are never returned (CNI DEL frees those).
 */
export function allocationsOfGonePods<A extends ReleasableAllocation>(
  allocations: readonly A[],
  view: PodView,
  now: number,
  graceMs = 60_000,
): A[] {
  if (!view.synced) return [];
  return allocations.filter(
    (a) => a.podNamespace && a.podName && now - a.allocatedAt >= graceMs && !view.isLive(a),
  );
}
