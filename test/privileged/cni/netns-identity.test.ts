// The pod netns is decided once, by identity, from the descriptor the forwarder opened in the
// runtime's mount namespace: a thread's netns path works, the node's or the host's own netns is
// refused whatever path names it, a netns only the runtime's mount namespace can see works. The
// real forwarder, the real socket server and the Linux datapath, with throwaway namespaces
// vc8c<random>-*: "node" plays the node's root netns (with a default route of its own), pods
// are plain netns. Nothing here touches the host's namespaces; every namespace is removed at
// the end, also on failure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { runForwarder, startHarness, type CniRun, type Harness } from '../../integration/cni/forwarder-harness.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { FdNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { LinuxDatapath } from '../../../src/datapath/linux-datapath.ts';
import { requireRoot } from '../helpers/lab-helpers.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { NIC, SETTINGS } from '../../unit/cni/doubles.ts';

const prefix = `vc8c${randomBytes(3).toString('hex')}`;
const NODE = `${prefix}-node`;
const POD1 = `${prefix}-p1`;
const POD2 = `${prefix}-p2`;
const POD3 = `${prefix}-p3`;
const ALIAS = `/var/run/netns/${prefix}-alias`;
const ADDRESSES = ['10.77.0.20', '10.77.0.21', '10.77.0.22'];
const created: string[] = [];
const sleepers: ChildProcess[] = [];
let h: Harness;
let ipam: MemoryIpam;
let datapath: LinuxDatapath;

const path = (ns: string): string => `/var/run/netns/${ns}`;
function sh(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}
const ipIn = (ns: string, ...args: string[]): string => sh('ip', ['-n', ns, ...args]).stdout;
const conf = (extra: Record<string, unknown> = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'vpcnet', type: 'vpcnet', agentSocket: h.socket, delSpoolDir: `${h.dir}/del-spool`, ...extra });

function cni(command: string, netns: string, opts: { id?: string; ifname?: string; stdin?: string } = {}): Promise<CniRun> {
  return h.run({ CNI_COMMAND: command, CNI_CONTAINERID: opts.id ?? 'c1', CNI_NETNS: netns, CNI_IFNAME: opts.ifname ?? 'eth0' }, opts.stdin ?? conf());
}

function nodeState(): string {
  return [ipIn(NODE, 'link', 'show'), ipIn(NODE, 'route', 'show', 'table', 'all'), ipIn(NODE, 'rule', 'show')].join('\n');
}

beforeAll(async () => {
  requireRoot();
  for (const ns of [NODE, POD1, POD2, POD3]) {
    if (sh('ip', ['netns', 'add', ns]).status !== 0) throw new Error(`cannot create netns ${ns}`);
    created.push(ns);
  }
  // The node's uplink, inside the node netns only: a veth pair with a default route.
  for (const args of [
    ['link', 'set', 'lo', 'up'],
    ['link', 'add', 'vc8cup', 'type', 'veth', 'peer', 'name', 'vc8cupp'],
    ['link', 'set', 'vc8cup', 'up'],
    ['link', 'set', 'vc8cupp', 'up'],
    ['addr', 'add', '10.99.0.1/24', 'dev', 'vc8cup'],
    ['route', 'add', 'default', 'via', '10.99.0.254'],
  ]) {
    const r = sh('ip', ['-n', NODE, ...args]);
    if (r.status !== 0) throw new Error(`node setup failed: ip ${args.join(' ')}: ${r.stderr}`);
  }
  datapath = new LinuxDatapath({ nodeNetns: path(NODE) });
  const handler = new CniHandler({
    ipam: (ipam = new MemoryIpam({ addresses: ADDRESSES })),
    datapath,
    resolveNic: () => NIC,
    settings: { ...SETTINGS, mtu: 1500 },
    netns: new FdNetnsInspector({ nodeNetns: path(NODE) }),
  });
  h = await startHarness((req) => handler.handle(req));
});

afterAll(async () => {
  for (const s of sleepers) s.kill('SIGKILL');
  await h?.close();
  datapath?.close();
  rmSync(ALIAS, { force: true });
  for (const ns of created.reverse()) sh('ip', ['netns', 'del', ns]);
});

beforeEach(async () => {
  // every test starts with nothing attached
  for (const a of ipam.list()) await cni('DEL', a.netns ?? '', { id: a.containerId, ifname: a.ifname });
});

function expectRefused(r: CniRun, code: number): void {
  expect(r.code).toBe(1);
  expect(r.json?.code).toBe(code);
}

function expectNothingAllocated(): void {
  expect(ipam.list()).toEqual([]);
  expect(ipam.freeCount).toBe(ADDRESSES.length);
}

/** A process living in `ns`; its pid names the netns through /proc. */
async function sleeperIn(ns: string): Promise<number> {
  const p = spawn('ip', ['netns', 'exec', ns, 'sleep', '300'], { stdio: 'ignore' });
  sleepers.push(p);
  await new Promise((r) => setTimeout(r, 200));
  if (p.pid === undefined || p.exitCode !== null) throw new Error('sleeper did not start');
  return p.pid;
}

