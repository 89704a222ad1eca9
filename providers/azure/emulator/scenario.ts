// Scenario files: the subscription's VNets, subnets and VMs (standalone or scale-set
// instances) an emulator starts with. Validated; a bad file is one clear error.
import { z } from 'zod';
import { VpcnetError } from '../../../src/errors.ts';
import type { AzureState } from './state.ts';

const vmSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/),
  size: z.string().min(1).default('Standard_D4s_v5'),
  zone: z.string().default('1'),
  /** "vnet/subnet" in the scenario's resource group. */
  subnet: z.string().regex(/^[^/]+\/[^/]+$/),
  nics: z.number().int().min(1).max(8).default(1),
  /** A scale-set instance: the VM is `${scaleSet}_${instanceId}`. */
  scaleSet: z.string().optional(),
  instanceId: z.string().optional(),
  /** NIC limit for a size outside vpcnet's table. */
  maxNics: z.number().int().min(1).max(8).optional(),
});

export const scenarioSchema = z.strictObject({
  resourceGroup: z.string().min(1).default('vpcnet-rg'),
  location: z.string().min(1).default('eastus'),
  vnets: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        addressPrefixes: z.array(z.string()).min(1),
        subnets: z.array(z.strictObject({ name: z.string().min(1), addressPrefix: z.string() })).min(1),
      }),
    )
    .min(1),
  vms: z.array(vmSchema).default([]),
});

export type Scenario = z.input<typeof scenarioSchema>;

export interface ScenarioResult {
  resourceGroup: string;
  vms: Array<{ name: string; id: string; size: string; scaleSet?: string; nics: string[] }>;
}

export const DEFAULT_SCENARIO: Scenario = {
  resourceGroup: 'vpcnet-rg',
  location: 'eastus',
  vnets: [{ name: 'vpcnet-vnet', addressPrefixes: ['10.1.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: '10.1.0.0/20' }] }],
  vms: [
    { name: 'node-1', size: 'Standard_D4s_v5', subnet: 'vpcnet-vnet/nodes' },
    { name: 'node-2', size: 'Standard_D8s_v5', subnet: 'vpcnet-vnet/nodes', nics: 2 },
    { name: 'vmss', scaleSet: 'vpcnet-pool', instanceId: '0', size: 'Standard_D4s_v5', subnet: 'vpcnet-vnet/nodes' },
  ],
};

export function parseScenario(input: unknown): z.output<typeof scenarioSchema> {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new VpcnetError('CONFIG_INVALID', `invalid azure scenario: ${first?.path.join('.') ?? ''}: ${first?.message ?? ''}`, { details: { issues: r.error.issues } });
  }
  return r.data;
}

export function applyScenario(state: AzureState, input: unknown): ScenarioResult {
  const sc = parseScenario(input);
  const rg = sc.resourceGroup;
  for (const v of sc.vnets) {
    state.addVnet(rg, v.name, sc.location, v.addressPrefixes);
    for (const s of v.subnets) state.addSubnet(rg, v.name, s.name, s.addressPrefix);
  }
  const vms = sc.vms.map((v) => {
    const [vnet, subnet] = v.subnet.split('/') as [string, string];
    const vm = state.createVm({
      name: v.name,
      rg,
      size: v.size,
      zone: v.zone,
      location: sc.location,
      subnetKey: state.subnetKey(rg, vnet, subnet),
      nics: v.nics,
      ...(v.scaleSet ? { scaleSet: { name: v.scaleSet, instanceId: v.instanceId ?? '0' } } : {}),
      ...(v.maxNics ? { maxNics: v.maxNics } : {}),
    });
    return { name: vm.name, id: vm.id, size: vm.size, ...(v.scaleSet ? { scaleSet: v.scaleSet } : {}), nics: vm.nicIds };
  });
  return { resourceGroup: rg, vms };
}
