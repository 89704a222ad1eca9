// Azure network limits shared by the ARM client (planning) and the emulator (enforcement).
// Sources (docs/providers/azure.md cites them): the VM size series pages of the Azure docs
// ("Max NICs" column), "Azure subscription and service limits" (networking: 256 private IP
// addresses per NIC and per VM), and "Understand how Azure Resource Manager throttles
// requests" (token buckets per subscription and principal; Microsoft.Network's own caps).

/** ipConfigurations per NIC, the primary included. */
export const MAX_IP_CONFIGS_PER_NIC = 256;
/** Private IP addresses (ipConfigurations) per VM, over all its NICs. */
export const MAX_PRIVATE_IPS_PER_VM = 256;
/** Azure CNI's ceiling of pods per node. */
export const MAX_PODS_PER_NODE = 250;
/** Prefix length of an IP prefix configuration (privateIPAddressPrefixLength). */
export const PREFIX_LENGTH = 28;
/** MTU of an Azure NIC. */
export const AZURE_MTU = 1500;

export interface VmSizeLimits {
  size: string;
  maxNics: number;
  vcpus: number;
}

// [size, max NICs, vCPUs], from the series pages' size tables.
const ROWS: Array<[string, number, number]> = [
  ['Standard_B1s', 2, 1],
  ['Standard_B1ms', 2, 1],
  ['Standard_B2s', 3, 2],
  ['Standard_B2ms', 3, 2],
  ['Standard_B4ms', 4, 4],
  ['Standard_B8ms', 4, 8],
  ['Standard_D2s_v3', 2, 2],
  ['Standard_D4s_v3', 2, 4],
  ['Standard_D8s_v3', 4, 8],
  ['Standard_D16s_v3', 8, 16],
  ['Standard_D32s_v3', 8, 32],
  ['Standard_D2s_v5', 2, 2],
  ['Standard_D4s_v5', 2, 4],
  ['Standard_D8s_v5', 4, 8],
  ['Standard_D16s_v5', 8, 16],
  ['Standard_D32s_v5', 8, 32],
  ['Standard_D64s_v5', 8, 64],
  ['Standard_D2ds_v5', 2, 2],
  ['Standard_D4ds_v5', 2, 4],
  ['Standard_D8ds_v5', 4, 8],
  ['Standard_D16ds_v5', 8, 16],
  ['Standard_D2as_v5', 2, 2],
  ['Standard_D4as_v5', 2, 4],
  ['Standard_D8as_v5', 4, 8],
  ['Standard_D16as_v5', 4, 16],
  ['Standard_D32as_v5', 8, 32],
  ['Standard_E2s_v5', 2, 2],
  ['Standard_E4s_v5', 2, 4],
  ['Standard_E8s_v5', 4, 8],
  ['Standard_E16s_v5', 8, 16],
  ['Standard_F2s_v2', 2, 2],
  ['Standard_F4s_v2', 2, 4],
  ['Standard_F8s_v2', 4, 8],
  ['Standard_F16s_v2', 4, 16],
  ['Standard_F32s_v2', 8, 32],
];

const TABLE = new Map<string, VmSizeLimits>(ROWS.map(([size, maxNics, vcpus]) => [size.toLowerCase(), { size, maxNics, vcpus }]));

/** Limits of a VM size (case-insensitive, as ARM treats sizes); undefined when unknown. */
export function vmSizeLimits(size: string): VmSizeLimits | undefined {
  return TABLE.get(size.toLowerCase());
}

export function knownVmSizes(): string[] {
  return ROWS.map(([s]) => s);
}

/** Pods a node can run: one address per pod from the VM's 256, minus each NIC's primary, capped at Azure CNI's 250. */
export function azureMaxPods(nics: number): number {
  return Math.max(1, Math.min(MAX_PODS_PER_NODE, MAX_PRIVATE_IPS_PER_VM - nics));
}

/** ARM's published token buckets (per subscription, per principal, per region). */
export const ARM_BUCKETS = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
} as const;

/** Microsoft.Network's own caps per subscription and region: 10,000 reads and 1,000 writes/deletes per 5 minutes. */
export const NETWORK_RP_LIMITS = {
  reads: { perWindow: 10_000, windowMs: 300_000 },
  writes: { perWindow: 1_000, windowMs: 300_000 },
} as const;

export type ArmOpClass = keyof typeof ARM_BUCKETS;
