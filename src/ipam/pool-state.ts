// The pool's in-memory model: NICs -> blocks -> addresses, each address free, assigned to a
// pod, or cooling down. Only this module touches the maps; pool.ts holds the policy.
import { blockUsable, type CloudBlock, type CloudNic } from '../../providers/provider.ts';
import { cidrAddresses } from '../util/ip.ts';
import type { BlockView, NicView } from './planner.ts';
import type { Allocation, NicStatus, PodKey } from './types.ts';

export type NicInfo = Omit<CloudNic, 'blocks'>;

export interface BlockEntry extends CloudBlock {
  nicId: string;
  addresses: string[];
  /** A release is in flight: nothing new is handed out from it. */
  releasing: boolean;
}

export interface NicEntry {
  info: NicInfo;
  blocks: Map<string, BlockEntry>;
  /** A detach is in flight. */
  detaching: boolean;
}

export interface AddressEntry {
  ip: string;
  block: BlockEntry;
  /** Pod key string when assigned. */
  owner?: string;
  coolUntil?: number;
}

export function podKeyOf(k: PodKey): string {
  return `${k.containerId}/${k.ifname}`;
}

export class PoolState {
  readonly nics = new Map<string, NicEntry>();
  readonly addresses = new Map<string, AddressEntry>();
  readonly allocations = new Map<string, Allocation>();

  addNic(info: NicInfo): NicEntry {
    const existing = this.nics.get(info.id);
    if (existing) {
      existing.info = info;
      return existing;
    }
    const entry: NicEntry = { info, blocks: new Map(), detaching: false };
    this.nics.set(info.id, entry);
    return entry;
  }

  /** Adds a block; its addresses start free, or cooling until `coolUntil`. Known blocks are left alone. */
  addBlock(nicId: string, block: CloudBlock, coolUntil?: number): BlockEntry | undefined {
    const nic = this.nics.get(nicId);
    if (!nic || nic.blocks.has(block.cidr)) return undefined;
    const addresses = cidrAddresses(block.cidr);
    // Overlap with any held block would let one address be handed out twice.
    if (addresses.some((ip) => this.addresses.has(ip))) return undefined;
    const entry: BlockEntry = { ...providerData(block), kind: block.kind, cidr: block.cidr, nicId, addresses, releasing: false };
    nic.blocks.set(block.cidr, entry);
    for (const ip of entry.addresses) {
      this.addresses.set(ip, coolUntil === undefined ? { ip, block: entry } : { ip, block: entry, coolUntil });
    }
    return entry;
  }

  /** The cloud's latest word on a known block's provider data (state, ref). */
  refreshBlock(nicId: string, block: CloudBlock): void {
    const entry = this.nics.get(nicId)?.blocks.get(block.cidr);
    if (!entry) return;
    delete entry.ref;
    delete entry.state;
    Object.assign(entry, providerData(block));
  }

  /** Drops a block and returns the allocations that lived in it (they are gone from the pool). */
  removeBlock(nicId: string, cidr: string): Allocation[] {
    const nic = this.nics.get(nicId);
    const block = nic?.blocks.get(cidr);
    if (!nic || !block) return [];
    const orphaned: Allocation[] = [];
    for (const ip of block.addresses) {
      const owner = this.addresses.get(ip)?.owner;
      const alloc = owner === undefined ? undefined : this.allocations.get(owner);
      if (owner !== undefined && alloc) {
        orphaned.push(alloc);
        this.allocations.delete(owner);
      }
      this.addresses.delete(ip);
    }
    nic.blocks.delete(cidr);
    return orphaned;
  }

  removeNic(nicId: string): Allocation[] {
    const nic = this.nics.get(nicId);
    if (!nic) return [];
    const orphaned = [...nic.blocks.keys()].flatMap((cidr) => this.removeBlock(nicId, cidr));
    this.nics.delete(nicId);
    return orphaned;
  }