describe('pod netns decided by identity', () => {
  it('CNI_NETNS=/proc/<pid>/task/<pid>/ns/net works for ADD, and DEL frees the address', async () => {
    const pid = await sleeperIn(POD1);
    const netns = `/proc/${pid}/task/${pid}/ns/net`;
    const add = await cni('ADD', netns);
    expect(add.code).toBe(0);
    expect(ipIn(POD1, 'addr', 'show', 'dev', 'eth0')).toContain('10.77.0.20/32');
    const del = await cni('DEL', netns);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expectNothingAllocated();
    expect(ipIn(POD1, 'link', 'show')).not.toContain('eth0');
    expect(ipIn(NODE, 'rule', 'show')).not.toContain('10.77.0.20');
  });

  it("a symlink under /var/run/netns naming the node's own netns is refused with 4 before anything is allocated", async () => {
    symlinkSync(path(NODE), ALIAS);
    try {
      const before = nodeState();
      expectRefused(await cni('ADD', ALIAS, { ifname: 'eth9' }), 4);
      expectNothingAllocated();
      expect(nodeState()).toBe(before);
    } finally {
      rmSync(ALIAS, { force: true });
    }
  });

  it("ADD into the node's own netns with CNI_IFNAME=eth9 is refused; the node keeps its default route, also after DEL", async () => {
    const before = nodeState();
    const r = await cni('ADD', path(NODE), { ifname: 'eth9' });
    expectRefused(r, 4);
    expect(String(r.json?.msg)).toContain("node's network namespace");
    expectNothingAllocated();
    expect((await cni('DEL', path(NODE), { ifname: 'eth9' })).code).toBe(0);
    expect(nodeState()).toBe(before);
    expect(ipIn(NODE, 'route', 'show')).toContain('default via 10.99.0.254');
  });

  it("CNI_NETNS=/proc/1/ns/net (the host's initial netns) is refused with 4 before anything is allocated", async () => {
    // Refused by identity where the forwarder can open it, and as unopenable where PID 1's
    // namespace is closed to us (as on some CI machines): either way nothing is allocated.
    const r = await cni('ADD', '/proc/1/ns/net');
    expectRefused(r, 4);
    expect(String(r.json?.msg)).toMatch(/host initial network namespace|cannot be opened/);
    expectNothingAllocated();
  });

  it('a netns path that is no namespace is refused with 4 and nothing is allocated', async () => {
    expectRefused(await cni('ADD', `/var/run/netns/${prefix}-missing`), 4);
    expectNothingAllocated();
  });

  it('a repeated ADD in another netns is refused and the first attachment is untouched; the same request is idempotent', async () => {
    const first = await cni('ADD', path(POD1));
    expect(first.code).toBe(0);
    const pod1Before = ipIn(POD1, 'addr', 'show');
    const again = await cni('ADD', path(POD1));
    expect(again.code).toBe(0);
    expect(again.json).toEqual(first.json);
    const moved = await cni('ADD', path(POD2));
    expectRefused(moved, 4);
    expect(String(moved.json?.msg)).toContain('another network namespace');
    expect(ipIn(POD1, 'addr', 'show')).toBe(pod1Before);
    expect(ipIn(POD2, 'link', 'show')).not.toContain('eth0');
    const otherConf = await cni('ADD', path(POD1), { stdin: conf({ mtu: 1400 }) });
    expectRefused(otherConf, 7);
    expect(ipIn(POD1, 'link', 'show', 'eth0')).toContain('mtu 1500');
    expect(ipam.list()).toHaveLength(1);
  });

  it("a netns bind mount only the runtime's mount namespace can see works (unshare -m)", async () => {
    const hidden = `/run/netns/${prefix}-hidden`;
    // In a private mount namespace: a tmpfs over /run/netns (so the file exists only there) and
    // POD3 bind-mounted under a name the agent's mount namespace never sees.
    const script = `set -e; mount -t tmpfs tmpfs /run/netns; touch ${hidden}; mount --bind /proc/$SLEEPER/ns/net ${hidden}; exec ${h.cniPath}/vpcnet`;
    const pid = await sleeperIn(POD3);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'hidden1', CNI_NETNS: hidden, CNI_IFNAME: 'eth0', CNI_PATH: h.cniPath, SLEEPER: String(pid), PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
    const r = await runForwarder('/usr/bin/unshare', env, conf(), ['--mount', '--propagation', 'private', 'sh', '-c', script]);
    expect(r.code).toBe(0);
    expect(sh('ls', [hidden]).status).not.toBe(0);
    expect(ipIn(POD3, 'addr', 'show', 'dev', 'eth0')).toContain('/32');
    expect((await cni('DEL', hidden, { id: 'hidden1' })).code).toBe(0);
    expectNothingAllocated();
    expect(ipIn(POD3, 'link', 'show')).not.toContain('eth0');
  });
});

describe('FdNetnsInspector on descriptors', () => {
  function inspectPath(file: string): unknown {
    const fd = openSync(file, 'r');
    try {
      new FdNetnsInspector({ nodeNetns: path(NODE) }).inspect('/var/run/netns/x', { env: {}, stdin: '', netnsFd: fd });
      return undefined;
    } catch (err) {
      return err;
    } finally {
      closeSync(fd);
    }
  }

  it.each([
    ["the agent's own netns", '/proc/self/ns/net', "agent's own"],
    ["the node's netns", `/var/run/netns/${NODE}`, "node's network namespace"],
    ['a namespace of another type', '/proc/self/ns/uts', 'not a network namespace'],
    ['a regular file', '/etc/hostname', 'not a network namespace'],
  ])('%s is refused with NETNS_INVALID', (_name, file, reason) => {
    const err = inspectPath(file);
    expect(err).toBeInstanceOf(VpcnetError);
    expect((err as VpcnetError).code).toBe('NETNS_INVALID');
    expect((err as VpcnetError).message).toContain(reason);
  });

  it('a pod netns is accepted with its dev:ino identity', () => {
    expect(inspectPath(path(POD1))).toBeUndefined();
  });
});
