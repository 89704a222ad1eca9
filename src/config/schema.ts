// The agent's one configuration schema. Every leaf carries its environment variable, aliases
// (the AWS VPC CNI names where they exist) and a description; the loader and the reference
// generator read them from the registry below.
import { z } from 'zod';
import { isIP } from 'node:net';

export interface EnvAlias {
  name: string;
  /** Turns the alias's raw value into this key's value; undefined = treat as unset. */
  map?: (raw: string) => unknown;
  note?: string;
}

export interface FieldMeta {
  env: string;
  aliases?: EnvAlias[];
  description: string;
  /** Default shown in the reference where the schema cannot carry one (the union discriminator). */
  default?: unknown;
}

export const fieldMeta = z.registry<FieldMeta>();

const cidr = z.string().refine((s) => {
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || !ip || !len || !/^\d+$/.test(len)) return false;
  const v = isIP(ip);
  return v !== 0 && Number(len) <= (v === 4 ? 32 : 128);
}, 'expected a CIDR such as 10.0.0.0/16');
const listen = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'expected host:port');
const absPath = z.string().refine((p) => p.startsWith('/') && !p.split('/').includes('..'), 'expected an absolute path without ..');
const int = (min: number, max = Number.MAX_SAFE_INTEGER): z.ZodNumber => z.number().int().min(min).max(max);

function f<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  fieldMeta.add(schema, meta);
  return schema;
}

const parseBoolish = (raw: string): boolean | undefined => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  return undefined;
};

// One section per provider, chosen by `name` (a discriminated union): a key of another cloud's
// section is an error, not silently ignored. Keys several clouds share are one schema (one env
// variable).
export const PROVIDER_NAMES = ['aws', 'azure', 'gcp'] as const;

const providerNameMeta: FieldMeta = { env: 'VPCNET_PROVIDER', default: 'aws', description: 'Cloud provider of this node; selects the provider section' };
const providerName = <N extends (typeof PROVIDER_NAMES)[number]>(n: N): z.ZodLiteral<N> => f(z.literal(n), providerNameMeta);

const apiEndpoint = f(z.url().optional(), { env: 'VPCNET_API_ENDPOINT', description: 'Cloud API endpoint override (emulators, private endpoints)' });
const metadataEndpoint = f(z.url().optional(), { env: 'VPCNET_METADATA_ENDPOINT', description: 'Instance metadata endpoint override' });
const requestTimeoutMs = f(int(100).default(10000), { env: 'VPCNET_CLOUD_TIMEOUT_MS', description: 'Timeout of one cloud API call' });

const awsSection = z.strictObject({
  name: providerName('aws'),
  region: f(z.string().min(1).optional(), { env: 'VPCNET_REGION', aliases: [{ name: 'AWS_REGION' }], description: 'Region; default: from instance metadata' }),
  apiEndpoint,
  metadataEndpoint,
  subnetIds: f(z.array(z.string().min(1)).default([]), { env: 'VPCNET_SUBNET_IDS', description: 'Subnets for new NICs (comma list); empty: tagged subnets, else the primary NIC subnet' }),
  subnetTags: f(z.record(z.string(), z.string()).default({}), { env: 'VPCNET_SUBNET_TAGS', description: 'Pick subnets for new NICs by these tags (k=v,k=v)' }),
  securityGroups: f(z.array(z.string().min(1)).default([]), { env: 'VPCNET_SECURITY_GROUPS', description: 'Security groups for new NICs (comma list); empty: the primary NIC groups' }),
  requestTimeoutMs,
  throttleMaxSpacingMs: f(int(10000, 600000).default(120000), {
    env: 'VPCNET_EC2_THROTTLE_MAX_SPACING_MS',
    description: "Slowest spacing of one EC2 action's calls after repeated RequestLimitExceeded (x3 steps from 10 s, jittered 50-100 %)",
  }),
  nicFullCheckMs: f(int(60000).default(3600000), {
    env: 'VPCNET_NIC_FULL_CHECK_MS',
    description: "Full EC2 describe of the node's NICs after this long without a confirmed state (jittered 75-125 %); our own changes shown by metadata confirm it",
  }),
  nicFullCheckMaxMs: f(int(60000).default(7200000), {
    env: 'VPCNET_NIC_FULL_CHECK_MAX_MS',
    description: "Latest full EC2 describe of the node's NICs after the last one (jittered 75-100 %), however often our own changes were confirmed (at least nicFullCheckMs)",
  }),
});

