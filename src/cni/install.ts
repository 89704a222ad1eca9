// Puts the forwarder and the network config where the container runtime looks. Both writes are
// atomic (temp file + rename): a runtime must never exec a half-copied binary or read half a
// conflist.
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPPORTED_VERSIONS } from './versions.ts';

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

/**
 * The conflist's own version. libcni before 1.2 (containerd 1.6/1.7, CRI-O and podman of that
 * age) cannot parse a 1.1.0 result and does not read `cniVersions`; 1.2+ picks the highest
 * version of `cniVersions` it supports.
 */
export const CONFLIST_VERSION = '1.0.0';

export interface ConflistOptions {
  confDir: string;
  name?: string;
  mtu?: number;
  /** The agent's socket and DEL spool directory, read by the forwarder from its config. */
  agentSocket: string;
  delSpoolDir: string;
  /** Plugins chained after vpcnet, e.g. { type: 'portmap', capabilities: { portMappings: true } }. */
  chained?: Array<Record<string, unknown>>;
}

export function renderConflist(opts: Omit<ConflistOptions, 'confDir'>): Record<string, unknown> {
  const main: Record<string, unknown> = { type: PLUGIN_NAME, agentSocket: opts.agentSocket, delSpoolDir: opts.delSpoolDir };
  if (opts.mtu !== undefined) main.mtu = opts.mtu;
  return {
    cniVersion: CONFLIST_VERSION,
    cniVersions: SUPPORTED_VERSIONS.filter((v) => v === '0.4.0' || v >= CONFLIST_VERSION),
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
