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
        subnets: z
          .array(
            z.strictObject({
              id: z.string().optional(),
              cidr: z.string(),
              az: z.string().optional(),
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
    const vpc = state.createVpc({ cidr: v.cidr, ...(v.extraCidrs ? { extraCidrs: v.extraCidrs } : {}), ...(v.id ? { id: v.id } : {}) });
    out.vpcIds.push(vpc.id);
    for (const sn of v.subnets) {
      const subnet = state.createSubnet({
        vpcId: vpc.id,
        cidr: sn.cidr,
        ...(sn.az ? { az: sn.az } : {}),
        ...(sn.tags ? { tags: sn.tags } : {}),
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
