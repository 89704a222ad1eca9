// Which subnet a new NIC goes into. Pure: the provider describes subnets, this decides.
import { VpcnetError } from '../../../src/errors.ts';

export interface SubnetCandidate {
  id: string;
  cidr: string;
  zone: string;
  vpcId: string;
  availableIps: number;
  tags: Record<string, string>;
}

export interface SubnetChoiceRules {
  zone: string;
  vpcId: string;
  /** Explicit subnet ids: only these are used. */
  subnetIds?: string[];
  /** Subnets carrying all these tags are preferred over the rest of the zone. */
  tags?: Record<string, string>;
}

/** Subnets tagged with this key set to "0" are never chosen unless listed explicitly. */
export const CNI_ROLE_TAG = 'kubernetes.io/role/cni';

/**
 * Order: configured ids, else subnets with the configured tags, else every subnet in the
 * node's zone and VPC; among those the one with the most free addresses (ties: lowest id).
 * NICs must live in the instance's zone, so other zones are never considered.
 */
export function chooseSubnet(candidates: SubnetCandidate[], rules: SubnetChoiceRules): SubnetCandidate {
  const local = candidates.filter((s) => s.zone === rules.zone && s.vpcId === rules.vpcId);
  let pool: SubnetCandidate[];
  if (rules.subnetIds && rules.subnetIds.length > 0) {
    const wanted = new Set(rules.subnetIds);
    pool = local.filter((s) => wanted.has(s.id));
    if (pool.length === 0) {
      throw new VpcnetError(
        'CONFIG_INVALID',
        `none of the configured subnets (${rules.subnetIds.join(', ')}) is in zone ${rules.zone} of ${rules.vpcId}`,
        { details: { subnetIds: rules.subnetIds, zone: rules.zone, vpcId: rules.vpcId } },
      );
    }
  } else {
    const usable = local.filter((s) => s.tags[CNI_ROLE_TAG] !== '0');
    const tags = Object.entries(rules.tags ?? {});
    const tagged = tags.length > 0 ? usable.filter((s) => tags.every(([k, v]) => s.tags[k] === v)) : [];
    pool = tagged.length > 0 ? tagged : usable;
  }
  const best = [...pool].sort((a, b) => b.availableIps - a.availableIps || a.id.localeCompare(b.id))[0];
  if (!best) {
    throw new VpcnetError('CONFIG_INVALID', `no usable subnet in zone ${rules.zone} of ${rules.vpcId}`, {
      details: { zone: rules.zone, vpcId: rules.vpcId },
    });
  }
  return best;
}
