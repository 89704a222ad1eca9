// The one registry of cloud providers: name -> lazy loaders of what each cloud brings (the
// provider factory the agent uses, its emulator, the standalone `vpcnet emulator <cloud>`
// command, the binding that lets the emulator's state drive the lab's fabric). Everything is
// loaded on demand (dynamic import), so an agent on one cloud never loads another cloud's SDK.
// Adding a cloud = a folder under providers/ and one line here.
import type { Logger } from 'pino';
import type { VpcnetConfig } from '../src/config/schema.ts';
import type { Metrics } from '../src/metrics/metrics.ts';
import type { OptionSpec } from '../src/util/cli-args.ts';
import type { Clock } from '../src/util/clock.ts';
import type { CloudProvider, ClusterServices, NodeLimits, ProviderName } from './provider.ts';

export interface ProviderDeps {
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Fixed credentials (the demo and tests against emulators); default: the SDK's chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Present when the agent runs with Kubernetes: cluster-wide locks, the Node's pod ranges. */
  cluster?: ClusterServices;
}

/** providers/<cloud>/provider-entry.ts */
export interface ProviderModule {
  createProvider(config: VpcnetConfig, deps: ProviderDeps): CloudProvider;
}

/** providers/<cloud>/emulator/standalone.ts: `vpcnet emulator <cloud> [options]`, foreground until SIGINT/SIGTERM. */
export interface StandaloneEmulatorModule {
  runStandaloneEmulator(argv: string[]): Promise<void>;
}

/** providers/<cloud>/max-pods-cli.ts: that cloud's part of `vpcnet max-pods` (limits tables, no cloud call). */
export interface MaxPodsModule {
  /** The option that picks this cloud, e.g. 'instance-type'. */
  selector: string;
  /** This cloud's options, the selector included. */
  options: Record<string, OptionSpec>;
  /** Throws VpcnetError USAGE or UNKNOWN_INSTANCE_TYPE on a user's mistake. */
  maxPods(values: Record<string, string | boolean | undefined>): { maxPods: number; why: string };
  /** The same figure for a running node: its type, its limits, whether it grows by prefixes. */
  forNode(instanceType: string, limits: NodeLimits, prefixDelegation: boolean): number;
}

export interface CloudEntry<Emulator = unknown, Lab = unknown> {
  provider: () => Promise<ProviderModule>;
  emulator: () => Promise<Emulator>;
  standaloneEmulator: () => Promise<StandaloneEmulatorModule>;
  lab: () => Promise<Lab>;
  maxPods: () => Promise<MaxPodsModule>;
}

export const CLOUDS = {
  aws: {
    provider: () => import('./aws/provider-entry.ts'),
    emulator: () => import('./aws/emulator/index.ts'),
    standaloneEmulator: () => import('./aws/emulator/standalone.ts'),
    lab: () => import('./aws/lab-binding.ts'),
    maxPods: () => import('./aws/max-pods-cli.ts'),
  },
  azure: {
    provider: () => import('./azure/provider-entry.ts'),
    emulator: () => import('./azure/emulator/index.ts'),
    standaloneEmulator: () => import('./azure/emulator/standalone.ts'),
    lab: () => import('./azure/lab-binding.ts'),
    maxPods: () => import('./azure/max-pods-cli.ts'),
  },
  gcp: {
    provider: () => import('./gcp/provider-entry.ts'),
    emulator: () => import('./gcp/emulator/index.ts'),
    standaloneEmulator: () => import('./gcp/emulator/standalone.ts'),
    lab: () => import('./gcp/lab-binding.ts'),
    maxPods: () => import('./gcp/max-pods-cli.ts'),
  },
} satisfies Partial<Record<ProviderName, CloudEntry>>;

export type AvailableCloud = keyof typeof CLOUDS;

export function availableClouds(): AvailableCloud[] {
  return Object.keys(CLOUDS) as AvailableCloud[];
}

export function isAvailableCloud(name: string): name is AvailableCloud {
  return Object.hasOwn(CLOUDS, name);
}
