// Decides the pod netns of an ADD or CHECK once, before anything is allocated, by identity:
// the descriptor the forwarder opened in the runtime's mount namespace must be a network
// namespace, and not the node's own nor the host's initial one, whatever path named it.
// The agent never opens CNI_NETNS itself.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { VpcnetError } from '../errors.ts';
import { CLONE_NEWNET, loadSetnsAddon, type SetnsAddon } from '../datapath/native/setns-addon.ts';
import type { CniRequest, NetnsInspector, PodNetns } from './types.ts';

function refused(path: string, reason: string, extra: Record<string, unknown> = {}): VpcnetError {
  return new VpcnetError('NETNS_INVALID', `CNI_NETNS ${reason}`, { details: { variable: 'CNI_NETNS', netns: path, reason, ...extra } });
}

function idOf(st: { dev: number | bigint; ino: number | bigint }): string {
  return `${st.dev}:${st.ino}`;
}

/** Identity of a namespace file the agent itself chose (its own, the node's, PID 1's). */
function idOfPath(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  try {
    return idOf(fstatSync(fd, { bigint: true }));
  } finally {
    closeSync(fd);
  }
}

export interface FdNetnsInspectorOptions {
  /** The namespace that plays the node's root netns (lab); the agent's own is always refused too. */
  nodeNetns?: string;
  addon?: Pick<SetnsAddon, 'nsType'>;
  /** Told about a namespace file whose identity could not be read (the agent logs it). */
  onUnreadable?: (path: string) => void;
}

/** The real inspector: works on the descriptor passed by the forwarder. */
export class FdNetnsInspector implements NetnsInspector {
  private readonly forbidden: Map<string, string>;
  private readonly addon: Pick<SetnsAddon, 'nsType'>;

  constructor(opts: FdNetnsInspectorOptions = {}) {
    this.addon = opts.addon ?? loadSetnsAddon();
    this.forbidden = new Map();
    const own: Array<[string, string | undefined]> = [
      ['the host initial network namespace (PID 1)', '/proc/1/ns/net'],
      ["the agent's own network namespace", '/proc/self/ns/net'],
      ["the node's network namespace", opts.nodeNetns],
    ];
    for (const [what, path] of own) {
      const id = path ? idOfPath(path) : undefined;
      if (id) this.forbidden.set(id, what);
      // PID 1's namespace may be closed to us (another PID namespace, an LSM): then the forwarder,
      // also root here, cannot open it either, and a hostNetwork agent's own netns is refused anyway.
      else if (path && opts.onUnreadable) opts.onUnreadable(path);
    }
  }

  inspect(path: string, req: CniRequest): PodNetns {
    const fd = req.netnsFd;
    if (fd === undefined) {
      throw refused(path, req.netnsError ? `cannot be opened: ${req.netnsError}` : 'was not passed as a descriptor by the forwarder (is /opt/cni/bin/vpcnet out of date?)');
    }
    if (this.addon.nsType(fd) !== CLONE_NEWNET) throw refused(path, 'is not a network namespace');
    const id = idOf(fstatSync(fd, { bigint: true }));
    const what = this.forbidden.get(id);
    if (what) throw refused(path, `is ${what}, not a pod's`, { namespace: id });
    return { path, fd, id };
  }
}

/**
 * In-memory inspector for tests of the layers above (fake datapath, no namespaces): the path is
 * the identity (or `aliases` maps paths to one), `forbidden` identities play the node's and the
 * host's namespaces, and what the forwarder found at the path is ignored.
 */
export class MemoryNetnsInspector implements NetnsInspector {
  private readonly forbidden: Set<string>;
  private readonly aliases: Map<string, string>;

  constructor(opts: { forbidden?: string[]; aliases?: Record<string, string> } = {}) {
    this.forbidden = new Set(opts.forbidden ?? []);
    this.aliases = new Map(Object.entries(opts.aliases ?? {}));
  }

  inspect(path: string, _req: CniRequest): PodNetns {
    const id = this.aliases.get(path) ?? path;
    if (this.forbidden.has(id)) throw refused(path, "is the node's or the host's network namespace, not a pod's", { namespace: id });
    return { path, id };
  }
}
