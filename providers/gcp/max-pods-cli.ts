// GCE's part of `vpcnet max-pods`: by the prefix length of the node's pod range (GKE's table).
import { VpcnetError } from '../../src/errors.ts';
import type { OptionSpec } from '../../src/util/cli-args.ts';
import type { NodeLimits } from '../provider.ts';
import { maxPodsForRange } from './limits.ts';

export const selector = 'pod-range';

export const options: Record<string, OptionSpec> = {
  'pod-range': { type: 'string', value: '/LEN', description: "GCE: prefix length of the node's pod range, e.g. /24" },
};

/** A running node: the provider computed it from what the node has (NICs, pod range). */
export function forNode(_instanceType: string, limits: NodeLimits): number {
  return limits.maxPods;
}

export function maxPods(values: Record<string, string | boolean | undefined>): { maxPods: number; why: string } {
  const text = String(values['pod-range']);
  const m = /^\/?(\d{1,2})$/.exec(text.trim());
  const len = m ? Number(m[1]) : NaN;
  if (!(len >= 20 && len <= 28)) throw new VpcnetError('USAGE', `--pod-range must be a prefix length from /20 to /28, got "${text}"`);
  return { maxPods: maxPodsForRange(len), why: `/${len} pod range: half its addresses, at most 256 (GKE), 110 on a /24` };
}
