// Fuzz: 10,000 generated CNI requests (env and stdin mutations of valid ones, seeded) through the
// built forwarder into a running agent with the real datapath in a lab node. No crash, no hang,
// every failure a spec error object with a fitting code; afterwards (every attachment the fuzz
// made deleted again) pool, checkpoint and node netns exactly as before. Prints its counts.
// Host-netns paths (/proc/1/ns/net and the like) are not generated here: if a defect let one
// through, the fuzz itself would wire the host. Hostile paths it uses all name lab namespaces.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CONFLIST_NAME } from '../../src/cni/install.ts';
import { mulberry32 } from '../support/prng.ts';
import { startLabAgent, type LabAgent } from '../support/lab-agent.ts';
import { type FuzzCase, type FuzzContext, type FuzzTarget, generateCase, render } from './cni/fuzz-cases.ts';
import { requireRoot } from './helpers/lab-helpers.ts';

const SEED = 0x5eed0008;
const REQUESTS = 10_000;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 15_000;
const PODS = 12;

interface Outcome {
  exit: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  timedOut: boolean;
}

function runBounded(bin: string, env: Record<string, string>, stdin: string | Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, REQUEST_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.on('close', (exit, signal) => {
      clearTimeout(timer);
      resolve({ exit, signal, stdout: Buffer.concat(out).toString('utf8'), timedOut });
    });
  });
}

/** A spec error object: {cniVersion, code, msg[, details]} and nothing but it on stdout. */
function errorObject(stdout: string): { code: number } | string {
  let j: unknown;
  try {
    j = JSON.parse(stdout);
  } catch {
    return `stdout is not JSON: ${stdout.slice(0, 200)}`;
  }
  if (typeof j !== 'object' || j === null) return 'not an object';
  const o = j as Record<string, unknown>;
  if (!Number.isInteger(o.code)) return 'no integer code';
  if (typeof o.msg !== 'string' || !o.msg) return 'no msg';
  if (typeof o.cniVersion !== 'string') return 'no cniVersion';
  if (o.details !== undefined && typeof o.details !== 'string') return 'details not a string';
  return { code: o.code as number };
}

