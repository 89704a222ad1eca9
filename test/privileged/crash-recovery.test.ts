// kill -9 at any point: the agent runs as its own process (`node src/cli/main.ts agent`) and
// wires pods in a lab node with the real datapath, against the EC2 emulator; the test drives
// ADD/DEL through the built forwarder as a runtime does, SIGKILLs the agent at chosen points,
// restarts it, and checks the brief's promise: no address on two pods, every acknowledged ADD
// durable, no kernel wiring without an allocation, no NIC leaked past the grace period, every
// address the cloud holds on the instance known to the pool, and ADD/DEL working again. Each
// test starts its own node (lab, emulator, agent), so each runs alone.
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AwsEmulator } from '../../providers/aws/emulator/index.ts';
import { hostVethName } from '../../src/datapath/naming.ts';
import { FROM_POD_PRIORITY, TO_POD_PRIORITY } from '../../src/datapath/routed-pod.ts';
import type { Lab } from '../../src/lab/lab.ts';
import type { CniRun } from '../integration/cni/forwarder-harness.ts';
import type { AgentProcess } from '../support/agent-process.ts';
import { startCrashNode, type CheckpointView, type CrashNode } from '../support/crash-node.ts';
import { echoFrom, requireRoot, startEcho } from './helpers/lab-helpers.ts';

const CLUSTER = 'crash';
const CLUSTER_TAG = 'vpcnet.io/cluster-name';
const GRACE_MS = 3000;
const INTERVAL_MS = 1000;

interface Pod {
  name: string;
  containerId: string;
  netns: string;
  /** Address from the acknowledged ADD; undefined while the pod has no network. */
  ip?: string;
}

interface Harness {
  node: CrashNode;
  emulator: AwsEmulator;
  lab: Lab;
  agent: AgentProcess;
  checkpoint: string;
  instanceId: string;
  nodeNs: string;
  pods: Map<string, Pod>;
}

