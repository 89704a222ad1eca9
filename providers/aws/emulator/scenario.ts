// A scenario file: the VPCs, subnets and instances an emulated account starts with.
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';
import type { Ec2State } from './state.ts';

const tags = z.record(z.string(), z.string());

export const scenarioSchema = z.strictObject({
  region: z.string().optional(),
  vpcs: z
    .array(
      z.strictObject({
        id: z.string().optional(),
        cidr: z.string(),
        extraCidrs: z.array(z.string()).optional(),
        isDefault: z.boolean().optional(),
        tags: tags.optional(),
        subnets: z
          .array(
            z.strictObject({
              id: z.string().optional(),
              cidr: z.string(),
              az: z.string().optional(),
              defaultForAz: z.boolean().optional(),
              tags: tags.optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  instances: z
    .array(
      z.strictObject({
        id: z.string().optional(),
        instanceType: z.string(),
        /** Subnet id, or the CIDR of a subnet defined above. */
        subnet: z.string(),
        securityGroups: z.array(z.string()).optional(),
        tags: tags.optional(),
        /** Launch this many alike instances (ids are generated; `id` must be unset). */
        count: z.number().int().positive().optional(),
      }),
    )
    .default([]),
});

export type Scenario = z.input<typeof scenarioSchema>;

export interface ScenarioResult {
  vpcIds: string[];
  subnetIds: string[];
  instanceIds: string[];
}

/**
 * The account `vpcnet emulator aws` starts with when no scenario is given: the region's
 * default VPC as EC2 creates it (172.31.0.0/16, one /20 per zone, default for its zone) and a
 * few running instances of common types (x86 Nitro, burstable, Graviton).
 */
export function defaultScenario(region: string): Scenario {
  const zones = ['a', 'b', 'c'].map((l) => `${region}${l}`);
  const subnets = zones.map((az, i) => ({ cidr: `172.31.${i * 16}.0/20`, az, defaultForAz: true }));
  return {
    region,
    vpcs: [{ cidr: '172.31.0.0/16', isDefault: true, subnets }],
    instances: [
      { instanceType: 'm5.large', subnet: subnets[0]!.cidr, count: 2, tags: { Name: 'node' } },
      { instanceType: 't3.medium', subnet: subnets[1]!.cidr, tags: { Name: 'node' } },
      { instanceType: 'm7g.large', subnet: subnets[2]!.cidr, tags: { Name: 'node' } },
    ],
  };
}

export function parseScenario(input: unknown): z.output<typeof scenarioSchema> {
  const res = scenarioSchema.safeParse(input);
  if (!res.success) {
    throw new VpcnetError('CONFIG_INVALID', 'invalid emulator scenario', { details: { issues: res.error.issues } });
  }
  return res.data;
}

export function applyScenario(state: Ec2State, input: unknown): ScenarioResult {
  const s = parseScenario(input);
  const out: ScenarioResult = { vpcIds: [], subnetIds: [], instanceIds: [] };
  const byCidr = new Map<string, string>();
  for (const v of s.vpcs) {
    const vpc = state.createVpc({
      cidr: v.cidr,
      ...(v.extraCidrs ? { extraCidrs: v.extraCidrs } : {}),
      ...(v.id ? { id: v.id } : {}),
      ...(v.isDefault ? { isDefault: true } : {}),
      ...(v.tags ? { tags: v.tags } : {}),
    });
    out.vpcIds.push(vpc.id);
    for (const sn of v.subnets) {
      const subnet = state.createSubnet({
        vpcId: vpc.id,
        cidr: sn.cidr,
        ...(sn.az ? { az: sn.az } : {}),
        ...(sn.tags ? { tags: sn.tags } : {}),
        ...(sn.defaultForAz ? { defaultForAz: true } : {}),
        ...(sn.id ? { id: sn.id } : {}),
      });
      byCidr.set(subnet.cidr, subnet.id);
      out.subnetIds.push(subnet.id);
    }
  }
  for (const i of s.instances) {
    const subnetId = byCidr.get(i.subnet) ?? i.subnet;
    for (let n = 0; n < (i.count ?? 1); n++) {
      const inst = state.createInstance({
        instanceType: i.instanceType,
        subnetId,
        ...(i.securityGroups ? { securityGroups: i.securityGroups } : {}),
        ...(i.tags ? { tags: i.tags } : {}),
        ...(i.id && !i.count ? { id: i.id } : {}),
      });
      out.instanceIds.push(inst.id);
    }
  }
  return out;
}
