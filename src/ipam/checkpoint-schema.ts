// zod schemas of the checkpoint envelope; load() validates every byte it did not write itself.
// Strict: an unknown key is corruption (or a newer writer), never silently dropped. Each
// version keeps its schema; an older file is parsed with its own schema and migrated forward.
import { z } from 'zod';
import type { CheckpointData } from './types.ts';

export const CHECKPOINT_VERSION = 3;

const blockKind = z.enum(['ip', 'prefix', 'range']);

// ---- version 1 (main up to 7d36345): blocks {kind, cidr}, NICs without provider data ----------

const blockV1 = z.strictObject({ kind: blockKind, cidr: z.string().min(1) });

const nicFields = {
  id: z.string().min(1),
  deviceIndex: z.number().int().nonnegative(),
  mac: z.string(),
  subnetId: z.string(),
  subnetCidr: z.string(),
  primaryIp: z.string(),
  securityGroups: z.array(z.string()),
};

const allocation = z.strictObject({
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
  blockKind,
  nicId: z.string(),
  deviceIndex: z.number().int().nonnegative(),
  nicMac: z.string(),
  subnetCidr: z.string(),
  allocatedAt: z.number(),
});

const condition = z.strictObject({
  type: z.enum(['SubnetFull', 'CloudLimitReached', 'CloudPermissionDenied', 'CloudUnavailable']),
  message: z.string(),
  since: z.number(),
  until: z.number().optional(),
});

const dataFields = {
  allocations: z.array(allocation),
  lost: z.array(allocation),
  cooldowns: z.array(z.strictObject({ ip: z.string(), until: z.number() })),
  conditions: z.array(condition),
  prefixFallbackUntil: z.number().optional(),
};

const dataV1 = z.strictObject({ nics: z.array(z.strictObject({ ...nicFields, blocks: z.array(blockV1) })), ...dataFields });

// ---- version 2: blocks and NICs carry provider data (ref, state, mtu) -------------------------

const block = z.strictObject({
  kind: blockKind,
  cidr: z.string().min(1),
  ref: z.string().min(1).optional(),
  state: z.enum(['ready', 'pending', 'failed']).optional(),
});

const nic = z.strictObject({
  ...nicFields,
  blocks: z.array(block),
  ref: z.string().min(1).optional(),
  mtu: z.number().int().positive().optional(),
});

export const checkpointDataSchema = z.strictObject({ nics: z.array(nic), ...dataFields });

/** Only the version is read first, so a newer file is reported as such, not as corrupt. */
export const envelopeHeadSchema = z.object({ version: z.number().int().positive() });

const envelopeOf = <T extends z.ZodType>(version: number, data: T) =>
  z.strictObject({ version: z.literal(version), writtenAt: z.number(), data });

// ---- version 3: the envelope carries the commit's sequence number (file vs journal, see checkpoint.ts) --

const envelopeV3 = z.strictObject({ version: z.literal(3), writtenAt: z.number(), seq: z.number().int().nonnegative(), data: checkpointDataSchema });

/** Every version this agent reads, and how its data becomes today's. */
export const CHECKPOINT_READERS: Record<number, { schema: z.ZodType<{ version: number; writtenAt: number; seq?: number; data: unknown }>; migrate: (data: never) => CheckpointData }> = {
  // v1 -> v2: nothing to convert; v1 blocks simply have no provider data (AWS blocks never do).
  1: { schema: envelopeOf(1, dataV1), migrate: (data: z.output<typeof dataV1>) => data },
  2: { schema: envelopeOf(2, checkpointDataSchema), migrate: (data: z.output<typeof checkpointDataSchema>) => data },
  // v2 -> v3: same data; a v2 file has no sequence number (0: older than any journal record).
  3: { schema: envelopeV3, migrate: (data: z.output<typeof checkpointDataSchema>) => data },
};
