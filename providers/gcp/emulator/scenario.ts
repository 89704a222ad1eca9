// A scenario: the project, its networks and subnetworks (with secondary ranges) and the
// instances it starts with. DEFAULT_SCENARIO is what `vpcnet emulator gcp` runs without a file.
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';
import type { GceState } from './state.ts';

export const scenarioSchema = z.strictObject({
  project: z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/).optional(),
  projectNumber: z.string().regex(/^\d{6,20}$/).optional(),
  subnets: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        region: z.string().min(1),
        network: z.string().min(1).default('default'),
        ipCidrRange: z.string(),
        secondaryIpRanges: z.array(z.strictObject({ rangeName: z.string().min(1), ipCidrRange: z.string() })).default([]),
      }),
    )
    .default([]),
  instances: z
    .array(
      z.strictObject({
        /** Name; with `count`, the prefix of `<name>-<n>`. */
        name: z.string().min(1),
        zone: z.string().min(1),
        machineType: z.string().min(1).default('e2-standard-4'),
        subnet: z.string().min(1),
        canIpForward: z.boolean().optional(),
        mtu: z.number().int().min(576).max(8896).optional(),
        aliasIpRanges: z.array(z.strictObject({ ipCidrRange: z.string(), subnetworkRangeName: z.string().optional() })).optional(),
        count: z.number().int().positive().optional(),
        tags: z.array(z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/)).optional(),
      }),
    )
    .default([]),
});

export type Scenario = z.input<typeof scenarioSchema>;

export const DEFAULT_SCENARIO: Scenario = {
  project: 'vpcnet-demo',
  projectNumber: '383030834456',
  subnets: [
    {
      name: 'nodes',
      region: 'us-central1',
      network: 'vpc',
      ipCidrRange: '10.128.0.0/20',
      secondaryIpRanges: [
        { rangeName: 'pods', ipCidrRange: '10.4.0.0/14' },
        { rangeName: 'services', ipCidrRange: '10.8.0.0/20' },
      ],
    },
  ],
  instances: [
    { name: 'node-a', zone: 'us-central1-a', machineType: 'e2-standard-4', subnet: 'nodes' },
    { name: 'node-b', zone: 'us-central1-b', machineType: 'e2-standard-4', subnet: 'nodes' },
    { name: 'router-c', zone: 'us-central1-c', machineType: 'e2-standard-4', subnet: 'nodes', canIpForward: true },
  ],
};

export function parseScenario(input: unknown): z.output<typeof scenarioSchema> {
  const res = scenarioSchema.safeParse(input);
  if (!res.success) throw new VpcnetError('CONFIG_INVALID', 'invalid emulator scenario', { details: { issues: res.error.issues } });
  return res.data;
}

export interface ScenarioResult {
  subnets: string[];
  /** zone/name of each instance created. */
  instances: { zone: string; name: string }[];
}

export function applyScenario(state: GceState, input: unknown): ScenarioResult {
  const s = parseScenario(input);
  if (s.project !== undefined && s.project !== state.project) {
    throw new VpcnetError('CONFIG_INVALID', `scenario is for project "${s.project}", the emulator serves "${state.project}"`);
  }
  const out: ScenarioResult = { subnets: [], instances: [] };
  for (const sn of s.subnets) {
    state.createSubnet(sn);
    out.subnets.push(`${sn.region}/${sn.name}`);
  }
  for (const i of s.instances) {
    const n = i.count ?? 1;
    for (let k = 0; k < n; k++) {
      const name = i.count ? `${i.name}-${k}` : i.name;
      state.createInstance({
        name,
        zone: i.zone,
        machineType: i.machineType,
        subnet: i.subnet,
        ...(i.canIpForward !== undefined ? { canIpForward: i.canIpForward } : {}),
        ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
        ...(i.aliasIpRanges ? { aliasIpRanges: i.aliasIpRanges } : {}),
        ...(i.tags ? { tags: i.tags } : {}),
      });
      out.instances.push({ zone: i.zone, name });
    }
  }
  return out;
}
