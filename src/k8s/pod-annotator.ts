// Writes each pod's VPC address into its annotation vpcnet.io/pod-ip, off the CNI path:
// callers enqueue and return at once; a background worker patches with retries, keeping
// only the latest wish per pod. A pod that is gone (404) is dropped.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import { toVpcnetError } from '../errors.ts';
import { backoffDelay, type Backoff } from '../../providers/kit/retry.ts';
import { KUBE_BACKOFF } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';

export const POD_IP_ANNOTATION = 'vpcnet.io/pod-ip';

export interface PodAnnotatorOptions {
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  backoff?: Backoff;
  maxAttempts?: number;
}

export class PodAddressAnnotator {
  private readonly pending = new Map<string, { namespace: string; name: string; ip: string | null; attempt: number }>();
  private worker: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private readonly opts: PodAnnotatorOptions;

  constructor(opts: PodAnnotatorOptions) {
    this.opts = opts;
  }

  /** Sets (or with null, removes) the pod's address annotation, eventually. Never blocks. */
  annotate(namespace: string, name: string, ip: string | null): void {
    this.pending.set(`${namespace}/${name}`, { namespace, name, ip, attempt: 0 });
    this.worker ??= this.work().finally(() => (this.worker = undefined));
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  stop(): void {
    this.stopper.abort(new Error('stopped'));
  }

  private async work(): Promise<void> {
    const maxAttempts = this.opts.maxAttempts ?? 5;
    while (!this.stopper.signal.aborted) {
      const next = this.pending.entries().next();
      if (next.done) return;
      const [key, item] = next.value;
      this.pending.delete(key);
      try {
        await this.opts.client.patchPodAnnotations(item.namespace, item.name, { [POD_IP_ANNOTATION]: item.ip });
      } catch (err) {
        const e = toVpcnetError(err, 'K8S_UNAVAILABLE');
        if (e.code === 'K8S_NOT_FOUND' || e.code === 'K8S_FORBIDDEN' || item.attempt + 1 >= maxAttempts) {
          this.opts.logger.warn({ err: e, pod: key }, 'pod annotation dropped');
          continue;
        }
        // Requeue unless a newer wish arrived meanwhile.
        if (!this.pending.has(key)) this.pending.set(key, { ...item, attempt: item.attempt + 1 });
        try {
          await this.opts.clock.sleep(backoffDelay(item.attempt, this.opts.backoff ?? KUBE_BACKOFF), this.stopper.signal);
        } catch {
          return;
        }
      }
    }
  }
}