const azureSection = z.strictObject({
  name: providerName('azure'),
  subscriptionId: f(z.string().min(1).optional(), { env: 'VPCNET_AZURE_SUBSCRIPTION_ID', description: 'Subscription of the node VM; default: from Azure IMDS' }),
  resourceGroup: f(z.string().min(1).optional(), { env: 'VPCNET_AZURE_RESOURCE_GROUP', description: 'Resource group of the node NICs; default: from Azure IMDS' }),
  managedIdentityClientId: f(z.string().min(1).optional(), { env: 'VPCNET_AZURE_CLIENT_ID', description: 'Client id of a user-assigned managed identity; default: the system-assigned one' }),
  apiEndpoint,
  metadataEndpoint,
  caFile: f(absPath.optional(), { env: 'VPCNET_AZURE_CA_FILE', description: 'Extra CA certificate (PEM) for the ARM endpoint (emulators with a self-signed certificate)' }),
  lroPollMs: f(int(10, 60000).default(1000), { env: 'VPCNET_AZURE_LRO_POLL_MS', description: 'Poll interval of ARM long-running operations (NIC PUTs)' }),
  requestTimeoutMs,
  identity: f(z.enum(['managed', 'workload']).optional(), {
    env: 'VPCNET_AZURE_IDENTITY',
    description: 'How the agent authenticates to ARM: managed (IMDS) or workload (federated token file); default: workload when a token file is set',
  }),
  tenantId: f(z.string().min(1).optional(), { env: 'VPCNET_AZURE_TENANT_ID', aliases: [{ name: 'AZURE_TENANT_ID' }], description: 'Tenant of the workload identity (set by the workload identity webhook)' }),
  workloadClientId: f(z.string().min(1).optional(), { env: 'VPCNET_AZURE_WORKLOAD_CLIENT_ID', aliases: [{ name: 'AZURE_CLIENT_ID' }], description: 'Client id of the workload identity (set by the webhook)' }),
  federatedTokenFile: f(absPath.optional(), { env: 'VPCNET_AZURE_FEDERATED_TOKEN_FILE', aliases: [{ name: 'AZURE_FEDERATED_TOKEN_FILE' }], description: 'Projected service account token exchanged for an ARM token (workload identity)' }),
  authorityHost: f(z.url().optional(), { env: 'VPCNET_AZURE_AUTHORITY_HOST', aliases: [{ name: 'AZURE_AUTHORITY_HOST' }], description: 'Microsoft Entra authority for workload identity; default: the public cloud' }),
  nicNames: f(z.array(z.string().min(1)).optional(), { env: 'VPCNET_AZURE_NIC_NAMES', description: "NICs of the VM the pool may use besides the primary (comma list); empty: all the VM's NICs" }),
});

const gcpSection = z.strictObject({
  name: providerName('gcp'),
  project: f(z.string().min(1).optional(), { env: 'VPCNET_GCP_PROJECT', description: 'Project of the node; default: from the metadata server' }),
  apiEndpoint,
  metadataEndpoint,
  rangeMode: f(z.enum(['alias-ip', 'route']).default('alias-ip'), { env: 'VPCNET_GCP_RANGE_MODE', description: 'How the node pod range is routed: an alias IP range on nic0, or a route to the node' }),
  secondaryRangeName: f(z.string().min(1).optional(), { env: 'VPCNET_GCP_SECONDARY_RANGE', description: 'Subnet secondary range alias ranges come from; default: the first one of the subnet' }),
  rangePrefixLength: f(int(16, 30).default(24), { env: 'VPCNET_GCP_RANGE_PREFIX_LENGTH', description: 'Size of the node pod range (24: 256 addresses, 110 pods as GKE)' }),
  podCidr: f(cidr.optional(), { env: 'VPCNET_GCP_POD_CIDR', description: "The node's pod range, adopted as alias range or routed; overrides Node.spec.podCIDR (read from the API server with Kubernetes on)" }),
  clusterCidr: f(cidr.optional(), { env: 'VPCNET_GCP_CLUSTER_CIDR', description: 'Route mode without a fixed pod range: node ranges are carved from this CIDR' }),
  routePriority: f(int(0, 65535).default(1000), { env: 'VPCNET_GCP_ROUTE_PRIORITY', description: 'Priority of node routes (route mode)' }),
  requestTimeoutMs,
});

