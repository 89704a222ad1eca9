// kill -9 torture: the agent (its own process, real datapath in a lab node, EC2 emulator) is
// SIGKILLed at least 50 times while pods churn through the built forwarder with runtime-style
// retries (a failed ADD is followed by DEL until it succeeds, then a new sandbox; a failed DEL
// is repeated). Afterwards: no address in two pods, every acknowledged ADD kept its address,
// cloud = pool after one reconcile, nothing of vpcnet left in the node netns after DEL of
// everything. Prints its counts; asserts nothing about time.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AwsEmulator } from '../../providers/aws/emulator/index.ts';
import { FROM_POD_PRIORITY, TO_POD_PRIORITY } from '../../src/datapath/routed-pod.ts';
import type { Lab } from '../../src/lab/lab.ts';
import type { CniRun } from '../integration/cni/forwarder-harness.ts';
import type { AgentProcess } from '../support/agent-process.ts';
import { startCrashNode, type CheckpointView, type CrashNode } from '../support/crash-node.ts';
import { mulberry32 } from '../support/prng.ts';
import { requireRoot } from './helpers/lab-helpers.ts';

const KILLS = 50;
const SLOTS = 10;
const WORKERS = 4;
const SEED = 0x4b111;

interface Pod {
  slot: number;
  gen: number;
  name: string;
  containerId: string;
  netns: string;
  /** Address of the acknowledged ADD. */
  ip?: string;
  /** An ADD that failed: the runtime must DEL before it makes a new sandbox. */
  needsDel: boolean;
}

