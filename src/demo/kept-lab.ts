// `vpcnet demo --keep`: the lab, its emulator and agents stay up after the checks, so a user
// can try vpcnet by hand (status, the CNI executable, cnitool, podman). A state file names the
// running demo so `vpcnet demo --down` can stop it from another shell, and can still remove the
// namespaces of one whose process is gone (kill -9).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, netnsPath } from '../lab/lab.ts';
import { LAB_PREFIX } from './demo-options.ts';

/** Root-only directory of the kept labs' state files, one `<prefix>.json` each. */
export const KEPT_LAB_DIR = '/run/vpcnet-demo';

export interface KeptNode {
  name: string;
  /** The node's network namespace (acts as the node's root netns). */
  ns: string;
  /** `vpcnet status --api` address of its agent. */
  api: string;
  cniBinDir: string;
  cniConfDir: string;
  /** A single-plugin network config for the forwarder (what the conflist holds for vpcnet). */
  netconf: string;
}

export interface KeptLab {
  pid: number;
  prefix: string;
  cloud: string;
  /** The demo's work directory (agent state, logs, configs). */
  work: string;
  nodes: KeptNode[];
}

export function keptLabFile(prefix: string, dir = KEPT_LAB_DIR): string {
  return join(dir, `${prefix}.json`);
}

export function writeKeptLab(lab: KeptLab, dir = KEPT_LAB_DIR): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = keptLabFile(lab.prefix, dir);
  writeFileSync(file, `${JSON.stringify(lab, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export function readKeptLabs(dir = KEPT_LAB_DIR): KeptLab[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        const lab = JSON.parse(readFileSync(join(dir, f), 'utf8')) as KeptLab;
        return LAB_PREFIX.test(lab.prefix) && Number.isInteger(lab.pid) ? [lab] : [];
      } catch {
        return [];
      }
    });
}

/** How to use the kept lab, as printed: every command runs as root on this host. */
export function keptLabRecipe(lab: KeptLab): string {
  const n = lab.nodes[0]!;
  const podNs = `${lab.prefix}-p-mine`;
  const cniEnv = (command: string): string =>
    `CNI_COMMAND=${command} CNI_CONTAINERID=mine CNI_NETNS=${netnsPath(podNs)} CNI_IFNAME=eth0 CNI_PATH=${n.cniBinDir} ${join(n.cniBinDir, 'vpcnet')} < ${n.netconf}`;
  return [
    `The lab stays up (namespaces ${lab.prefix}-*, this process runs the ${lab.cloud} emulator and the agents). Try, as root:`,
    '',
    ...lab.nodes.map((x) => `  vpcnet status --api ${x.api}      # ${x.name}: NICs, addresses, pods, pool targets`),
    '',
    `  # a pod of your own on ${n.name}, through the CNI executable as a runtime runs it:`,
    `  ip netns add ${podNs}`,
    `  ${cniEnv('ADD')}`,
    `  ip netns exec ${podNs} ip -4 addr show eth0`,
    `  ${cniEnv('DEL')}`,
    `  ip netns del ${podNs}`,
    '',
    `  # the same with cnitool: CNI_PATH=${n.cniBinDir} NETCONFPATH=${n.cniConfDir} cnitool add vpcnet ${netnsPath(podNs)}`,
    `  # podman (CNI backend) runs inside the node's namespace ${n.ns} with --cni-config-dir ${n.cniConfDir}: docs/runtimes.md`,
    '',
    `Stop it: Ctrl-C here, or from another shell: vpcnet demo --down --prefix ${lab.prefix}`,
  ].join('\n');
}

/** Running, not a zombie: a demo that exited counts as gone even before its parent reaps it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...", the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** True when pid is a `vpcnet demo --keep` (not a process that reused a dead demo's pid). */
function isKeptDemo(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('demo') && argv.includes('--keep');
  } catch {
    return false;
  }
}

export interface DownResult {
  prefix: string;
  /** The demo process was running and stopped itself (its own full teardown). */
  stopped: boolean;
  /** Namespaces removed here because the demo process was gone. */
  leftovers: string[];
}

/**
 * Stops a kept lab: SIGTERM to its demo process, which tears everything down itself; whatever
 * is left after it (it was killed, or did not stop in time) is removed here.
 */
export async function downKeptLab(lab: KeptLab, opts: { timeoutMs?: number; dir?: string; sleep?: (ms: number) => Promise<void> } = {}): Promise<DownResult> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let stopped = false;
  if (alive(lab.pid) && isKeptDemo(lab.pid)) {
    process.kill(lab.pid, 'SIGTERM');
    for (let waited = 0; waited < (opts.timeoutMs ?? 60_000) && alive(lab.pid); waited += 200) await sleep(200);
    stopped = !alive(lab.pid);
    // Stuck in its teardown: stop it for good, then remove what it left.
    if (!stopped) process.kill(lab.pid, 'SIGKILL');
  }
  // Namespaces of a demo that was killed (or did not finish); none after a clean stop.
  const leftovers = Lab.cleanupStale(lab.prefix);
  if (!stopped) rmSync(lab.work, { recursive: true, force: true });
  rmSync(keptLabFile(lab.prefix, opts.dir), { force: true });
  return { prefix: lab.prefix, stopped, leftovers };
}