/** A section without `name` is AWS's (the default provider). */
const provider = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !('name' in v) ? { ...v, name: 'aws' } : v),
  z.discriminatedUnion('name', [awsSection, azureSection, gcpSection]),
);

export type ProviderSection = z.output<typeof awsSection> | z.output<typeof azureSection> | z.output<typeof gcpSection>;
export type AwsSection = z.output<typeof awsSection>;

const pool = z.strictObject({
  warmNics: f(int(0).default(1), { env: 'VPCNET_WARM_NIC_TARGET', aliases: [{ name: 'WARM_ENI_TARGET' }], description: "Keep this many whole NICs' worth of free addresses" }),
  warmIps: f(int(0).optional(), { env: 'VPCNET_WARM_IP_TARGET', aliases: [{ name: 'WARM_IP_TARGET' }], description: 'Keep this many free addresses (overrides warmNics)' }),
  minimumIps: f(int(0).optional(), { env: 'VPCNET_MINIMUM_IP_TARGET', aliases: [{ name: 'MINIMUM_IP_TARGET' }], description: 'Hold at least this many addresses in total' }),
  warmPrefixes: f(int(0).optional(), { env: 'VPCNET_WARM_PREFIX_TARGET', aliases: [{ name: 'WARM_PREFIX_TARGET' }], description: 'Keep this many free prefixes (prefix delegation)' }),
  maxNics: f(int(1).optional(), {
    env: 'VPCNET_MAX_NICS',
    aliases: [{ name: 'MAX_ENI', map: (v) => (Number(v) < 0 ? undefined : v), note: '-1 = no limit' }],
    description: 'Use at most this many NICs, the primary included; default: the instance limit',
  }),
  maxPods: f(int(1).optional(), { env: 'VPCNET_MAX_PODS', description: 'Hand out at most this many addresses; default: the instance limit' }),
  maxAboveTarget: f(int(0).default(2), { env: 'VPCNET_MAX_ABOVE_TARGET', description: 'Free addresses tolerated above the target before releasing' }),
  cooldownMs: f(int(0).default(30000), {
    env: 'VPCNET_IP_COOLDOWN_MS',
    aliases: [{ name: 'IP_COOLDOWN_PERIOD', map: (v) => (/^\d+$/.test(v) ? Number(v) * 1000 : v), note: 'seconds' }],
    description: 'A released address rests this long before reuse',
  }),
  prefixDelegation: f(z.boolean().default(true), { env: 'VPCNET_PREFIX_DELEGATION', aliases: [{ name: 'ENABLE_PREFIX_DELEGATION' }], description: 'Use /28 prefixes where the node supports them (AWS: Nitro types); secondary IPs elsewhere' }),
});

const datapath = z.strictObject({
  mode: f(z.enum(['routed', 'ipvlan']).default('routed'), { env: 'VPCNET_DATAPATH_MODE', description: 'Pod wiring: routed veth (AWS VPC CNI style) or ipvlan L2' }),
  mtu: f(int(576, 9216).optional(), { env: 'VPCNET_MTU', aliases: [{ name: 'POD_MTU' }], description: 'Pod interface MTU; default: the NIC MTU' }),
  serviceCidr: f(cidr.optional(), { env: 'VPCNET_SERVICE_CIDR', description: 'Service CIDR sent via the host (ipvlan mode)' }),
  nodeNetns: f(absPath.optional(), {
    env: 'VPCNET_NODE_NETNS',
    description: "Wire pods from this network namespace instead of the agent's own (the simulated-VPC lab)",
  }),
});

const masquerade = z.strictObject({
  enabled: f(z.boolean().default(true), {
    env: 'VPCNET_MASQUERADE',
    aliases: [{ name: 'AWS_VPC_K8S_CNI_EXTERNALSNAT', map: (v) => { const b = parseBoolish(v); return b === undefined ? v : !b; }, note: 'inverted' }],
    description: 'SNAT traffic leaving the VPC to the node address (false: external SNAT)',
  }),
  nonMasqueradeCidrs: f(z.array(cidr).default([]), {
    env: 'VPCNET_NON_MASQUERADE_CIDRS',
    aliases: [{ name: 'AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS' }],
    description: 'Destinations never masqueraded, besides the VPC CIDRs (comma list)',
  }),
  masqueradeLinkLocal: f(z.boolean().default(false), { env: 'VPCNET_MASQUERADE_LINK_LOCAL', description: 'Also masquerade traffic to 169.254.0.0/16' }),
  ipMasqAgentConfigFile: f(absPath.optional(), {
    env: 'VPCNET_IP_MASQ_AGENT_CONFIG',
    description: 'Follow this ip-masq-agent config file (YAML/JSON, e.g. the ip-masq-agent ConfigMap mounted at /etc/config/ip-masq-agent); its set replaces nonMasqueradeCidrs and the VPC CIDRs',
  }),
  randomFully: f(z.boolean().default(true), {
    env: 'VPCNET_MASQUERADE_RANDOM_FULLY',
    aliases: [{ name: 'AWS_VPC_K8S_CNI_RANDOMIZESNAT', map: (v) => (v === 'none' ? false : v === 'prng' || v === 'hashrandom' ? true : v), note: 'none|prng|hashrandom' }],
    description: 'Fully random SNAT source ports',
  }),
});

