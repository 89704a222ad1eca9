// Network config from stdin: decode (CNI 6), version (1), unsupported fields (2), then the
// rest of the validation (7). Nothing is acted on until all of it passes.
import { isVpcnetError, VpcnetError } from '../errors.ts';
import { isSupportedVersion, isVersionString, SUPPORTED_VERSIONS, type CniVersion } from './versions.ts';
import { parsePrevResult, type CniDns, type CniResult } from './result.ts';
import type { PodKey } from '../ipam/types.ts';
import { createHash } from 'node:crypto';

/** Biggest config the agent reads; the forwarder enforces the same limit. */
export const MAX_STDIN_BYTES = 1024 * 1024;

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: string;
  mtu?: number;
  dns: CniDns;
  prevResult?: CniResult;
  /** GC only: the attachments the runtime still knows. */
  validAttachments?: PodKey[];
  /** Digest of the config without prevResult: a repeated ADD must carry the same one. */
  digest: string;
  /** Hints that were malformed and left out (DEL only, see HINT_KEYS); the handler logs them. */
  ignored?: string[];
}

export interface ParseOptions {
  /**
   * DEL: the hints (prevResult, runtimeConfig, capabilities) are not preconditions. A runtime
   * replays its cached prevResult on every DEL, so refusing a bad one would make that pod's DEL
   * fail forever; a malformed hint is dropped and named in `ignored` instead.
   */
  tolerateHints?: boolean;
}

/** What DEL may ignore when malformed: it cleans up by container id and interface name alone. */
const HINT_KEYS = ['prevResult', 'runtimeConfig', 'capabilities'] as const;

/** Keys vpcnet reads or tolerates; anything else is refused with code 2. */
const KNOWN_KEYS = new Set(['cniVersion', 'cniVersions', 'name', 'type', 'mtu', 'dns', 'ipMasq', 'capabilities', 'runtimeConfig', 'args', 'prevResult', 'agentSocket', 'delSpoolDir']);
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** What the forwarder's scanner accepts for agentSocket / delSpoolDir (src/cni/native/forwarder.c). */
const FORWARDER_PATH = /^\/[a-zA-Z0-9/._-]{0,254}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(msg: string, details: Record<string, unknown> = {}): VpcnetError {
  return new VpcnetError('CNI_INVALID_CONFIG', msg, { details });
}

function unsupported(key: string, value: unknown, why: string): VpcnetError {
  const shown = JSON.stringify(value)?.slice(0, 200);
  return new VpcnetError('CNI_UNSUPPORTED_FIELD', `unsupported field "${key}": ${shown} (${why})`, { details: { key, value: shown } });
}

/** The version to put into any answer: the config's own when it looks like one. */
export function responseVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as Record<string, unknown> | null)?.cniVersion;
    if (isVersionString(v)) return v;
  } catch {
    // undecodable config: answer in the latest version
  }
  return SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as string;
}

/** Deeper configs are refused: no real one nests past a handful, and later walks stay bounded. */
export const MAX_CONFIG_DEPTH = 64;