describe('CNI fuzz through the built forwarder', () => {
  let la: LabAgent;
  let holder: ChildProcess | undefined;
  let symlink: string | undefined;

  beforeAll(async () => {
    requireRoot();
    la = await startLabAgent({
      prefix: `vc8r${randomBytes(2).toString('hex')}`,
      instanceType: 'm5.4xlarge',
      // A fixed pool that fits on the primary NIC (29 secondary addresses; the fuzz holds at most
      // ~26 at once): no warm target, no cooldown, so no NIC is added and "as before" is exact.
      pool: { warmIps: 0, minimumIps: 29, maxAboveTarget: 100, cooldownMs: 0 },
    });
    la.addPods(PODS);
  }, 120_000);

  afterAll(async () => {
    if (holder?.pid && holder.exitCode === null) process.kill(holder.pid, 'SIGKILL');
    if (symlink) rmSync(symlink, { force: true });
    await la?.destroy();
  }, 60_000);

  function snapshot(): { node: string; checkpoint: string; pool: string } {
    const sh = (cmd: string, args: string[]): string => la.lab.execSync(la.node.ns, cmd, args);
    const node = [
      sh('ip', ['-d', 'link', 'show']),
      sh('ip', ['-4', 'addr', 'show']),
      sh('ip', ['-4', 'route', 'show', 'table', 'all']),
      sh('ip', ['rule', 'show']),
      sh('nft', ['list', 'ruleset']).replace(/counter packets \d+ bytes \d+/g, 'counter'),
    ].join('\n----\n');
    const cp = JSON.parse(readFileSync(join(la.dir, 'state', 'checkpoint.json'), 'utf8')) as { data: Record<string, unknown> };
    const pool = la.agent.status().pool;
    return { node, checkpoint: JSON.stringify({ allocations: cp.data.allocations, nics: cp.data.nics }), pool: JSON.stringify({ counts: pool?.counts, nics: pool?.nics }) };
  }

  async function waitQuiet(): Promise<void> {
    await la.agent.datapath.settled?.();
    // the pool manager may still be acting on the last release: wait for two equal snapshots
    let prev = '';
    for (let i = 0; i < 100; i++) {
      const s = JSON.stringify(snapshot());
      if (s === prev) return;
      prev = s;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  it(`${REQUESTS} mutated requests: no crash, no hang, fitting error objects, nothing changed`, async () => {
    // A process living in the node netns gives /proc/<pid>/ns/net and /proc/<pid>/task/<pid>/ns/net of it.
    holder = spawn('ip', ['netns', 'exec', la.node.ns, 'sleep', '100000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const hpid = holder.pid!;
    symlink = `/var/run/netns/${la.lab.prefix}-lnk`;
    symlinkSync(la.node.netnsPath, symlink);
    const conflist = JSON.parse(readFileSync(join(la.dir, 'net.d', CONFLIST_NAME), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const targets: FuzzTarget[] = Array.from({ length: PODS }, (_, i) => ({ containerId: `fz${i}`, netns: `/var/run/netns/${la.podNs(i)}` }));
    const ctx: FuzzContext = {
      baseConfig: { cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] },
      targets,
      hostileNetns: [la.node.netnsPath, symlink, `/proc/${hpid}/ns/net`, `/proc/${hpid}/task/${hpid}/ns/net`, `/proc/${hpid}/ns/mnt`, '/var/run/netns'],
      cniPath: la.cniEnv.CNI_PATH!,
    };
    // eth0 of every target exists throughout (a repeated ADD of it is the same request)
    // the same bytes the generator sends for an unmutated request (the agent's idempotency digest is of the config as sent)
    const conf = render(ctx.baseConfig).text;
    // the forwarder's fallback for configs without agentSocket (mutated stdin): this agent, not /run/vpcnet
    const sock = { VPCNET_AGENT_SOCKET: join(la.dir, 'run', 'cni.sock') };
    for (const t of targets) {
      const o = await runBounded(la.cniBin, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: t.containerId, CNI_NETNS: t.netns, CNI_IFNAME: 'eth0', CNI_PATH: ctx.cniPath, CNI_ARGS: `K8S_POD_NAMESPACE=fuzz;K8S_POD_NAME=${t.containerId}`, ...sock }, conf);
      expect(o.stdout).toContain('"ips"');
    }
    await waitQuiet();
    const before = snapshot();

    // Generated as the workers go (oversized stdins are 1 MiB each); the order is still the seed's.
    const rng = mulberry32(SEED);
    let generated = 0;
    const byCode = new Map<string, number>();
    const byKind = new Map<string, number>();
    const problems: string[] = [];
    let hangs = 0;
    let crashes = 0;
    let passed = 0;
    const worker = async (): Promise<void> => {
      while (generated < REQUESTS && !aborted) {
        generated++;
        const c: FuzzCase = generateCase(rng, ctx);
        byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
        const o = await runBounded(la.cniBin, { ...c.env, ...sock }, c.stdin);
        const note = (why: string): void => {
          if (problems.length < 40) problems.push(`${c.kind} ${c.command} env=${JSON.stringify(c.env).slice(0, 300)}: ${why}`);
        };
        if (o.timedOut) {
          hangs++;
          note('no answer within the bound');
          continue;
        }
        if (o.signal || (o.exit !== 0 && o.exit !== 1)) {
          crashes++;
          note(`forwarder exit ${o.exit ?? o.signal}`);
          continue;
        }
        if (o.exit === 0) {
          passed++;
          byCode.set('0', (byCode.get('0') ?? 0) + 1);
          if (!c.mayPass) note(`succeeded: ${o.stdout.slice(0, 200)}`);
          continue;
        }
        const e = errorObject(o.stdout);
        if (typeof e === 'string') {
          note(`exit 1 without an error object (${e})`);
          continue;
        }
        byCode.set(String(e.code), (byCode.get(String(e.code)) ?? 0) + 1);
        if (!c.codes.includes(e.code)) note(`code ${e.code}, expected one of ${c.codes.join('/')}: ${o.stdout.slice(0, 300)}`);
      }
    };
    let aborted = false;
    // one worker's exception stops all of them (no requests into a lab that is being destroyed)
    await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        worker().catch((err: unknown) => {
          aborted = true;
          throw err;
        }),
      ),
    );

    // Delete everything the fuzz made, as a runtime would (DEL by containerID + ifname).
    const stable = (a: { containerId: string; ifname: string }): boolean => a.ifname === 'eth0' && targets.some((t) => t.containerId === a.containerId);
    const leftovers = (JSON.parse(readFileSync(join(la.dir, 'state', 'checkpoint.json'), 'utf8')) as { data: { allocations: Array<{ containerId: string; ifname: string }> } }).data.allocations.filter((a) => !stable(a));
    const madeAttachments = leftovers.length;
    for (const a of leftovers) {
      const t = targets.find((x) => x.containerId === a.containerId);
      const env: Record<string, string> = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: a.containerId, CNI_IFNAME: a.ifname, CNI_PATH: ctx.cniPath, ...sock };
      if (t) env.CNI_NETNS = t.netns;
      const o = await runBounded(la.cniBin, env, conf);
      if (o.exit !== 0) problems.push(`clean-up DEL ${a.containerId}/${a.ifname} failed: ${o.stdout}`);
    }
    await waitQuiet();
    const after = snapshot();

    const counts = {
      seed: SEED,
      requests: generated,
      succeeded: passed,
      failedWithErrorObject: [...byCode.entries()].filter(([k]) => k !== '0').reduce((s, [, n]) => s + n, 0),
      byCode: Object.fromEntries([...byCode.entries()].sort()),
      hangs,
      crashes,
      problems: problems.length,
      attachmentsLeftToDelete: madeAttachments,
      kinds: byKind.size,
    };
    console.log(`cni fuzz counts ${JSON.stringify(counts)}\nper kind ${JSON.stringify(Object.fromEntries([...byKind.entries()].sort()))}`);
    // pod namespaces: lo and the eth0 they started with, nothing else
    const podLinks = Array.from({ length: PODS }, (_, i) =>
      (JSON.parse(la.lab.ip(la.podNs(i), ['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname).sort().join(','),
    );
    // the agent still answers
    const alive = await runBounded(la.cniBin, { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'fzfinal', CNI_IFNAME: 'eth0', CNI_PATH: ctx.cniPath, ...sock }, conf);
    if (after.node !== before.node) console.log(`node netns before:\n${before.node}\nafter:\n${after.node}`);
    // one assertion over everything, so a failure shows every broken promise at once
    expect({
      problems,
      hangs,
      crashes,
      enough: generated >= 10_000,
      podLinks,
      checkpointUnchanged: after.checkpoint === before.checkpoint,
      poolUnchanged: after.pool === before.pool,
      nodeNetnsUnchanged: after.node === before.node,
      agentAnswers: alive.exit === 0,
    }).toEqual({
      problems: [],
      hangs: 0,
      crashes: 0,
      enough: true,
      podLinks: podLinks.map(() => 'eth0,lo'),
      checkpointUnchanged: true,
      poolUnchanged: true,
      nodeNetnsUnchanged: true,
      agentAnswers: true,
    });
  }, 600_000);
});
