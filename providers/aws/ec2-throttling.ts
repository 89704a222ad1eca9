// EC2's request token buckets, one table for the emulator (server side) and the client's own
// limiter. AWS throttles each API action in its own bucket ("limits are applied to individual
// API actions, not API action categories"); actions without a published figure of their own
// share their category's figure, each still in its own bucket. Source: "Request throttling for
// the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
// (request token bucket sizes and refill rates, checked 2026-12).

export interface Ec2BucketSpec {
  /** Tokens a full bucket holds (the burst). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

/** Actions with figures of their own. */
export const ACTION_BUCKETS = {
  AssignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  UnassignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  CreateNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  DeleteNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  ModifyNetworkInterfaceAttribute: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
} as const satisfies Record<string, Ec2BucketSpec>;

/** Category figures: every other mutating action, filtered/paginated describes, unfiltered ones. */
export const CATEGORY_BUCKETS = {
  mutating: { capacity: 50, refillPerSecond: 5 },
  describe: { capacity: 100, refillPerSecond: 20 },
  describeUnfiltered: { capacity: 50, refillPerSecond: 10 },
} as const satisfies Record<string, Ec2BucketSpec>;

export type Ec2OwnBucketAction = keyof typeof ACTION_BUCKETS;
export type Ec2Category = keyof typeof CATEGORY_BUCKETS;

/**
 * The bucket an action draws from. Actions with own figures are their own key; any other
 * action gets a bucket of its own too (`<category>:<action>`), sized by its category.
 * `filtered`: the describe names ids or filters, or pages with MaxResults.
 */
export function ec2BucketKey(action: string, filtered: boolean): string {
  if (action in ACTION_BUCKETS) return action;
  return `${ec2CategoryOf(action, filtered)}:${action}`;
}

export function ec2CategoryOf(action: string, filtered: boolean): Ec2Category {
  if (action.startsWith('Describe') || action.startsWith('Get') || action.startsWith('List')) return filtered ? 'describe' : 'describeUnfiltered';
  return 'mutating';
}

/** Published size and refill of the bucket behind `key` (see ec2BucketKey). */
export function ec2BucketSpec(key: string): Ec2BucketSpec {
  const own = (ACTION_BUCKETS as Record<string, Ec2BucketSpec>)[key];
  if (own) return own;
  const category = key.split(':', 1)[0] as Ec2Category;
  return CATEGORY_BUCKETS[category] ?? CATEGORY_BUCKETS.mutating;
}

/** True when a describe's input narrows or pages it (the larger, filtered bucket). */
export function isFilteredInput(input: object): boolean {
  const i = input as Record<string, unknown>;
  const nonEmpty = (v: unknown): boolean => Array.isArray(v) && v.length > 0;
  return Object.entries(i).some(([k, v]) => (k === 'Filters' || k.endsWith('Ids') || k === 'InstanceTypes') && nonEmpty(v)) || i.MaxResults !== undefined;
}
