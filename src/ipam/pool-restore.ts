// Rebuilds pool state from checkpoint data, refusing anything inconsistent: a checkpoint
// that would hand one address to two pods is corrupt, never "repaired" silently.
import { VpcnetError } from '../errors.ts';
import { type PoolState, podKeyOf } from './pool-state.ts';
import type { CheckpointData } from './types.ts';

export function restorePool(state: PoolState, data: CheckpointData): void {
  for (const nic of data.nics) {
    const { blocks, ...info } = nic;
    if (state.nics.has(info.id)) throw corrupt(`NIC ${info.id} appears twice`);
    state.addNic(info);
    for (const b of blocks) {
      if (!state.addBlock(info.id, b)) throw corrupt(`block ${b.cidr} on ${info.id} overlaps another block`);
    }
  }
  for (const c of data.cooldowns) {
    const entry = state.addresses.get(c.ip);
    if (entry) entry.coolUntil = c.until;
  }
  for (const a of data.allocations) {
    const key = podKeyOf(a);
    const entry = state.addresses.get(a.ip);
    if (!entry) throw corrupt(`allocation ${key} holds ${a.ip}, which no block contains`);
    if (entry.owner !== undefined) throw corrupt(`address ${a.ip} is assigned to ${entry.owner} and ${key}`);
    if (state.allocations.has(key)) throw corrupt(`pod ${key} has two allocations`);
    entry.owner = key;
    delete entry.coolUntil;
    state.allocations.set(key, { ...a });
  }
}

function corrupt(message: string): VpcnetError {
  return new VpcnetError('CHECKPOINT_CORRUPT', `inconsistent checkpoint: ${message}`);
}
