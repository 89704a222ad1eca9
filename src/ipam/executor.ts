// Turns one plan action into CloudProvider calls and reports exactly what happened, also on
// partial success (NIC attached but its blocks not assigned; fewer blocks than asked).
// Retries with backoff are the provider's job; a failure here is final for this round.
import type { CloudBlock, CloudNic, CloudProvider, NicLifecycle } from '../../providers/provider.ts';
import { VpcnetError, toVpcnetError } from '../errors.ts';
import type { ActionOutcome, PlanAction } from './types.ts';

/** `urgent`: pods are waiting for this action, or the node cannot serve before it (providers/kit/urgency.ts). */
export async function executeAction(provider: CloudProvider, action: PlanAction, opts: { urgent?: boolean } = {}): Promise<ActionOutcome> {
  const urgent = opts.urgent ? { urgent: true } : {};
  switch (action.kind) {
    case 'assign':
      return attempt(async () => ({
        blocks: await provider.assign({
          nicId: action.nicId,
          kind: action.blockKind,
          count: action.count,
          ...(action.prefixLength ? { prefixLength: action.prefixLength } : {}),
          ...urgent,
        }),
      }));
    case 'attach-nic':
      return attachWithBlocks(provider, action, urgent);
    case 'release':
      return attempt(async () => {
        await provider.release({ nicId: action.nicId, blocks: action.blocks });
        return { blocks: action.blocks };
      });
    case 'detach-nic':
      return attempt(async () => {
        await nicLifecycleOf(provider).detachNic(action.nicId);
        return {};
      });
  }
}

async function attachWithBlocks(provider: CloudProvider, action: Extract<PlanAction, { kind: 'attach-nic' }>, urgent: { urgent?: boolean }): Promise<ActionOutcome> {
  let nic: CloudNic;
  try {
    nic = await nicLifecycleOf(provider).attachNic({ deviceIndex: action.deviceIndex, blockKind: action.blockKind, blockCount: action.blockCount, ...urgent });
  } catch (err) {
    return failure(err);
  }
  const missing = action.blockCount - nic.blocks.filter((b) => b.kind === action.blockKind).length;
  if (missing <= 0) return { nic };
  // The cloud attached the NIC with fewer blocks than asked: top it up in one more call.
  let blocks: CloudBlock[] = [];
  try {
    blocks = await provider.assign({ nicId: nic.id, kind: action.blockKind, count: missing, ...urgent });
  } catch (err) {
    return { nic, ...failure(err) };
  }
  return { nic, blocks };
}

/** The planner plans NIC actions only for providers with the capability; this guards the seam. */
function nicLifecycleOf(provider: CloudProvider): NicLifecycle {
  if (!provider.nicLifecycle) throw new VpcnetError('CLOUD_BAD_REQUEST', `provider ${provider.name} cannot attach or detach NICs`);
  return provider.nicLifecycle;
}

async function attempt(fn: () => Promise<ActionOutcome>): Promise<ActionOutcome> {
  try {
    return await fn();
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): ActionOutcome {
  const e = toVpcnetError(err);
  return { error: { code: e.code, message: e.message } };
}
