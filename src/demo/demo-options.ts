// The demo's options and their limits, checked before anything starts: the pods a node can
// hold follow from the instance type's NIC and address limits (routed mode: one secondary
// address per pod; each NIC's primary address is not handed out).
import type { NodeShapes } from '../lab/cloud-lab.ts';

export type DemoCloud = 'aws' | 'azure' | 'gcp';
export const DEMO_CLOUDS: readonly DemoCloud[] = ['aws', 'azure', 'gcp'];
export const DEMO_DEFAULTS = { cloud: 'aws', nodes: 2, podsPerNode: 6, instanceType: 't3.medium' } as const;
const DEFAULT_TYPES: Record<DemoCloud, string> = { aws: 't3.medium', azure: 'Standard_D4s_v5', gcp: 'e2-standard-4' };

export function defaultInstanceType(cloud: DemoCloud): string {
  return DEFAULT_TYPES[cloud];
}
/** What --prefix accepts: namespace names stay short, and `Lab.cleanupStale` matches them exactly. */
export const LAB_PREFIX = /^[a-z][a-z0-9]{2,9}$/;

/** Every node runs its agent in the demo's one process; more would only slow it down. */
export const MAX_DEMO_NODES = 8;

export interface CheckedDemoOptions {
  nodes: number;
  podsPerNode: number;
  instanceType: string;
}


/** The problem with the options, in one line, or undefined when they are fine. */
export function demoOptionsProblem(o: CheckedDemoOptions, shapes: NodeShapes): string | undefined {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_DEMO_NODES) {
    return `--nodes must be a whole number from 1 to ${MAX_DEMO_NODES} (each node runs a vpcnet agent in this one process), got ${o.nodes}`;
  }
  const limits = shapes.shapeOf(o.instanceType);
  if (!limits) {
    const family = o.instanceType.split('.')[0] ?? '';
    const like = [...shapes.types()].filter((t) => t.startsWith(`${family}.`)).slice(0, 6);
    return `--instance-type ${o.instanceType} is not an ${shapes.typeWords} the emulator knows${like.length ? ` (${family}: ${like.join(', ')}, ...)` : ''}`;
  }
  const cap = limits.pods;
  if (!Number.isInteger(o.podsPerNode) || o.podsPerNode < 1) return `--pods must be a whole number of at least 1, got ${o.podsPerNode}`;
  if (o.podsPerNode > cap) {
    return (
      `--pods ${o.podsPerNode} is more than one ${o.instanceType} holds: ${limits.why} = ${cap} pods${limits.note ? ` (${limits.note})` : ''}. ` +
      `Use --pods ${cap} or fewer, or a larger --instance-type`
    );
  }
  return undefined;
}
