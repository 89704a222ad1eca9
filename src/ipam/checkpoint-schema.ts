// zod schema of the checkpoint envelope; load() validates every byte it did not write itself.
import { z } from 'zod';

export const CHECKPOINT_VERSION = 1;

const block = z.object({ kind: z.enum(['ip', 'prefix', 'range']), cidr: z.string().min(1) });

const nic = z.object({
  id: z.string().min(1),
  deviceIndex: z.number().int().nonnegative(),
  mac: z.string(),
  subnetId: z.string(),
  subnetCidr: z.string(),
  primaryIp: z.string(),
  securityGroups: z.array(z.string()),
  blocks: z.array(block),
});

const allocation = z.object({
  containerId: z.string().min(1),
  ifname: z.string().min(1),
  netns: z.string().optional(),
  netnsId: z.string().optional(),
  confDigest: z.string().optional(),
  podNamespace: z.string().optional(),
  podName: z.string().optional(),
  podUid: z.string().optional(),
  ip: z.string().min(1),
  blockCidr: z.string(),
  blockKind: z.enum(['ip', 'prefix', 'range']),
  nicId: z.string(),
  deviceIndex: z.number().int().nonnegative(),
  nicMac: z.string(),
  subnetCidr: z.string(),
  allocatedAt: z.number(),
});

const condition = z.object({
  type: z.enum(['SubnetFull', 'CloudLimitReached', 'CloudPermissionDenied', 'CloudUnavailable']),
  message: z.string(),
  since: z.number(),
  until: z.number().optional(),
});

export const checkpointDataSchema = z.object({
  nics: z.array(nic),
  allocations: z.array(allocation),
  lost: z.array(allocation),
  cooldowns: z.array(z.object({ ip: z.string(), until: z.number() })),
  conditions: z.array(condition),
  prefixFallbackUntil: z.number().optional(),
});

/** Only the version is read first, so a newer file is reported as such, not as corrupt. */
export const envelopeHeadSchema = z.object({ version: z.number().int().positive() });

export const envelopeSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  writtenAt: z.number(),
  data: checkpointDataSchema,
});
