// AWS's part of `vpcnet max-pods`: the calculator's rules over the instance-type table.
import { VpcnetError, isVpcnetError } from '../../src/errors.ts';
import type { NodeLimits } from '../provider.ts';
import type { OptionSpec } from '../../src/util/cli-args.ts';
import { awsMaxPods } from './instance-types/max-pods.ts';

export const selector = 'instance-type';

export const options: Record<string, OptionSpec> = {
  'instance-type': { type: 'string', value: 'TYPE', description: 'AWS: EC2 instance type, e.g. m5.large' },
  'prefix-delegation': { type: 'boolean', description: 'AWS: /28 prefixes on the ENIs (Nitro types)' },
  'custom-networking': { type: 'boolean', description: 'AWS: pods on secondary ENIs only (the primary ENI carries none)' },
  'max-enis': { type: 'string', value: 'N', description: 'AWS: use at most N ENIs for pods' },
  'show-max-allowed': { type: 'boolean', description: 'AWS: the ENI formula alone, without the 110/250 ceiling' },
  vcpus: { type: 'string', value: 'N', description: "AWS: the type's vCPUs, where the table cannot tell" },
};

function whole(values: Record<string, string | boolean | undefined>, name: string, max: number): number | undefined {
  const v = values[name];
  if (typeof v !== 'string') return undefined;
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!(n >= 1 && n <= max)) throw new VpcnetError('USAGE', `--${name} must be a whole number from 1 to ${max}, got "${v}"`);
  return n;
}

/** The calculator's figure for a running node; the provider's own limit where the table cannot tell. */
export function forNode(instanceType: string, limits: NodeLimits, prefixDelegation: boolean): number {
  try {
    return awsMaxPods(instanceType, { prefixDelegation: prefixDelegation && limits.blockKinds.includes('prefix') }).maxPods;
  } catch (err) {
    if (isVpcnetError(err, 'UNKNOWN_INSTANCE_TYPE')) return limits.maxPods;
    throw err;
  }
}

export function maxPods(values: Record<string, string | boolean | undefined>): { maxPods: number; why: string } {
  const type = String(values['instance-type']);
  const maxEnis = whole(values, 'max-enis', 64);
  const vcpus = whole(values, 'vcpus', 4096);
  const r = awsMaxPods(type, {
    prefixDelegation: values['prefix-delegation'] === true,
    customNetworking: values['custom-networking'] === true,
    showMaxAllowed: values['show-max-allowed'] === true,
    ...(maxEnis === undefined ? {} : { maxEnis }),
    ...(vcpus === undefined ? {} : { vcpus }),
  });
  const per = r.mode === 'prefix' ? '(IPv4 per ENI - 1) x 16' : '(IPv4 per ENI - 1)';
  const ceiling = r.ceiling === undefined ? '' : `; at most ${r.ceiling} with ${r.vcpus} vCPUs`;
  return { maxPods: r.maxPods, why: `${type}: ${r.mode}, ${r.enis} ENIs x ${per} + 2 = ${r.maxAllowed}${ceiling}` };
}
