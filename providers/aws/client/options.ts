// Plain typed options of the AWS provider. The agent's validated config maps onto this.
import type { Logger } from 'pino';
import type { Metrics } from '../../../src/metrics/metrics.ts';
import type { Clock } from '../../../src/util/clock.ts';
import type { BackoffPolicy } from '../../kit/retry.ts';
import type { Ec2QueryOptions } from './ec2-query.ts';
import type { Ec2Transport } from './ec2-types.ts';
import type { Ec2RateLimiter } from './rate-limiter.ts';

export interface AwsProviderOptions {
  /** Cluster name: tags every NIC we create and scopes leak clean-up to this cluster. */
  clusterName: string;
  /** Region; default: from instance metadata. */
  region?: string;
  /** EC2 endpoint URL, e.g. an emulator's http://127.0.0.1:4566; default: the region's regional endpoint. */
  ec2Endpoint?: string;
  /** Instance metadata base URL; default http://169.254.169.254. */
  metadataEndpoint?: string;
  /** Static credentials or a provider of them; default: the AWS SDK's chain (env, IRSA web identity, ECS, instance profile). */
  credentials?: Ec2QueryOptions['credentials'];
  /** New NICs go only into these subnets (those in the node's zone). */
  subnetIds?: string[];
  /** Else subnets carrying all these tags are preferred; default {'kubernetes.io/role/cni': '1'}. */
  subnetTags?: Record<string, string>;
  /** Security groups of new NICs; default: the primary NIC's groups. */
  securityGroups?: string[];
  /** Offer /28 prefix blocks on Nitro instance types. Default true (Xen types get secondary IPs). */
  prefixDelegation?: boolean;
  /**
   * Where single addresses go while prefix delegation is on: 'aware' (default) names them inside
   * /28s already broken, reading the subnet's NICs first (subnet-usage.ts); 'any' lets EC2 pick.
   */
  singlePlacement?: 'aware' | 'any';
  /** How long one read of a subnet's used addresses is trusted. Default 60 s. */
  subnetUsageTtlMs?: number;
  /**
   * Node state: EC2 is described again only when metadata disagrees for this long (drift
   * outlasting metadata's lag; doubles while the disagreement stays), default 30 s, and
   * `fullCheckMs` (jittered 75-125%, default 1 h) after the last confirmed state (a listing, or
   * our own change shown by metadata), at the latest `fullCheckMaxMs` (default 2 h, jittered
   * 75-100%) after the last listing (nic-view.ts).
   */
  nicState?: { driftCooldownMs?: number; fullCheckMs?: number; fullCheckMaxMs?: number };
  /** Slowest spacing of one bucket's calls after repeated throttling, when the provider makes its own limiter; default 120 s (rate-limiter.ts). */
  throttleMaxIntervalMs?: number;
  /** Subnet candidates per zone are cached this long (and refreshed on a full subnet). Default 6 h. */
  subnetCacheMs?: number;
  /** Extra tags put on every NIC we create. */
  extraTags?: Record<string, string>;
  timeouts?: {
    /** One EC2 HTTP request. Default 10 s. */
    requestMs?: number;
    /** TCP connect to EC2. Default 3 s. */
    connectMs?: number;
    /** One metadata request. Default 2 s. */
    metadataMs?: number;
    /** Waiting for a NIC to reach attached / available. Default 60 s. */
    attachWaitMs?: number;
  };
  /** Retry policy for EC2 calls; deadline bounds one logical call. */
  backoff?: Partial<BackoffPolicy>;
  /** Retry policy for metadata; default: a 10 s deadline. */
  metadataBackoff?: Partial<BackoffPolicy>;
  /** Share one limiter between providers of a process (the scale benchmark does). */
  rateLimiter?: Ec2RateLimiter;
  /** IMDSv2 token TTL, seconds. Default 21600. */
  metadataTokenTtlSeconds?: number;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Jitter source; tests pass a fixed one. */
  random?: () => number;
  /** Replaces the EC2 Query client (tests: a script, or the AWS SDK's client through test/support/aws-sdk-transport.ts). */
  transport?: Ec2Transport;
}

/** Tag keys on NICs we create. */
export const TAGS = {
  cluster: 'vpcnet.io/cluster-name',
  createdAt: 'vpcnet.io/created-at',
  instanceId: 'node.k8s.amazonaws.com/instance_id',
  /** AWS VPC CNI's cluster tag, so its tooling and cost reports see our NICs too. */
  awsCluster: 'cluster.k8s.amazonaws.com/name',
  /** NICs tagged with this set to "true" are left alone (as AWS's VPC CNI does). */
  noManage: 'node.k8s.amazonaws.com/no_manage',
} as const;

export const DEFAULT_SUBNET_TAGS: Record<string, string> = { 'kubernetes.io/role/cni': '1' };
