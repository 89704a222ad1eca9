// The ARM calls the Azure provider makes, on @azure/arm-network and @azure/arm-compute: each
// one rate limited client-side (ARM's read/write buckets), retried with backoff on 409/429/5xx
// (Retry-After honoured) and mapped to VpcnetErrors. The SDKs' own retries are off so that one
// policy decides, and so that calls are counted once. LROs poll at `lroPollMs`.
import { ComputeManagementClient, type VirtualMachineScaleSetVM } from '@azure/arm-compute';
import { NetworkManagementClient, type NetworkInterface } from '@azure/arm-network';
import type { TokenCredential } from '@azure/core-auth';
import { VpcnetError } from '../../../src/errors.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { isRetryableArm, retryAfterOf, toArmError } from './azure-errors.ts';
import { DEFAULT_ARM_BACKOFF, KeyedRateLimiter, withRetry, type BackoffPolicy, type BucketRate } from './retry.ts';

export type ArmBucket = 'reads' | 'writes';

/** Client-side budget per node: a share of ARM's per-subscription buckets (250/25 reads, 200/10 writes) that 1000 nodes can sum under. */
export const DEFAULT_CLIENT_RATES: Record<ArmBucket, BucketRate> = {
  reads: { perSecond: 5, burst: 20, concurrency: 4 },
  writes: { perSecond: 1, burst: 5, concurrency: 2 },
};

export interface ArmApiOptions {
  credential: TokenCredential;
  subscriptionId: string;
  endpoint?: string;
  /** PEM CA bundle for the endpoint (an emulator's self-signed CA). */
  ca?: string;
  lroPollMs: number;
  requestTimeoutMs: number;
  clock: Clock;
  backoff?: BackoffPolicy;
  rates?: Record<ArmBucket, BucketRate>;
  random?: () => number;
  /** Called once per ARM request sent (metrics, the scale bench's write count). */
  onCall?(op: string, bucket: ArmBucket): void;
}

export class ArmApi {
  readonly network: NetworkManagementClient;
  readonly compute: ComputeManagementClient;
  private readonly opts: ArmApiOptions;
  private readonly limiter: KeyedRateLimiter<ArmBucket>;

  constructor(opts: ArmApiOptions) {
    this.opts = opts;
    const common = {
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.ca ? { tlsOptions: { ca: opts.ca } } : {}),
      retryOptions: { maxRetries: 0 },
      // The token audience is ARM's, also against an emulator.
      credentials: { scopes: ['https://management.azure.com/.default'] },
    };
    this.network = new NetworkManagementClient(opts.credential, opts.subscriptionId, common);
    this.compute = new ComputeManagementClient(opts.credential, opts.subscriptionId, common);
    this.limiter = new KeyedRateLimiter(opts.rates ?? DEFAULT_CLIENT_RATES, { clock: opts.clock });
  }

  getNic(rg: string, name: string): Promise<NetworkInterface> {
    return this.call('networkInterfaces.get', 'reads', () => this.network.networkInterfaces.get(rg, name, this.timeout()));
  }

  /**
   * One NIC PUT with If-Match, then waiting for its operation. The PUT is retried (409, 429,
   * 5xx) but not on 412: the caller re-reads. A failure after ARM accepted the PUT is tagged
   * `lro` and never retried here: the caller reads back what happened.
   */
  putNic(rg: string, name: string, nic: NetworkInterface, etag: string): Promise<NetworkInterface> {
    return this.lro('networkInterfaces.createOrUpdate', () =>
      this.network.networkInterfaces.createOrUpdate(rg, name, nic, { updateIntervalInMs: this.opts.lroPollMs, requestOptions: { headers: { 'If-Match': etag }, timeout: this.opts.requestTimeoutMs } }),
    );
  }

  getVmssNic(rg: string, scaleSet: string, instanceId: string, nicName: string): Promise<NetworkInterface> {
    return this.call('networkInterfaces.getVirtualMachineScaleSetNetworkInterface', 'reads', () =>
      this.network.networkInterfaces.getVirtualMachineScaleSetNetworkInterface(rg, scaleSet, instanceId, nicName, this.timeout()),
    );
  }

  getVm(rg: string, name: string): ReturnType<ComputeManagementClient['virtualMachines']['get']> {
    return this.call('virtualMachines.get', 'reads', () => this.compute.virtualMachines.get(rg, name, this.timeout()));
  }

  getVmssVm(rg: string, scaleSet: string, instanceId: string): Promise<VirtualMachineScaleSetVM> {
    return this.call('virtualMachineScaleSetVMs.get', 'reads', () => this.compute.virtualMachineScaleSetVMs.get(rg, scaleSet, instanceId, this.timeout()));
  }

  putVmssVm(rg: string, scaleSet: string, instanceId: string, vm: VirtualMachineScaleSetVM, etag: string | undefined): Promise<VirtualMachineScaleSetVM> {
    return this.lro('virtualMachineScaleSetVMs.update', () =>
      this.compute.virtualMachineScaleSetVMs.update(rg, scaleSet, instanceId, vm, {
        updateIntervalInMs: this.opts.lroPollMs,
        ...(etag ? { ifMatch: etag } : {}),
        requestOptions: { timeout: this.opts.requestTimeoutMs },
      }),
    );
  }

  /** Submits (rate limited, retried) then polls (not retried; failures tagged `lro`). */
  private async lro<T>(op: string, start: () => { submitted(): Promise<void>; pollUntilDone(): Promise<T> }): Promise<T> {
    // Boxed: a poller is thenable, so returning it bare from an async function would await it.
    const box = await this.call(op, 'writes', async () => {
      const p = start();
      await p.submitted();
      return { p };
    });
    try {
      return await box.p.pollUntilDone();
    } catch (err) {
      throw new VpcnetError('CLOUD_UNAVAILABLE', `ARM ${op}: the operation did not succeed`, { cause: err, details: { op, lro: true } });
    }
  }

  getSubnet(rg: string, vnet: string, subnet: string): ReturnType<NetworkManagementClient['subnets']['get']> {
    return this.call('subnets.get', 'reads', () => this.network.subnets.get(rg, vnet, subnet, this.timeout()));
  }

  getVnet(rg: string, vnet: string): ReturnType<NetworkManagementClient['virtualNetworks']['get']> {
    return this.call('virtualNetworks.get', 'reads', () => this.network.virtualNetworks.get(rg, vnet, this.timeout()));
  }

  private timeout(): { requestOptions: { timeout: number } } {
    return { requestOptions: { timeout: this.opts.requestTimeoutMs } };
  }

  private call<T>(op: string, bucket: ArmBucket, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      () =>
        this.limiter.run(bucket, async () => {
          this.opts.onCall?.(op, bucket);
          try {
            return await fn();
          } catch (err) {
            throw toArmError(err, op);
          }
        }),
      {
        clock: this.opts.clock,
        policy: this.opts.backoff ?? DEFAULT_ARM_BACKOFF,
        ...(this.opts.random ? { random: this.opts.random } : {}),
        isRetryable: isRetryableArm,
        retryAfterMs: retryAfterOf,
      },
    );
  }
}