describe('kill -9 torture during ADD/DEL churn', () => {
  let node: CrashNode;
  let emulator: AwsEmulator;
  let lab: Lab;
  let agent: AgentProcess;
  let instanceId: string;
  let nodeNs: string;

  beforeAll(async () => {
    requireRoot();
    node = await startCrashNode({
      tag: 'vc8r',
      seed: 50,
      vpcCidr: '10.50.0.0/16',
      clusterName: 'torture',
      pool: { prefixDelegation: false, warmIps: 3, cooldownMs: 1000 },
      cni: { addDeadlineMs: 5000, requestTimeoutMs: 8000 },
      reconcile: { intervalMs: 1000, leakedNicGraceMs: 3000, leakedNicSoloSweepMs: 3000 },
    });
    ({ emulator, lab, agent, instanceId, nodeNs } = node);
  }, 60_000);

  let stopped = false;
  // Cleanup only (a failed test's node); the test checks that nothing of its lab is left.
  afterAll(async () => {
    if (node && !stopped) await node.stop();
  }, 60_000);

  const cni = (command: 'ADD' | 'DEL', pod: Pod): Promise<CniRun> => node.cni(command, pod, 'torture');

  const readCheckpoint = (): CheckpointView => node.readCheckpoint();

  function kernelWiring(): { links: string[]; routedIps: string[]; ruleIps: string[] } {
    const links = (JSON.parse(lab.ip(nodeNs, ['-j', 'link', 'show', 'type', 'veth'])) as Array<{ ifname: string }>)
      .map((l) => l.ifname)
      .filter((n) => /^eni[0-9a-f]{11}$/.test(n));
    const routes = JSON.parse(lab.ip(nodeNs, ['-j', 'route', 'show', 'table', 'all'])) as Array<{ dst: string; dev?: string }>;
    const routedIps = routes.filter((r) => r.dev && /^eni[0-9a-f]{11}$/.test(r.dev)).map((r) => r.dst.replace(/\/32$/, ''));
    const rules = JSON.parse(lab.ip(nodeNs, ['-j', 'rule', 'show'])) as Array<{ priority: number; src?: string; dst?: string }>;
    const ruleIps = rules.flatMap((r) => (r.priority === TO_POD_PRIORITY ? [r.dst ?? ''] : r.priority === FROM_POD_PRIORITY ? [r.src ?? ''] : []));
    return { links, routedIps, ruleIps: ruleIps.filter(Boolean) };
  }

  function cloudIps(): string[] {
    return emulator
      .listEnis()
      .filter((e) => e.instanceId === instanceId && e.attachmentStatus === 'attached')
      .flatMap((e) => e.secondaryIps)
      .sort();
  }

  function poolIps(): string[] {
    return readCheckpoint()
      .nics.flatMap((n) => n.blocks.map((b) => b.cidr.replace(/\/32$/, '')))
      .sort();
  }

  it(`${KILLS} kills during churn: no double address, acknowledged ADDs durable, cloud = pool, nothing left`, async () => {
    const rng = mulberry32(SEED);
    const counts = { kills: 0, killsWithRequestsInFlight: 0, addsAcked: 0, addsFailed: 0, delsAcked: 0, delsFailed: 0, sandboxes: 0, restarts: 0 };
    const failCodes = new Map<string, number>();
    const doubles: string[] = [];
    const slots: Pod[] = [];
    const newPod = (slot: number, gen: number): Pod => {
      counts.sandboxes++;
      const name = `t${slot}g${gen}`;
      return { slot, gen, name, containerId: `tort${name}`, netns: lab.addPod(name), needsDel: false };
    };
    for (let s = 0; s < SLOTS; s++) slots.push(newPod(s, 0));
    let stop = false;
    const noteFail = (op: string, r: CniRun): void => {
      const key = `${op}:${String(r.json?.code ?? `exit${r.code}`)}`;
      failCodes.set(key, (failCodes.get(key) ?? 0) + 1);
    };

    let inFlight = 0;
    const step = async (slot: number): Promise<void> => {
      inFlight++;
      try {
        await stepInner(slot);
      } finally {
        inFlight--;
      }
    };
    const stepInner = async (slot: number): Promise<void> => {
      const pod = slots[slot]!;
      if (pod.ip === undefined && !pod.needsDel) {
        const r = await cni('ADD', pod);
        const ip = r.code === 0 ? ((r.json?.ips ?? []) as Array<{ address: string }>)[0]?.address.split('/')[0] : undefined;
        if (ip) {
          counts.addsAcked++;
          const other = slots.find((p) => p !== pod && p.ip === ip);
          if (other) doubles.push(`${ip} on ${pod.name} and ${other.name}`);
          pod.ip = ip;
        } else {
          counts.addsFailed++;
          noteFail('ADD', r);
          pod.needsDel = true;
        }
        return;
      }
      const r = await cni('DEL', pod);
      if (r.code !== 0) {
        counts.delsFailed++;
        noteFail('DEL', r);
        return;
      }
      counts.delsAcked++;
      // a new sandbox: new container ID and netns (the runtime removes the old netns after DEL)
      lab.removePod(pod.name);
      slots[slot] = newPod(slot, pod.gen + 1);
    };

    const worker = async (w: number): Promise<void> => {
      while (!stop) {
        // each worker owns its slots: one sandbox is never driven by two callers at once
        const mine = slots.map((_, s) => s).filter((s) => s % WORKERS === w);
        const slot = mine[Math.floor(rng() * mine.length)]!;
        const before = counts.addsFailed + counts.delsFailed;
        await step(slot);
        // after a failure, back off a little as runtimes do
        if (counts.addsFailed + counts.delsFailed > before) await sleep(50 + rng() * 100);
      }
    };

    const killer = async (): Promise<void> => {
      try {
        while (counts.kills < KILLS) {
          await sleep(100 + rng() * 600);
          if (inFlight > 0) counts.killsWithRequestsInFlight++;
          await agent.kill();
          counts.kills++;
          await sleep(rng() * 200);
          await agent.start();
          counts.restarts++;
        }
      } finally {
        stop = true;
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    await Promise.all([killer(), ...workers]);

    // Every acknowledged ADD kept its address (checkpoint and the pod's eth0), none on two pods.
    const cp = readCheckpoint();
    const live = slots.filter((p) => p.ip !== undefined);
    const allocIps = cp.allocations.map((a) => a.ip);
    const lostAcked = live.filter((p) => cp.allocations.find((a) => a.containerId === p.containerId)?.ip !== p.ip).map((p) => `${p.name} ${p.ip}`);
    const kernelLost: string[] = [];
    for (const p of live) {
      const addrs = lab.ip(lab.podNs(p.name), ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      if (!addrs.includes(`${p.ip}/32`)) kernelLost.push(`${p.name} ${p.ip}`);
    }

    // DEL of everything, retried as a runtime does.
    for (const p of slots) {
      for (let i = 0; ; i++) {
        const r = await cni('DEL', p);
        if (r.code === 0) break;
        if (i > 50) throw new Error(`final DEL of ${p.name} keeps failing: ${r.stdout}`);
        await sleep(200);
      }
      lab.removePod(p.name);
    }
    // One more restart: its start reconciles the pool against the cloud once.
    await agent.kill();
    await agent.start();
    counts.restarts++;
    const deadline = Date.now() + 20_000;
    while (JSON.stringify(cloudIps()) !== JSON.stringify(poolIps()) && Date.now() < deadline) await sleep(200);
    // veths of answered DELs (and those the restart's reconcile removed) go once the kernel deleted them
    while (kernelWiring().links.length > 0 && Date.now() < deadline) await sleep(100);

    console.log(`kill torture counts ${JSON.stringify({ ...counts, failures: Object.fromEntries([...failCodes.entries()].sort()) })}`);
    expect(counts.kills).toBeGreaterThanOrEqual(KILLS);
    expect(counts.addsAcked).toBeGreaterThan(0);
    expect(doubles).toEqual([]);
    expect(new Set(allocIps).size).toBe(allocIps.length);
    expect(lostAcked).toEqual([]);
    expect(kernelLost).toEqual([]);
    expect(readCheckpoint().allocations).toEqual([]);
    expect(kernelWiring()).toEqual({ links: [], routedIps: [], ruleIps: [] });
    expect(poolIps()).toEqual(cloudIps());
    stopped = true;
    expect(await node.stop()).toEqual([]);
  }, 900_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
