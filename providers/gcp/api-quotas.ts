// Compute Engine API rate quotas, shared by the client (its rate limiter) and the emulator
// (which enforces them): per project, per group of methods, per minute, refilled at the start
// of each synchronized 60 s interval (a limit reached at 10:00:15 refills at 10:01:00), not
// continuously. Over quota: HTTP 403 with reason rateLimitExceeded.
// Source: https://cloud.google.com/compute/api-quota (docs/providers/gcp.md cites the figures).

/**
 * The groups the provider's calls draw from, with their quota metrics:
 * read (compute.googleapis.com/read_requests, *.get), list (list_requests, *.list),
 * operationRead (operation_read_requests, *Operations.get and .wait) and mutation
 * (compute.googleapis.com/default, every other method: insert, delete, updateNetworkInterface).
 */
export type QuotaGroup = 'read' | 'list' | 'mutation' | 'operationRead';

export const QUOTA_GROUPS: readonly QuotaGroup[] = ['read', 'list', 'mutation', 'operationRead'];

export const QUOTA_METRICS: Record<QuotaGroup, string> = {
  read: 'compute.googleapis.com/read_requests',
  list: 'compute.googleapis.com/list_requests',
  mutation: 'compute.googleapis.com/default',
  operationRead: 'compute.googleapis.com/operation_read_requests',
};

/** The published default per project per minute of each group. */
export const DEFAULT_QUOTAS: Record<QuotaGroup, number> = {
  read: 1500,
  list: 1500,
  mutation: 1500,
  operationRead: 1500,
};

/** Length of a quota interval. */
export const QUOTA_WINDOW_MS = 60_000;

/** The group a method (`instances.get`, `zoneOperations.wait`, ...) draws from. */
export function groupOf(method: string): QuotaGroup {
  if (method.endsWith('Operations.get') || method.endsWith('Operations.wait')) return 'operationRead';
  if (method.endsWith('.list') || method.endsWith('.aggregatedList')) return 'list';
  if (method.endsWith('.get')) return 'read';
  return 'mutation';
}

/** Ms from `now` until the next synchronized interval starts (`windowMs` shorter in sped-up emulations). */
export function msToNextWindow(now: number, windowMs = QUOTA_WINDOW_MS): number {
  return windowMs - (now % windowMs);
}
