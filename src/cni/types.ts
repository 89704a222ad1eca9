// The CNI handler's seams: what the socket server hands it and what it needs from the pool and
// the datapath. Narrow on purpose so the agent's wiring stays a few lines.
import type { Allocation, PodKey, PodRef } from '../ipam/types.ts';
import type { DatapathMode, HostNic } from '../datapath/datapath.ts';

/** One forwarder call: the CNI_* environment as the runtime set it and the raw stdin. */
export interface CniRequest {
  env: Record<string, string>;
  stdin: string;
  /** CNI_NETNS as the forwarder opened it (SCM_RIGHTS); owned by the socket server, which closes it. */
  netnsFd?: number;
  /** Why the forwarder could not open CNI_NETNS (e.g. "open: No such file or directory"). */
  netnsError?: string;
}

/** What the forwarder prints on stdout and the status it exits with. */
export interface CniResponse {
  exitCode: number;
  stdout: string;
}

/** The part of the pool manager the CNI handler uses. */
export interface CniIpam {
  /** Hands out an address; waits for the pool to refill up to the deadline (POOL_EXHAUSTED after). */
  allocate(pod: PodRef, opts: { deadlineMs: number }): Promise<Allocation>;
  /** Optional: the address at once, its checkpoint commit still running (`durable`); ADD overlaps it with the wiring. */
  allocateStaged?(pod: PodRef, opts: { deadlineMs: number }): Promise<{ allocation: Allocation; durable: Promise<void> }>;
  /** Returns the attachment's address to the pool; unknown keys are not an error. */
  release(key: PodKey): Promise<unknown>;
  /** The current allocation of an attachment, if any. */
  find(key: PodKey): Allocation | undefined;
  /** Every current allocation (GC compares them with the runtime's list). */
  list(): Allocation[];
  /** True when an ADD can be served now (STATUS). */
  ready(): boolean;
}

/** Finds the host's view of the NIC that holds an allocation (device index, gateway, MTU). */
export type NicResolver = (allocation: Allocation) => HostNic | Promise<HostNic>;

export interface CniSettings {
  mode: DatapathMode;
  /** Pod interface MTU. */
  mtu: number;
  /** How long ADD waits for a pool refill before answering "try again later". */
  addDeadlineMs: number;
  /** GC leaves allocations younger than this alone: the runtime may not list them yet. */
  gcGraceMs: number;
  /** Accepted CNI_NETNS locations (besides /proc/<pid>/ns/net). */
  netnsPathPrefixes: string[];
}

/** A pod netns decided once per request, by identity (device:inode of the nsfs file). */
export interface PodNetns {
  /** CNI_NETNS as given: a label for results and logs, never opened by the agent. */
  path: string;
  /** Open descriptor on the namespace (from the forwarder); absent with the in-memory inspector. */
  fd?: number;
  /** "dev:ino" of the namespace: two requests name the same netns iff these match. */
  id: string;
}

/** Turns the netns of an ADD or CHECK into a PodNetns, refusing what is not a pod's namespace. */
export interface NetnsInspector {
  inspect(path: string, req: CniRequest): PodNetns;
}
