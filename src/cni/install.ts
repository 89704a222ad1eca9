// Puts the forwarder and the network config where the container runtime looks. Both writes are
// atomic (temp file + rename): a runtime must never exec a half-copied binary or read half a
// conflist.
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LATEST_VERSION } from './versions.ts';

export const PLUGIN_NAME = 'vpcnet';
export const CONFLIST_NAME = '10-vpcnet.conflist';

/** Copies the built forwarder to <binDir>/vpcnet (mode 0755). */
export async function installForwarder(source: string, binDir: string): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const dest = join(binDir, PLUGIN_NAME);
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    await copyFile(source, tmp);
    await chmod(tmp, 0o755);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
  return dest;
}

export interface ConflistOptions {
  confDir: string;
  name?: string;
  mtu?: number;
  /** Plugins chained after vpcnet, e.g. { type: 'portmap', capabilities: { portMappings: true } }. */
  chained?: Array<Record<string, unknown>>;
}

export function renderConflist(opts: Omit<ConflistOptions, 'confDir'>): Record<string, unknown> {
  const main: Record<string, unknown> = { type: PLUGIN_NAME };
  if (opts.mtu !== undefined) main.mtu = opts.mtu;
  return {
    cniVersion: LATEST_VERSION,
    cniVersions: ['0.4.0', '1.0.0', LATEST_VERSION],
    name: opts.name ?? PLUGIN_NAME,
    plugins: [main, ...(opts.chained ?? [])],
  };
}

/** Writes <confDir>/10-vpcnet.conflist. */
export async function writeConflist(opts: ConflistOptions): Promise<string> {
  await mkdir(opts.confDir, { recursive: true });
  const dest = join(opts.confDir, CONFLIST_NAME);
  const tmp = join(opts.confDir, `.${CONFLIST_NAME}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(renderConflist(opts), null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, dest);
  return dest;
}