const paths = z.strictObject({
  socket: f(absPath.default('/run/vpcnet/cni.sock'), { env: 'VPCNET_SOCKET', description: 'Agent socket the CNI forwarder connects to (its directory is root-only); written into the conflist as "agentSocket"' }),
  delSpoolDir: f(absPath.default('/var/lib/vpcnet/del-spool'), {
    env: 'VPCNET_DEL_SPOOL_DIR',
    description: 'Where the forwarder records DELs while the agent is down (root-only); written into the conflist as "delSpoolDir"',
  }),
  checkpoint: f(absPath.default('/var/lib/vpcnet/checkpoint.json'), { env: 'VPCNET_CHECKPOINT', description: 'Allocation checkpoint file' }),
  cniBinDir: f(absPath.default('/opt/cni/bin'), { env: 'VPCNET_CNI_BIN_DIR', description: 'Where the forwarder is installed as "vpcnet"' }),
  cniConfDir: f(absPath.default('/etc/cni/net.d'), { env: 'VPCNET_CNI_CONF_DIR', description: 'Where the conflist is written' }),
});

const cni = z.strictObject({
  addDeadlineMs: f(int(0).default(10000), { env: 'VPCNET_ADD_DEADLINE_MS', description: 'ADD waits this long for a pool refill, then answers try-again-later (11)' }),
  requestTimeoutMs: f(int(100, 55000).default(50000), { env: 'VPCNET_CNI_REQUEST_TIMEOUT_MS', description: "Agent-side limit per CNI request; below the forwarder's 60 s" }),
  gcGraceMs: f(int(0).default(60000), { env: 'VPCNET_GC_GRACE_MS', description: 'CNI GC spares attachments younger than this' }),
  chainPortmap: f(z.boolean().default(false), {
    env: 'VPCNET_CNI_CHAIN_PORTMAP',
    description: 'Chain the reference portmap plugin after vpcnet in the written conflist (hostPort, podman -p)',
  }),
  goneNetnsGraceMs: f(int(0).default(300000), {
    env: 'VPCNET_GONE_NETNS_GRACE_MS',
    description: 'An address whose netns no longer exists and that no pod view claims is released after this long (for runtimes that never send GC); 0 = never',
  }),
  netnsPathPrefixes: f(z.array(absPath).min(1).default(['/var/run/netns/', '/run/netns/', '/var/run/docker/netns/', '/run/docker/netns/']), {
    env: 'VPCNET_NETNS_PATH_PREFIXES',
    description: 'Directories CNI_NETNS may name (plus /proc/<pid>/ns/net)',
  }),
});

const reconcile = z.strictObject({
  enabled: f(z.boolean().default(true), { env: 'VPCNET_RECONCILE', description: 'Run the reconciler (kernel wiring vs allocations, leaked NIC clean-up)' }),
  intervalMs: f(int(1000).default(60000), { env: 'VPCNET_RECONCILE_INTERVAL_MS', description: 'Period of the reconciler; it also runs once at start' }),
  leakedNicGraceMs: f(int(0).default(600000), {
    env: 'VPCNET_LEAKED_NIC_GRACE_MS',
    description: 'Unattached NICs tagged for this cluster are deleted once older than this',
  }),
  leakedNicSoloSweepMs: f(int(1000).default(7200000), {
    env: 'VPCNET_LEAKED_NIC_SOLO_SWEEP_MS',
    description: 'Without Kubernetes (no sweep Lease) every node sweeps leaked NICs this often, jittered 50-150%; with Kubernetes only the Lease holder sweeps, every leakedNicGraceMs / 2',
  }),
});

