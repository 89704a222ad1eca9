// CNI spec versions vpcnet speaks. The forwarder (src/cni/native/forwarder.c) answers VERSION
// with the same list; a conformance test compares the two.

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** A semver-shaped version string; error objects echo such a string even when unsupported. */
export function isVersionString(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 16 && /^\d+\.\d+\.\d+$/.test(v);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The first spec version that defines each command. */
export const COMMAND_SINCE = {
  ADD: '0.3.0',
  DEL: '0.3.0',
  CHECK: '0.4.0',
  VERSION: '0.3.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
} as const;

export type CniCommand = keyof typeof COMMAND_SINCE;

export function isCniCommand(v: unknown): v is CniCommand {
  return typeof v === 'string' && Object.hasOwn(COMMAND_SINCE, v);
}