/** Nesting depth, walked without recursion (a hostile config may nest thousands deep). */
function depthOf(root: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > MAX_CONFIG_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** JSON with object keys sorted, so a digest does not depend on the order a runtime writes keys in. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function decodeConfig(stdin: string, dropDeepHints?: string[]): Record<string, unknown> {
  if (Buffer.byteLength(stdin) > MAX_STDIN_BYTES) {
    throw new VpcnetError('CNI_IO', 'network config on stdin is too large', { details: { limitBytes: MAX_STDIN_BYTES } });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new VpcnetError('CNI_DECODE', 'network config is not valid JSON', { cause: err, details: { reason: (err as Error).message } });
  }
  if (!isObj(raw)) throw new VpcnetError('CNI_DECODE', 'network config must be a JSON object');
  if (dropDeepHints && depthOf(raw) > MAX_CONFIG_DEPTH) {
    for (const key of HINT_KEYS) {
      if (raw[key] !== undefined && depthOf(raw[key]) + 1 > MAX_CONFIG_DEPTH) {
        delete raw[key];
        dropDeepHints.push(`${key}: nests deeper than ${MAX_CONFIG_DEPTH} levels`);
      }
    }
  }
  if (depthOf(raw) > MAX_CONFIG_DEPTH) {
    throw invalid(`network config nests deeper than ${MAX_CONFIG_DEPTH} levels`, { limit: MAX_CONFIG_DEPTH });
  }
  return raw;
}

export function parseNetConf(stdin: string, opts: ParseOptions = {}): NetConf {
  const ignored: string[] = [];
  const raw = decodeConfig(stdin, opts.tolerateHints ? ignored : undefined);
  // A malformed hint is refused (ADD, CHECK), or dropped and named when tolerated (DEL).
  const hint = (key: (typeof HINT_KEYS)[number], check: () => void): void => {
    try {
      check();
    } catch (err) {
      if (!opts.tolerateHints || !isVpcnetError(err, 'CNI_INVALID_CONFIG')) throw err;
      ignored.push(`${key}: ${err.message}`);
      delete raw[key];
    }
  };
  const version = raw.cniVersion;
  if (typeof version !== 'string') throw invalid('cniVersion is required');
  if (!isSupportedVersion(version)) {
    throw new VpcnetError('CNI_VERSION_UNSUPPORTED', 'incompatible CNI versions', {
      details: { config: version, supported: [...SUPPORTED_VERSIONS] },
    });
  }
  for (const [key, value] of Object.entries(raw)) {
    if (KNOWN_KEYS.has(key) || key.startsWith('cni.dev/')) continue;
    throw unsupported(key, value, 'vpcnet does not know this key');
  }
  if (raw.ipMasq !== undefined && raw.ipMasq !== false) {
    throw unsupported('ipMasq', raw.ipMasq, 'masquerade is node-wide: set masquerade.enabled in the agent config');
  }
  checkArgs(raw.args);

  if (typeof raw.name !== 'string' || !NETWORK_NAME.test(raw.name)) throw invalid('name must start with a letter or digit and hold only letters, digits, _ . -');
  if (typeof raw.type !== 'string' || raw.type === '' || /[/\\]/.test(raw.type)) throw invalid('type must be a plugin name');
  for (const key of ['agentSocket', 'delSpoolDir']) {
    const v = raw[key];
    if (v !== undefined && !(typeof v === 'string' && FORWARDER_PATH.test(v) && !v.split('/').includes('..'))) {
      throw invalid(`${key} must be an absolute path of letters, digits, / . _ -`, { key });
    }
  }
  const { prevResult: _prev, ...rest } = raw;
  const digest = createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 32);
  const conf: NetConf = { cniVersion: version, name: raw.name, type: raw.type, dns: parseDns(raw.dns), digest };
  if (raw.mtu !== undefined) {
    if (!Number.isInteger(raw.mtu) || (raw.mtu as number) < 576 || (raw.mtu as number) > 9216) throw invalid('mtu must be an integer from 576 to 9216');
    conf.mtu = raw.mtu as number;
  }
  hint('runtimeConfig', () => {
    if (raw.runtimeConfig !== undefined && !isObj(raw.runtimeConfig)) throw invalid('runtimeConfig must be an object');
  });
  hint('capabilities', () => {
    if (raw.capabilities !== undefined && !isObj(raw.capabilities)) throw invalid('capabilities must be an object');
  });
  if (raw.cniVersions !== undefined && !(Array.isArray(raw.cniVersions) && raw.cniVersions.every(isVersionString))) {
    throw invalid('cniVersions must be a list of versions');
  }
  hint('prevResult', () => {
    if (raw.prevResult !== undefined && raw.prevResult !== null) conf.prevResult = parsePrevResult(raw.prevResult);
  });
  const attachments = raw['cni.dev/valid-attachments'];
  if (attachments !== undefined) conf.validAttachments = parseAttachments(attachments);
  if (ignored.length) conf.ignored = ignored;
  return conf;
}

/** ipam is delegated to the agent's pool; a static address via args is not offered. */
function checkArgs(args: unknown): void {
  if (args === undefined) return;
  if (!isObj(args)) throw invalid('args must be an object');
  const cni = args.cni;
  if (isObj(cni) && cni.ips !== undefined) throw unsupported('args.cni.ips', cni.ips, 'addresses come from the VPC pool');
}

function parseDns(raw: unknown): CniDns {
  if (raw === undefined) return {};
  const lists = ['nameservers', 'search', 'options'] as const;
  if (!isObj(raw)) throw invalid('dns must be an object');
  for (const k of lists) {
    const v = raw[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) throw invalid(`dns.${k} must be a list of strings`);
  }
  if (raw.domain !== undefined && typeof raw.domain !== 'string') throw invalid('dns.domain must be a string');
  const dns: CniDns = {};
  if (raw.nameservers) dns.nameservers = raw.nameservers as string[];
  if (raw.domain) dns.domain = raw.domain as string;
  if (raw.search) dns.search = raw.search as string[];
  if (raw.options) dns.options = raw.options as string[];
  return dns;
}

function parseAttachments(raw: unknown): PodKey[] {
  if (!Array.isArray(raw)) throw invalid('cni.dev/valid-attachments must be a list');
  return raw.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw invalid(`cni.dev/valid-attachments[${i}] needs containerID and ifname strings`);
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}