const kubernetes = z.strictObject({
  enabled: f(z.boolean().optional(), {
    env: 'VPCNET_KUBERNETES',
    description: 'Use the Kubernetes API (pod watch, node readiness, events, NodeNetworkConfig); default: on when KUBERNETES_SERVICE_HOST is set or a kubeconfig is given',
  }),
  kubeconfig: f(absPath.optional(), {
    env: 'VPCNET_KUBECONFIG',
    aliases: [{ name: 'KUBECONFIG', map: (raw) => raw.split(':')[0], note: 'the first file of a list; files are not merged' }],
    description: 'Kubeconfig file; default: the in-cluster service account',
  }),
  serviceHost: f(z.string().min(1).optional(), { env: 'KUBERNETES_SERVICE_HOST', description: 'API server address for the in-cluster service account (the kubelet sets it in every pod)' }),
  servicePort: f(int(1, 65535).default(443), { env: 'KUBERNETES_SERVICE_PORT', description: 'API server port for the in-cluster service account (the kubelet sets it)' }),
  requestTimeoutMs: f(int(100).default(10000), { env: 'VPCNET_KUBE_TIMEOUT_MS', description: 'Timeout of one Kubernetes API call' }),
  annotatePodIps: f(z.boolean().default(false), { env: 'VPCNET_ANNOTATE_POD_IPS', description: 'Write each pod address to its annotation vpcnet.io/pod-ip (needs RBAC pods: patch)' }),
  podReconcileIntervalMs: f(int(100).default(60000), { env: 'VPCNET_POD_RECONCILE_INTERVAL_MS', description: 'How often addresses of pods deleted from the API server are released' }),
  goneGraceMs: f(int(0).default(60000), { env: 'VPCNET_POD_GONE_GRACE_MS', description: 'Addresses younger than this are never released as gone (the pod may be newer than the watch)' }),
  networkConfigWaitMs: f(int(0).default(30000), {
    env: 'VPCNET_NETWORK_CONFIG_WAIT_MS',
    description: 'After start, new NICs wait up to this long for the NodeNetworkConfig view; then provider.subnetIds/securityGroups apply',
  }),
});

export const configSchema = z
  .strictObject({
    clusterName: f(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/).default('vpcnet'), { env: 'VPCNET_CLUSTER_NAME', aliases: [{ name: 'CLUSTER_NAME' }], description: 'Tags the cloud objects this cluster creates' }),
    nodeName: f(z.string().min(1).optional(), { env: 'VPCNET_NODE_NAME', aliases: [{ name: 'MY_NODE_NAME' }], description: 'Kubernetes node name; default: the host name' }),
    logLevel: f(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), { env: 'VPCNET_LOG_LEVEL', description: 'Log level' }),
    apiListen: f(listen.default('127.0.0.1:61679'), { env: 'VPCNET_API_LISTEN', description: 'Local status API (host:port)' }),
    metricsListen: f(listen.default('127.0.0.1:61678'), { env: 'VPCNET_METRICS_LISTEN', description: 'Prometheus /metrics (host:port)' }),
    provider: provider.prefault({}),
    pool: pool.prefault({}),
    datapath: datapath.prefault({}),
    masquerade: masquerade.prefault({}),
    paths: paths.prefault({}),
    cni: cni.prefault({}),
    reconcile: reconcile.prefault({}),
    kubernetes: kubernetes.prefault({}),
  })
  .superRefine((c, ctx) => {
    // The forwarder reads both from the conflist with a small scanner (src/cni/native/forwarder.c).
    for (const key of ['socket', 'delSpoolDir'] as const) {
      const v = c.paths[key];
      if (!/^\/[a-zA-Z0-9/._-]+$/.test(v) || Buffer.byteLength(v) > (key === 'socket' ? 107 : 255)) {
        ctx.addIssue({ code: 'custom', path: ['paths', key], message: `must hold only letters, digits, / . _ - and be at most ${key === 'socket' ? 107 : 255} bytes` });
      }
    }
    if (c.cni.addDeadlineMs >= c.cni.requestTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['cni', 'addDeadlineMs'], message: 'must be below cni.requestTimeoutMs' });
    }
    if (c.pool.warmPrefixes !== undefined && !c.pool.prefixDelegation) {
      ctx.addIssue({ code: 'custom', path: ['pool', 'warmPrefixes'], message: 'needs pool.prefixDelegation' });
    }
  });

export type VpcnetConfig = z.output<typeof configSchema>;
