// Loads the setns N-API addon (src/datapath/native/setns.c, built by build.sh into
// build/native/setns.node). Loaded lazily so that code paths that never enter another
// namespace (and unit tests) do not need the compiled addon.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VpcnetError } from '../../errors.ts';

export interface SetnsAddon {
  /** setns(fd, CLONE_NEWNET) for the calling thread; throws with code EBADF/EINVAL/EPERM/ESYSCALL. */
  setns(fd: number): void;
  /** ioctl(NS_GET_NSTYPE): the CLONE_NEW* flag of a namespace fd, -1 when the fd is no namespace. */
  nsType(fd: number): number;
  /** One non-blocking recvmsg() with room for SCM_RIGHTS fds (received close-on-exec); null when nothing is queued. */
  recvFds(fd: number, maxBytes: number): { data: Buffer; fds: number[]; truncated: boolean } | null;
  /** A NETLINK_ROUTE socket in the calling thread's netns (call inside setns). */
  rtnlSocket?(): number;
  /** RTM_DELLINK of `index` on the libuv thread pool; cb(errno), 0 when deleted. */
  delLink?(sock: number, index: number, cb: (errno: number) => void): void;
  /** cb once `fd` is readable or hung up (a uv_poll on the agent's loop); the returned cancel() stops the wait (call it before the fd closes). */
  whenReadable?(fd: number, cb: (errno: number) => void): () => void;
  /** renameat2(a, b, RENAME_EXCHANGE): swaps two existing names atomically; throws with code ENOENT/EINVAL/ENOSYS/ESYSCALL. */
  renameExchange?(a: string, b: string): void;
}

/** CLONE_NEWNET, what nsType() answers for a network namespace. */
export const CLONE_NEWNET = 0x40000000;

export const SETNS_ADDON_PATH = fileURLToPath(new URL('../../../build/native/setns.node', import.meta.url));

let loaded: SetnsAddon | undefined;

export function loadSetnsAddon(path: string = SETNS_ADDON_PATH): SetnsAddon {
  if (loaded) return loaded;
  if (!existsSync(path)) {
    throw new VpcnetError('INTERNAL', 'setns addon not built: run `bash src/datapath/native/build.sh` (deploy/bootstrap.sh does)', {
      details: { path },
    });
  }
  const mod = createRequire(import.meta.url)(path) as Partial<SetnsAddon>;
  if (typeof mod.setns !== 'function' || typeof mod.nsType !== 'function' || typeof mod.recvFds !== 'function') {
    throw new VpcnetError('INTERNAL', 'setns addon is out of date: rebuild it with `bash src/datapath/native/build.sh`', { details: { path } });
  }
  loaded = mod as SetnsAddon;
  return loaded;
}

/** The addon's renameExchange when the addon is built and has it (the checkpoint store falls back to rename without). */
export function optionalRenameExchange(path: string = SETNS_ADDON_PATH): ((a: string, b: string) => void) | undefined {
  try {
    return loadSetnsAddon(path).renameExchange;
  } catch {
    return undefined;
  }
}
