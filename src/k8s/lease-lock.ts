// One holder at a time through a coordination.k8s.io/v1 Lease: an agent may act while it
// holds the lease and keeps renewing it; another takes over only after the lease expired.
// Used so that one agent of the cluster (not every node) sweeps leaked NICs.
import { VpcnetError } from '../errors.ts';
import type { Clock } from '../util/clock.ts';
import type { KubeClient, KubeLease } from './kube-client.ts';

export interface LeaseLockOptions {
  client: Pick<KubeClient, 'getLease' | 'createLease' | 'replaceLease'>;
  namespace: string;
  name: string;
  /** This agent (its node name). */
  identity: string;
  /** How long a taken lease stays ours without renewal. */
  durationMs: number;
  clock: Clock;
}

export class LeaseLock {
  private readonly o: LeaseLockOptions;

  constructor(opts: LeaseLockOptions) {
    this.o = opts;
  }

  /** Takes or renews the lease; false while another holder's lease is live or a race was lost. */
  async tryAcquire(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.o.clock.now();
    const mine: KubeLease = {
      namespace,
      name,
      resourceVersion: '',
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.durationMs / 1000),
      renewTime: new Date(now).toISOString(),
    };
    try {
      const cur = await client.getLease(namespace, name);
      if (!cur) {
        await client.createLease(mine);
        return true;
      }
      const expiresAt = Date.parse(cur.renewTime) + cur.leaseDurationSeconds * 1000;
      if (cur.holderIdentity !== identity && Number.isFinite(expiresAt) && expiresAt > now) return false;
      await client.replaceLease({ ...mine, resourceVersion: cur.resourceVersion });
      return true;
    } catch (err) {
      // Another agent wrote the lease between our read and write: it holds it now.
      if (err instanceof VpcnetError && err.code === 'K8S_CONFLICT') return false;
      throw err;
    }
  }
}
