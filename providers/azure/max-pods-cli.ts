// Azure's part of `vpcnet max-pods`: one private IP per pod from the VM's 256, by VM size.
import { VpcnetError } from '../../src/errors.ts';
import type { OptionSpec } from '../../src/util/cli-args.ts';
import type { NodeLimits } from '../provider.ts';
import { MAX_PODS_PER_NODE, MAX_PRIVATE_IPS_PER_VM, azureMaxPods, vmSizeLimits } from './limits.ts';

export const selector = 'vm-size';

export const options: Record<string, OptionSpec> = {
  'vm-size': { type: 'string', value: 'SIZE', description: 'Azure: VM size, e.g. Standard_D4s_v5' },
  nics: { type: 'string', value: 'N', description: 'Azure: NICs the VM has', default: '1' },
};

/** A running node: the provider computed it from what the node has (NICs, pod range). */
export function forNode(_instanceType: string, limits: NodeLimits): number {
  return limits.maxPods;
}

export function maxPods(values: Record<string, string | boolean | undefined>): { maxPods: number; why: string } {
  const size = String(values['vm-size']);
  const l = vmSizeLimits(size);
  if (!l) throw new VpcnetError('UNKNOWN_INSTANCE_TYPE', `VM size "${size}" is not in vpcnet's table (providers/azure/limits.ts)`);
  const text = typeof values.nics === 'string' ? values.nics : '1';
  const nics = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(nics >= 1 && nics <= l.maxNics)) throw new VpcnetError('USAGE', `--nics must be a whole number from 1 to ${l.maxNics} for ${l.size}, got "${text}"`);
  return { maxPods: azureMaxPods(nics), why: `${l.size}: ${MAX_PRIVATE_IPS_PER_VM} private IPs per VM - ${nics} NIC primaries, at most ${MAX_PODS_PER_NODE}` };
}