  sortedNics(): NicEntry[] {
    return [...this.nics.values()].sort((a, b) => a.info.deviceIndex - b.info.deviceIndex);
  }

  isAvailable(a: AddressEntry, nic: NicEntry, now: number): boolean {
    return a.owner === undefined && !isCooling(a, now) && !a.block.releasing && blockUsable(a.block) && !nic.detaching;
  }

  blockView(block: BlockEntry, nic: NicEntry, now: number): BlockView {
    const v: BlockView = {
      kind: block.kind,
      cidr: block.cidr,
      size: block.addresses.length,
      assigned: 0,
      available: 0,
      cooldown: 0,
      releasing: block.releasing,
      usable: blockUsable(block),
    };
    for (const ip of block.addresses) {
      const a = this.addresses.get(ip);
      if (!a) continue;
      if (a.owner !== undefined) v.assigned++;
      else if (isCooling(a, now)) v.cooldown++;
      else if (this.isAvailable(a, nic, now)) v.available++;
    }
    return v;
  }

  /** Fullest block first, then lowest NIC: keeps other blocks and NICs free to give back. */
  pickAvailable(now: number): { ip: string; block: BlockEntry; nic: NicEntry } | undefined {
    let best: { ip: string; block: BlockEntry; nic: NicEntry; assigned: number } | undefined;
    for (const nic of this.sortedNics()) {
      if (nic.detaching) continue;
      for (const block of nic.blocks.values()) {
        if (block.releasing || !blockUsable(block)) continue;
        let assigned = 0;
        let free: string | undefined;
        for (const ip of block.addresses) {
          const a = this.addresses.get(ip);
          if (!a) continue;
          if (a.owner !== undefined) assigned++;
          else if (free === undefined && this.isAvailable(a, nic, now)) free = ip;
        }
        if (free !== undefined && (!best || assigned > best.assigned)) best = { ip: free, block, nic, assigned };
      }
    }
    return best;
  }

  nicStatuses(now: number): NicStatus[] {
    return this.sortedNics().map((nic) => ({
      id: nic.info.id,
      deviceIndex: nic.info.deviceIndex,
      subnetCidr: nic.info.subnetCidr,
      primaryIp: nic.info.primaryIp,
      detaching: nic.detaching,
      blocks: [...nic.blocks.values()].map((b) => {
        const v = this.blockView(b, nic, now);
        return { kind: v.kind, cidr: v.cidr, ...providerData(b), addresses: v.size, assigned: v.assigned, available: v.available, cooldown: v.cooldown, releasing: v.releasing };
      }),
    }));
  }

  cloudNics(): CloudNic[] {
    return this.sortedNics().map((n) => ({ ...n.info, blocks: [...n.blocks.values()].map((b) => ({ kind: b.kind, cidr: b.cidr, ...providerData(b) })) }));
  }

  cooldowns(): Array<{ ip: string; until: number }> {
    const out: Array<{ ip: string; until: number }> = [];
    for (const a of this.addresses.values()) if (a.owner === undefined && a.coolUntil !== undefined) out.push({ ip: a.ip, until: a.coolUntil });
    return out;
  }

  nicViews(now: number): NicView[] {
    return this.sortedNics().map((nic) => ({
      id: nic.info.id,
      deviceIndex: nic.info.deviceIndex,
      detaching: nic.detaching,
      blocks: [...nic.blocks.values()].map((b) => this.blockView(b, nic, now)),
    }));
  }
}

/** The provider's fields of a block, copied only when present (so AWS blocks stay {kind, cidr}). */
export function providerData(b: Pick<CloudBlock, 'ref' | 'state'>): Pick<CloudBlock, 'ref' | 'state'> {
  return { ...(b.ref !== undefined ? { ref: b.ref } : {}), ...(b.state !== undefined ? { state: b.state } : {}) };
}

export function isCooling(a: AddressEntry, now: number): boolean {
  return a.coolUntil !== undefined && a.coolUntil > now;
}
