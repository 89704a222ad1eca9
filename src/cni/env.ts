// CNI_* environment parsing. Every check fails with CNI_INVALID_ENV (CNI code 4) naming the
// variable, before anything changes. The path shape of CNI_NETNS is checked here; which
// namespace it is gets decided from the forwarder's descriptor (netns-inspector.ts).
import { VpcnetError } from '../errors.ts';
import { isCniCommand, type CniCommand } from './versions.ts';

export interface CniEnv {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args: Record<string, string>;
  path?: string;
}

type EnvName = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_PATH';

/** Required variables per command (spec section 2). */
const REQUIRED: Record<CniCommand, EnvName[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

const MAX_VALUE = 4096;
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;
/** Names the kernel gives a meaning of its own: loopback, and the sysctl trees conf/all and conf/default. */
const RESERVED_IFNAMES = new Set(['lo', 'all', 'default']);
const PROC_NETNS = /^\/proc\/[1-9][0-9]*\/(task\/[1-9][0-9]*\/)?ns\/net$/;
const NETNS_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const CNI_ARG = /^[a-zA-Z0-9_]+=[^;\0]*$/;

function invalid(name: string, value: string | undefined, why: string): VpcnetError {
  return new VpcnetError('CNI_INVALID_ENV', `invalid ${name}: ${why}`, { details: { variable: name, value } });
}

export function parseEnv(env: Record<string, string>, netnsPrefixes: readonly string[]): CniEnv {
  const command = env.CNI_COMMAND;
  if (!isCniCommand(command)) throw invalid('CNI_COMMAND', command, 'must be one of ADD, DEL, CHECK, GC, STATUS, VERSION');
  for (const name of REQUIRED[command]) {
    if (!env[name]) throw invalid(name, env[name], `required for ${command}`);
  }
  for (const [name, value] of Object.entries(env)) {
    if (value.length > MAX_VALUE) throw invalid(name, value.slice(0, 64), 'too long');
  }
  const out: CniEnv = { command, args: parseArgs(env.CNI_ARGS ?? '') };
  if (env.CNI_CONTAINERID) out.containerId = checkContainerId(env.CNI_CONTAINERID);
  if (env.CNI_IFNAME) out.ifname = checkIfname(env.CNI_IFNAME);
  // DEL never looks at the netns (teardown works from the node side), so no path can fail it.
  if (env.CNI_NETNS && command !== 'DEL') out.netns = checkNetns(env.CNI_NETNS, netnsPrefixes);
  if (env.CNI_PATH) out.path = env.CNI_PATH;
  return out;
}

export function checkContainerId(id: string): string {
  if (id.length > 256 || !CONTAINER_ID.test(id)) {
    throw invalid('CNI_CONTAINERID', id, 'must start with a letter or digit and hold only letters, digits, _ . -');
  }
  return id;
}

/** Linux interface name rules (spec: < 16 chars, not . or .., no / : or whitespace), stricter. */
export function checkIfname(name: string): string {
  if (!IFNAME.test(name) || name === '.' || name === '..') {
    throw invalid('CNI_IFNAME', name, 'must be 1-15 letters, digits, _ . - and not . or ..');
  }
  if (RESERVED_IFNAMES.has(name)) throw invalid('CNI_IFNAME', name, `"${name}" is reserved by the kernel`);
  return name;
}

/**
 * A netns path must be a namespace the runtime made: /proc/<pid>/ns/net or one plain name
 * directly under a configured directory (/run/netns/ by default). Anything else, e.g.
 * ../../etc or /tmp/x, is refused before the agent touches it.
 */
export function checkNetns(path: string, prefixes: readonly string[]): string {
  if (PROC_NETNS.test(path)) return path;
  for (const prefix of prefixes) {
    const dir = prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (!path.startsWith(dir)) continue;
    const name = path.slice(dir.length);
    if (NETNS_NAME.test(name) && name.length <= 255) return path;
  }
  throw invalid('CNI_NETNS', path, `must be /proc/<pid>/ns/net or a name under ${prefixes.join(', ')}`);
}

/** CNI_ARGS: "K=V;K=V". Kubernetes passes K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID. */
export function parseArgs(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === '') return out;
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    if (!CNI_ARG.test(pair)) throw invalid('CNI_ARGS', raw, `malformed pair "${pair}"`);
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