describe('crash recovery: agent SIGKILLed and restarted', () => {
  let running: CrashNode | undefined;
  afterEach(async () => {
    // only on a failed test: a passing one stopped its node and checked nothing was left
    await running?.stop();
    running = undefined;
  });

  let h: Harness;
  let seq = 0;

  /** A node of its own for this test: lab namespaces, emulator and agent process. */
  async function fresh(): Promise<void> {
    requireRoot();
    const node = await startCrashNode({
      tag: 'vpr',
      seed: 11,
      vpcCidr: '10.30.0.0/16',
      clusterName: CLUSTER,
      pool: { prefixDelegation: false, warmIps: 2, cooldownMs: 2000 },
      cni: { addDeadlineMs: 8000 },
      reconcile: { intervalMs: INTERVAL_MS, leakedNicGraceMs: GRACE_MS, leakedNicSoloSweepMs: GRACE_MS },
    });
    running = node;
    const { emulator, lab, agent, checkpoint, instanceId, nodeNs } = node;
    h = { node, emulator, lab, agent, checkpoint, instanceId, nodeNs, pods: new Map() };
  }

  /** Stops the test's node: nothing of its lab may be left. */
  async function finish(): Promise<void> {
    const node = running;
    running = undefined;
    expect(await node?.stop()).toEqual([]);
  }

  function newPod(): Pod {
    const name = `c${++seq}`;
    const pod: Pod = { name, containerId: `crash${name}`, netns: h.lab.addPod(name) };
    h.pods.set(name, pod);
    return pod;
  }

  const cni = (command: 'ADD' | 'DEL', pod: Pod): Promise<CniRun> => h.node.cni(command, pod, 'default');

  /** ADD as a runtime does; records the acknowledged address. */
  async function add(pod: Pod): Promise<boolean> {
    const res = await cni('ADD', pod);
    if (res.code !== 0) return false;
    const ips = (res.json?.ips ?? []) as Array<{ address: string }>;
    pod.ip = ips[0]?.address.split('/')[0];
    return pod.ip !== undefined;
  }

  /** A runtime whose ADD failed calls DEL and then ADD again. */
  async function retryFailed(failed: Pod[]): Promise<void> {
    for (const p of failed) {
      expect((await cni('DEL', p)).code).toBe(0);
      expect(await add(p)).toBe(true);
    }
  }

  const readCheckpoint = (): CheckpointView => h.node.readCheckpoint();

  /** vpcnet's pod wiring in the node, read with `ip` (independent of the datapath code). */
  function kernelWiring(): { links: string[]; routedIps: string[]; ruleIps: string[] } {
    const links = (JSON.parse(h.lab.ip(h.nodeNs, ['-j', 'link', 'show', 'type', 'veth'])) as Array<{ ifname: string }>)
      .map((l) => l.ifname)
      .filter((n) => /^eni[0-9a-f]{11}$/.test(n));
    const routes = JSON.parse(h.lab.ip(h.nodeNs, ['-j', 'route', 'show', 'table', 'main'])) as Array<{ dst: string; dev?: string }>;
    const routedIps = routes.filter((r) => r.dev && links.includes(r.dev)).map((r) => r.dst.replace(/\/32$/, ''));
    const rules = JSON.parse(h.lab.ip(h.nodeNs, ['-j', 'rule', 'show'])) as Array<{ priority: number; src?: string; dst?: string }>;
    const ruleIps = rules.flatMap((r) => (r.priority === TO_POD_PRIORITY ? [r.dst ?? ''] : r.priority === FROM_POD_PRIORITY ? [r.src ?? ''] : []));
    return { links, routedIps, ruleIps: ruleIps.filter(Boolean) };
  }

  function cloudIps(): string[] {
    return h.emulator
      .listEnis()
      .filter((e) => e.instanceId === h.instanceId && e.attachmentStatus === 'attached')
      .flatMap((e) => e.secondaryIps);
  }

  function leakedNics(): string[] {
    return h.emulator
      .listEnis()
      .filter((e) => e.status === 'available' && e.tags[CLUSTER_TAG] === CLUSTER)
      .map((e) => e.eniId);
  }

  /** The brief's invariants, checked after a restart and its first reconcile. */
  async function checkInvariants(): Promise<void> {
    const cp = readCheckpoint();
    // No address on two pods: in the checkpoint, and among the pods the runtime believes wired.
    const allocIps = cp.allocations.map((a) => a.ip);
    expect(new Set(allocIps).size).toBe(allocIps.length);
    const live = [...h.pods.values()].filter((p) => p.ip !== undefined);
    expect(new Set(live.map((p) => p.ip)).size).toBe(live.length);
    // Every acknowledged ADD survived the kill, with the same address.
    for (const p of live) expect(cp.allocations.find((a) => a.containerId === p.containerId)?.ip).toBe(p.ip);
    // Kernel: no wiring without an allocation (once the kernel finished deleting the veths of
    // answered DELs: docs/cni.md, DEL), and every live pod still wired.
    const owned = new Set(cp.allocations.map((a) => hostVethName(a.containerId, a.ifname)));
    await waitUntil(() => kernelWiring().links.every((l) => owned.has(l)), 10_000, () => `veths without an allocation: ${kernelWiring().links.filter((l) => !owned.has(l)).join(',')}`);
    const k = kernelWiring();
    expect(k.links.filter((l) => !owned.has(l))).toEqual([]);
    expect([...k.routedIps, ...k.ruleIps].filter((ip) => !allocIps.includes(ip))).toEqual([]);
    for (const p of live) expect(k.links).toContain(hostVethName(p.containerId, 'eth0'));
    // Cloud: no NIC of this cluster left unattached past the grace period (plus a reconcile).
    await waitUntil(() => leakedNics().length === 0, GRACE_MS + 10 * INTERVAL_MS, () => `leaked NICs: ${leakedNics().join(',')}`);
    // Every address the cloud holds on the instance is known to the pool (it may be mid-assign: wait for quiet).
    await waitUntil(
      () => {
        const known = new Set(readCheckpoint().nics.flatMap((n) => n.blocks.map((b) => b.cidr.replace(/\/32$/, ''))));
        return cloudIps().every((ip) => known.has(ip));
      },
      10 * INTERVAL_MS,
      () => `cloud addresses unknown to the pool: ${cloudIps().join(',')} vs checkpoint ${JSON.stringify(readCheckpoint().nics)}`,
    );
  }

  it('killed between CreateNetworkInterface and AttachNetworkInterface: the NIC is deleted after the grace period', async () => {
    await fresh();
    for (let i = 0; i < 2; i++) expect(await add(newPod())).toBe(true);
    // Kill inside the emulator's handler of the create: the agent cannot have sent the attach.
    let leaked: string | undefined;
    const off = h.emulator.onChange(() => {
      if (leaked) return;
      leaked = leakedNics()[0];
      if (leaked) h.agent.killNow();
    });
    const failed: Pod[] = [];
    try {
      for (let i = 0; i < 14 && h.agent.alive; i++) {
        const p = newPod();
        if (!(await add(p))) failed.push(p);
      }
    } finally {
      off();
    }
    expect(leaked).toBeDefined();
    expect(h.agent.alive).toBe(false);
    expect(leakedNics()).toContain(leaked);

    await h.agent.start();
    await retryFailed(failed);
    await checkInvariants();
    expect(h.emulator.listEnis().some((e) => e.eniId === leaked)).toBe(false);
    // the log line travels through a pipe after the cloud already shows the delete
    await h.agent.waitLog((l) => l.msg === 'leaked NIC deleted' && l.nicId === leaked, 10_000);
    await finish();
  }, 90_000);

  it('killed while a NIC is being attached, in a burst of concurrent ADDs and DELs', async () => {
    await fresh();
    const wired = Array.from({ length: 8 }, () => newPod());
    for (const p of wired) expect(await add(p)).toBe(true);
    // Slow attaches widen the window; with the 8 pods above the burst needs more addresses than two NICs hold.
    h.emulator.faults.setLatency('AttachNetworkInterface', 1500);
    const attaches = (): number => h.emulator.stats().calls.AttachNetworkInterface ?? 0;
    const attachesBefore = attaches();
    const adds = Array.from({ length: 12 }, () => newPod());
    const dels = wired.slice(0, 3);
    const addRuns = adds.map((p) => add(p));
    const delRuns = dels.map(async (p) => (await cni('DEL', p)).code === 0);
    // Created, not yet attached, and its attach request has reached the emulator (counted on
    // arrival): it sits in the emulator's latency.
    const attaching = await waitUntil(() => attaches() > attachesBefore && leakedNics().length > 0, 10_000, () => 'no NIC attach started').then(
      () => leakedNics()[0],
      () => undefined,
    );
    await h.agent.kill();
    const addOk = await Promise.all(addRuns);
    const delOk = await Promise.all(delRuns);
    h.emulator.faults.setLatency('AttachNetworkInterface', 0);
    expect(attaching).toBeDefined();
    expect(addOk.every(Boolean)).toBe(false);
    // The cloud got the attach before the kill: it lands, with addresses no checkpoint knows.
    await waitUntil(() => h.emulator.listEnis().some((e) => e.eniId === attaching && e.attachmentStatus === 'attached'), 5000, () => 'attach did not land');

    await h.agent.start();
    // The runtime repeats a DEL that failed; a DEL that succeeded is done for good.
    for (const [i, p] of dels.entries()) {
      if (!delOk[i]) expect((await cni('DEL', p)).code).toBe(0);
      delete p.ip;
    }
    await retryFailed(adds.filter((_, i) => !addOk[i]));
    await checkInvariants();
    await finish();
  }, 90_000);

  it('wiring whose allocation the checkpoint no longer has (a lost DEL) is removed on restart', async () => {
    await fresh();
    const victim = newPod();
    expect(await add(victim)).toBe(true);
    expect(await add(newPod())).toBe(true);
    await h.agent.kill();
    const raw = JSON.parse(readFileSync(h.checkpoint, 'utf8')) as { data: CheckpointView };
    raw.data.allocations = raw.data.allocations.filter((a) => a.containerId !== victim.containerId);
    writeFileSync(h.checkpoint, JSON.stringify(raw));
    expect(kernelWiring().links).toContain(hostVethName(victim.containerId, 'eth0'));
    const victimIp = victim.ip;
    delete victim.ip;

    await h.agent.start();
    // its route and rules are gone when start returns; the veth once the kernel deleted it
    await waitUntil(() => !kernelWiring().links.includes(hostVethName(victim.containerId, 'eth0')), 10_000, () => 'the victim veth is still there');
    const k = kernelWiring();
    expect([...k.routedIps, ...k.ruleIps]).not.toContain(victimIp);
    expect(h.agent.lines.some((l) => l.msg === 'removed pod wiring without an allocation')).toBe(true);
    await checkInvariants();
    await finish();
  }, 90_000);

  it('ADD and DEL keep working after a crash, and pods reach each other', async () => {
    await fresh();
    const before = [newPod(), newPod()];
    for (const p of before) expect(await add(p)).toBe(true);
    await h.agent.kill();
    await h.agent.start();
    const a = newPod();
    const b = newPod();
    expect(await add(a)).toBe(true);
    expect(await add(b)).toBe(true);
    const echo = await startEcho(h.lab.podNs(b.name), 7100);
    try {
      expect(await echoFrom(h.lab.podNs(a.name), b.ip!, 7100)).toBe(a.ip);
    } finally {
      echo.stop();
    }
    for (const p of h.pods.values()) {
      expect((await cni('DEL', p)).code).toBe(0);
      delete p.ip;
    }
    expect(readCheckpoint().allocations).toEqual([]);
    expect(kernelWiring()).toEqual({ links: [], routedIps: [], ruleIps: [] });
    await checkInvariants();
    await finish();
  }, 90_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(cond: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${why()}`);
    await sleep(100);
  }
}
