// The demo's options and their limits, checked before anything starts: the pods a node can
// hold follow from the instance type's NIC and address limits (routed mode: one secondary
// address per pod; each NIC's primary address is not handed out).
import type { NodeShape, NodeShapes } from '../lab/cloud-lab.ts';

export const DEMO_DEFAULTS = { nodes: 2, podsPerNode: 6, instanceType: 't3.medium' } as const;
/** Every node runs its agent in the demo's one process; more would only slow it down. */
export const MAX_DEMO_NODES = 8;

export interface CheckedDemoOptions {
  nodes: number;
  podsPerNode: number;
  instanceType: string;
}

/** Pod addresses one node of this type can hold in the demo (secondary addresses on all NICs). */
export function podCapacity(l: NodeShape): number {
  return l.maxNics * (l.ipv4PerNic - 1);
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
    return `--instance-type ${o.instanceType} is not an EC2 instance type the emulator knows${like.length ? ` (${family}: ${like.join(', ')}, ...)` : ''}`;
  }
  const cap = podCapacity(limits);
  if (!Number.isInteger(o.podsPerNode) || o.podsPerNode < 1) return `--pods must be a whole number of at least 1, got ${o.podsPerNode}`;
  if (o.podsPerNode > cap) {
    return (
      `--pods ${o.podsPerNode} is more than one ${o.instanceType} holds: ${limits.maxNics} NICs x ${limits.ipv4PerNic - 1} secondary addresses = ` +
      `${cap} pods (each pod takes one secondary address; a NIC's primary address is not handed out). Use --pods ${cap} or fewer, or a larger --instance-type`
    );
  }
  return undefined;
}
