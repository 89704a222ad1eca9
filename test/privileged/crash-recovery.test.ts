// kill -9 at any point: the agent runs as its own process (`node src/cli/main.ts agent`) and
// wires pods in a lab node with the real datapath, against the EC2 emulator; the test drives
// ADD/DEL through the built forwarder as a runtime does, SIGKILLs the agent at chosen points,
// restarts it, and checks the brief's promise: no address on two pods, every acknowledged ADD
// durable, no kernel wiring without an allocation, no NIC leaked past the grace period, every
// address the cloud holds on the instance known to the pool, and ADD/DEL working again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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

describe('crash recovery: agent SIGKILLed and restarted', () => {
  let node: CrashNode;
  let emulator: AwsEmulator;
  let lab: Lab;
  let agent: AgentProcess;
  let checkpoint: string;
  let instanceId: string;
  let nodeNs: string;
  const pods = new Map<string, Pod>();
  let seq = 0;

  beforeAll(async () => {
    requireRoot();
    node = await startCrashNode({
      tag: 'vpr',
      seed: 11,
      vpcCidr: '10.30.0.0/16',
      clusterName: CLUSTER,
      pool: { prefixDelegation: false, warmIps: 2, cooldownMs: 2000 },
      cni: { addDeadlineMs: 8000 },
      reconcile: { intervalMs: INTERVAL_MS, leakedNicGraceMs: GRACE_MS, leakedNicSoloSweepMs: GRACE_MS },
    });
    ({ emulator, lab, agent, checkpoint, instanceId, nodeNs } = node);
  }, 60_000);

  afterAll(async () => {
    if (node) expect(await node.stop()).toEqual([]);
  });

  function newPod(): Pod {
    const name = `c${++seq}`;
    const pod: Pod = { name, containerId: `crash${name}`, netns: lab.addPod(name) };
    pods.set(name, pod);
    return pod;
  }

  const cni = (command: 'ADD' | 'DEL', pod: Pod): Promise<CniRun> => node.cni(command, pod, 'default');

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

  const readCheckpoint = (): CheckpointView => node.readCheckpoint();

  /** vpcnet's pod wiring in the node, read with `ip` (independent of the datapath code). */
  function kernelWiring(): { links: string[]; routedIps: string[]; ruleIps: string[] } {
    const links = (JSON.parse(lab.ip(nodeNs, ['-j', 'link', 'show', 'type', 'veth'])) as Array<{ ifname: string }>)
      .map((l) => l.ifname)
      .filter((n) => /^eni[0-9a-f]{11}$/.test(n));
    const routes = JSON.parse(lab.ip(nodeNs, ['-j', 'route', 'show', 'table', 'main'])) as Array<{ dst: string; dev?: string }>;
    const routedIps = routes.filter((r) => r.dev && links.includes(r.dev)).map((r) => r.dst.replace(/\/32$/, ''));
    const rules = JSON.parse(lab.ip(nodeNs, ['-j', 'rule', 'show'])) as Array<{ priority: number; src?: string; dst?: string }>;
    const ruleIps = rules.flatMap((r) => (r.priority === TO_POD_PRIORITY ? [r.dst ?? ''] : r.priority === FROM_POD_PRIORITY ? [r.src ?? ''] : []));
    return { links, routedIps, ruleIps: ruleIps.filter(Boolean) };
  }

  function cloudIps(): string[] {
    return emulator
      .listEnis()
      .filter((e) => e.instanceId === instanceId && e.attachmentStatus === 'attached')
      .flatMap((e) => e.secondaryIps);
  }

  function leakedNics(): string[] {
    return emulator
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
    const live = [...pods.values()].filter((p) => p.ip !== undefined);
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
    for (let i = 0; i < 2; i++) expect(await add(newPod())).toBe(true);
    // Kill inside the emulator's handler of the create: the agent cannot have sent the attach.
    let leaked: string | undefined;
    const off = emulator.onChange(() => {
      if (leaked) return;
      leaked = leakedNics()[0];
      if (leaked) agent.killNow();
    });
    const failed: Pod[] = [];
    try {
      for (let i = 0; i < 14 && agent.alive; i++) {
        const p = newPod();
        if (!(await add(p))) failed.push(p);
      }
    } finally {
      off();
    }
    expect(leaked).toBeDefined();
    expect(agent.alive).toBe(false);
    expect(leakedNics()).toContain(leaked);

    await agent.start();
    await retryFailed(failed);
    await checkInvariants();
    expect(emulator.listEnis().some((e) => e.eniId === leaked)).toBe(false);
    // the log line travels through a pipe after the cloud already shows the delete
    await agent.waitLog((l) => l.msg === 'leaked NIC deleted' && l.nicId === leaked, 10_000);
  }, 60_000);

  it('killed while a NIC is being attached, in a burst of concurrent ADDs and DELs', async () => {
    // Slow attaches widen the window; the burst needs more addresses than two NICs hold.
    emulator.faults.setLatency('AttachNetworkInterface', 1500);
    const adds = Array.from({ length: 12 }, () => newPod());
    const dels = [...pods.values()].filter((p) => p.ip !== undefined).slice(0, 3);
    const addRuns = adds.map((p) => add(p));
    const delRuns = dels.map(async (p) => (await cni('DEL', p)).code === 0);
    // Created, not yet attached: the attach request sits in the emulator's latency.
    const attaching = await waitUntil(() => leakedNics().length > 0, 10_000, () => 'no NIC attach started').then(
      () => leakedNics()[0],
      () => undefined,
    );
    await agent.kill();
    const addOk = await Promise.all(addRuns);
    const delOk = await Promise.all(delRuns);
    emulator.faults.setLatency('AttachNetworkInterface', 0);
    expect(attaching).toBeDefined();
    expect(addOk.every(Boolean)).toBe(false);
    // The cloud got the attach before the kill: it lands, with addresses no checkpoint knows.
    await waitUntil(() => emulator.listEnis().some((e) => e.eniId === attaching && e.attachmentStatus === 'attached'), 5000, () => 'attach did not land');

    await agent.start();
    // The runtime repeats a DEL that failed; a DEL that succeeded is done for good.
    for (const [i, p] of dels.entries()) {
      if (!delOk[i]) expect((await cni('DEL', p)).code).toBe(0);
      delete p.ip;
    }
    await retryFailed(adds.filter((_, i) => !addOk[i]));
    await checkInvariants();
  }, 60_000);

  it('wiring whose allocation the checkpoint no longer has (a lost DEL) is removed on restart', async () => {
    const victim = [...pods.values()].find((p) => p.ip !== undefined)!;
    await agent.kill();
    const raw = JSON.parse(readFileSync(checkpoint, 'utf8')) as { data: CheckpointView };
    raw.data.allocations = raw.data.allocations.filter((a) => a.containerId !== victim.containerId);
    writeFileSync(checkpoint, JSON.stringify(raw));
    expect(kernelWiring().links).toContain(hostVethName(victim.containerId, 'eth0'));
    const victimIp = victim.ip;
    delete victim.ip;

    await agent.start();
    // its route and rules are gone when start returns; the veth once the kernel deleted it
    await waitUntil(() => !kernelWiring().links.includes(hostVethName(victim.containerId, 'eth0')), 10_000, () => 'the victim veth is still there');
    const k = kernelWiring();
    expect([...k.routedIps, ...k.ruleIps]).not.toContain(victimIp);
    expect(agent.lines.some((l) => l.msg === 'removed pod wiring without an allocation')).toBe(true);
    await checkInvariants();
  }, 60_000);

  it('ADD and DEL keep working after the crashes, and pods reach each other', async () => {
    const a = newPod();
    const b = newPod();
    expect(await add(a)).toBe(true);
    expect(await add(b)).toBe(true);
    const echo = await startEcho(lab.podNs(b.name), 7100);
    try {
      expect(await echoFrom(lab.podNs(a.name), b.ip!, 7100)).toBe(a.ip);
    } finally {
      echo.stop();
    }
    for (const p of pods.values()) {
      expect((await cni('DEL', p)).code).toBe(0);
      delete p.ip;
    }
    expect(readCheckpoint().allocations).toEqual([]);
    expect(kernelWiring()).toEqual({ links: [], routedIps: [], ruleIps: [] });
    await checkInvariants();
  }, 60_000);
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
