// Maps pool NICs to what the datapath needs (HostNic) and sets each secondary NIC up once,
// before the first pod on it is wired.
import type { Datapath, HostNic } from '../datapath/datapath.ts';
import type { Allocation, NicPlace } from '../ipam/types.ts';
import { VpcnetError } from '../errors.ts';
import { subnetGateway } from '../util/ip.ts';

export interface NicDirectoryOptions {
  datapath: Datapath;
  /** Current NICs of the pool (asked on every ADD and DEL: no address counts). */
  nics: () => NicPlace[];
  mtu: number;
}

export class NicDirectory {
  private readonly opts: NicDirectoryOptions;
  /** nicId -> setup in flight or done (keyed with the MAC: a re-created NIC is set up again). */
  private readonly ready = new Map<string, Promise<void>>();

  constructor(opts: NicDirectoryOptions) {
    this.opts = opts;
  }

  /** The HostNic of an allocation's NIC, set up on the host if it is a secondary NIC. */
  async resolve(alloc: Allocation): Promise<HostNic> {
    const status = this.opts.nics().find((n) => n.id === alloc.nicId);
    if (!status) {
      throw new VpcnetError('POOL_NOT_READY', 'the NIC holding this address is not in the pool any more', {
        details: { nicId: alloc.nicId, ip: alloc.ip },
      });
    }
    const nic = this.hostNic(status, alloc.nicMac);
    if (nic.deviceIndex > 0) await this.ensureSetUp(alloc.nicId, nic);
    return nic;
  }

  hostNic(status: NicPlace, mac: string): HostNic {
    return {
      deviceIndex: status.deviceIndex,
      mac,
      primaryIp: status.primaryIp,
      subnetCidr: status.subnetCidr,
      gateway: subnetGateway(status.subnetCidr),
      mtu: this.opts.mtu,
    };
  }

  /** Forgets NICs the pool no longer has, so a NIC re-created under the same id is set up again. */
  prune(): void {
    const live = new Set(this.opts.nics().map((n) => n.id));
    for (const key of this.ready.keys()) if (!live.has(key.split('|')[0]!)) this.ready.delete(key);
  }

  private ensureSetUp(nicId: string, nic: HostNic): Promise<void> {
    const key = `${nicId}|${nic.mac}`;
    let p = this.ready.get(key);
    if (!p) {
      p = this.opts.datapath.setupNic(nic);
      this.ready.set(key, p);
      // A failed setup is retried by the next pod instead of being cached.
      p.catch(() => this.ready.delete(key));
    }
    return p;
  }
}
