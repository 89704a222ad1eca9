// In-memory CniIpam for tests and benchmarks: a fixed list of addresses on one NIC.
import { VpcnetError } from '../errors.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Allocation, PodKey, PodRef } from '../ipam/types.ts';
import type { CniIpam } from './types.ts';

export interface MemoryIpamOptions {
  addresses: string[];
  nicId?: string;
  deviceIndex?: number;
  nicMac?: string;
  subnetCidr?: string;
  clock?: Clock;
}

const keyOf = (k: PodKey): string => `${k.containerId}/${k.ifname}`;

export class MemoryIpam implements CniIpam {
  private readonly free: string[];
  private readonly used = new Map<string, Allocation>();
  private readonly opts: MemoryIpamOptions;
  private readonly clock: Clock;
  isReady = true;
  allocateCalls = 0;

  constructor(opts: MemoryIpamOptions) {
    this.opts = opts;
    this.free = [...opts.addresses];
    this.clock = opts.clock ?? systemClock;
  }

  async allocate(pod: PodRef, opts: { deadlineMs: number }): Promise<Allocation> {
    this.allocateCalls++;
    const have = this.used.get(keyOf(pod));
    if (have) return have;
    if (this.free.length === 0) await this.clock.sleep(opts.deadlineMs);
    const ip = this.free.shift();
    if (!ip) throw new VpcnetError('POOL_EXHAUSTED', 'no free address within the deadline', { details: { waitedMs: opts.deadlineMs } });
    const a: Allocation = {
      ...pod,
      ip,
      blockCidr: `${ip}/32`,
      blockKind: 'ip',
      nicId: this.opts.nicId ?? 'eni-0001',
      deviceIndex: this.opts.deviceIndex ?? 0,
      nicMac: this.opts.nicMac ?? '02:00:00:00:00:01',
      subnetCidr: this.opts.subnetCidr ?? '10.0.0.0/24',
      allocatedAt: this.clock.now(),
    };
    this.used.set(keyOf(pod), a);
    return a;
  }

  async release(key: PodKey): Promise<void> {
    const a = this.used.get(keyOf(key));
    if (!a) return;
    this.used.delete(keyOf(key));
    this.free.push(a.ip);
  }

  find(key: PodKey): Allocation | undefined {
    return this.used.get(keyOf(key));
  }

  list(): Allocation[] {
    return [...this.used.values()];
  }

  ready(): boolean {
    return this.isReady && this.free.length > 0;
  }

  get freeCount(): number {
    return this.free.length;
  }
}
