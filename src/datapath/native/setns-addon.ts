// Loads the setns N-API addon (src/datapath/native/setns.c, built by build.sh into
// build/native/setns.node). Loaded lazily so that code paths that never enter another
// namespace (and unit tests) do not need the compiled addon.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VpcnetError } from '../../errors.ts';

export interface SetnsAddon {
  /** setns(fd, CLONE_NEWNET) for the calling thread; throws with code EBADF/EINVAL/EPERM/ESETNS. */
  setns(fd: number): void;
}

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
  if (typeof mod.setns !== 'function') {
    throw new VpcnetError('INTERNAL', 'setns addon has no setns() export', { details: { path } });
  }
  loaded = mod as SetnsAddon;
  return loaded;
}
