// Azure scale bench: N VMs booting at once on one subscription. One Azure emulator (ARM over TLS,
// the published limits: ARM buckets 200 writes + 10/s and 250 reads + 25/s per subscription and
// principal; Microsoft.Network 1,000 writes and 10,000 reads per 5 minutes), one agent per node:
// its own AzureProvider (real @azure/arm-network over TLS, IMDS per VM) and PoolManager. All
// agents share one workload identity, so they share ARM's per-principal buckets, as on AKS.
// Time is emulated: a clock running `speed` times faster drives the emulator (buckets, operation
// time), the providers (retry, client rate limits) and the pools (intervals, ADD deadlines).
// Figures: ARM writes per node, time to a warm pool (p50/p99), pod-visible failures, leaked
// ipConfigurations (addresses the cloud holds that no pool knows).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkloadIdentityCredential } from '@azure/identity';
import { pino } from 'pino';
import { AzureProvider } from '../../providers/azure/client/azure-provider.ts';
import { AzureEmulator } from '../../providers/azure/emulator/index.ts';
import { ARM_BUCKETS, NETWORK_RP_LIMITS } from '../../providers/azure/limits.ts';
import { MemoryCheckpointStore } from '../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../src/ipam/pool-manager.ts';
import type { Clock } from '../../src/util/clock.ts';
import { mulberry32 } from '../support/prng.ts';

export interface AzureScaleOptions {
  nodes: number;
  podsPerNode: number;
  speed: number;
  seed: number;
  /** Nodes boot at a random moment in this window (emulated ms). */
  bootWindowMs: number;
  /** /28 IP prefix configurations as blocks (16 addresses per ARM write). */
  prefix?: boolean;
  progress?: (line: string) => void;
}

export interface AzureScaleResult {
  cloud: 'azure';
  prefix: boolean;
  nodes: number;
  podsPerNode: number;
  speed: number;
  armWrites: { total: number; perNodeMean: number; perNodeMax: number; boot: number; pods: number };
  armReads: { total: number; perNodeMean: number };
  throttled: Record<string, number>;
  warmPoolMs: { p50: number; p99: number; max: number };
  podAddMs: { p50: number; p99: number };
  failures: number;
  /** Agent starts (discover, first reconcile) that had to be retried (ARM read throttling at boot). */
  startRetries: number;
  leakTotal: number;
  wallMs: number;
}

/** Emulated time: `speed` times faster than the wall clock. */
function scaledClock(speed: number): Clock {
  const t0 = Date.now();
  return {
    now: () => t0 + (Date.now() - t0) * speed,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const t = setTimeout(resolve, Math.max(0, ms / speed));
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(signal.reason);
        }, { once: true });
      }),
  };
}

const q = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
};

const WRITES = new Set(['Microsoft.Network/networkInterfaces/write']);

export async function runAzureScale(opts: AzureScaleOptions): Promise<AzureScaleResult> {
  const started = Date.now();
  const clock = scaledClock(opts.speed);
  const random = mulberry32(opts.seed);
  const log = pino({ level: 'silent' });
  const emu = new AzureEmulator({
    clock,
    seed: opts.seed,
    operationMs: 2000,
    logger: log,
    // Subnet answers listing every ipConfiguration grow with the cluster, so the emulator's CPU
    // would grow with the square of the nodes and crowd out the agents it measures; the calls
    // counted are the same either way.
    subnetBackReferences: false,
    throttling: {
      buckets: { ...ARM_BUCKETS },
      networkRp: {
        reads: { capacity: NETWORK_RP_LIMITS.reads.perWindow, refillPerSecond: NETWORK_RP_LIMITS.reads.perWindow / 300 },
        writes: { capacity: NETWORK_RP_LIMITS.writes.perWindow, refillPerSecond: NETWORK_RP_LIMITS.writes.perWindow / 300 },
      },
    },
  });
  const subnetBits = Math.max(12, 32 - Math.ceil(Math.log2(opts.nodes * (opts.podsPerNode + 16) * 2)));
  emu.applyScenario({
    resourceGroup: 'rg-scale',
    location: 'westeurope',
    vnets: [{ name: 'vnet', addressPrefixes: ['10.0.0.0/8'], subnets: [{ name: 'nodes', addressPrefix: `10.0.0.0/${subnetBits}` }] }],
    vms: Array.from({ length: opts.nodes }, (_, i) => ({ name: `vm${i}`, size: 'Standard_D8s_v5', subnet: 'vnet/nodes' })),
  });
  const endpoint = await emu.start();
  const dir = mkdtempSync(join(tmpdir(), 'vc11-scale-'));
  writeFileSync(join(dir, 'token'), 'scale-bench-token');
  const credential = new WorkloadIdentityCredential({
    tenantId: emu.state.tenantId,
    clientId: '00000000-0000-4000-8000-0000000005ca',
    tokenFilePath: join(dir, 'token'),
    authorityHost: endpoint,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emu.tls.ca },
  } as ConstructorParameters<typeof WorkloadIdentityCredential>[0]);
  const writesByNode = new Array<number>(opts.nodes).fill(0);
  const readsByNode = new Array<number>(opts.nodes).fill(0);
  const bootWrites = new Array<number>(opts.nodes).fill(0);
  const warm: number[] = [];
  const adds: number[] = [];
  let failures = 0;
  let startRetries = 0;
  const managers: PoolManager[] = [];
  const progress = opts.progress ?? (() => undefined);
  const t0 = clock.now();

  const runNode = async (i: number): Promise<void> => {
    await clock.sleep(random() * opts.bootWindowMs);
    const booted = clock.now();
    const provider = new AzureProvider({
      credential,
      endpoint,
      ca: emu.tls.ca,
      metadataEndpoint: emu.imdsUrlFor(`vm${i}`),
      lroPollMs: 2000,
      requestTimeoutMs: 30_000,
      clock,
      random,
      prefixBlocks: opts.prefix === true,
      onCall: (_op, bucket) => {
        if (bucket === 'writes') writesByNode[i] = (writesByNode[i] ?? 0) + 1;
        else readsByNode[i] = (readsByNode[i] ?? 0) + 1;
      },
    });
    // As the agent does at start: discovery is retried until ARM lets it through.
    let limits: Awaited<ReturnType<AzureProvider['discover']>>['limits'] | undefined;
    for (let attempt = 0; !limits; attempt++) {
      try {
        limits = (await provider.discover()).limits;
      } catch {
        startRetries++;
        await clock.sleep(Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + random()));
      }
    }
    // Start (restore + first reconcile against listNics) is retried too, as the agent's start is:
    // a failed start leaves nothing running, so a fresh manager tries again.
    let pm: PoolManager;
    for (let attempt = 0; ; attempt++) {
      pm = new PoolManager({ provider, store: new MemoryCheckpointStore(), limits, targets: opts.prefix ? { prefixDelegation: true, warmPrefixes: 1 } : { warmIps: 8, maxAboveTarget: 4 }, clock, intervalMs: 5000, reconcileIntervalMs: 600_000, allocateDeadlineMs: 10_000 });
      try {
        await pm.start();
        break;
      } catch {
        startRetries++;
        await clock.sleep(Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + random()));
      }
    }
    managers.push(pm);
    for (;;) {
      if (pm.status().counts.available >= 8) break;
      await clock.sleep(250);
    }
    warm.push(clock.now() - booted);
    bootWrites[i] = writesByNode[i] ?? 0;
    // Pods arrive over the next minute, as a deployment scales up.
    for (let k = 0; k < opts.podsPerNode; k++) {
      await clock.sleep(random() * (60_000 / opts.podsPerNode));
      const a0 = clock.now();
      // kubelet retries an ADD that failed with "try again" (CNI 11); a pod is a failure only if it never gets networked within 5 minutes.
      let done = false;
      while (!done && clock.now() - a0 < 300_000) {
        try {
          await pm.allocate({ containerId: `vm${i}-p${k}`, ifname: 'eth0' });
          done = true;
        } catch {
          await clock.sleep(1000);
        }
      }
      if (done) adds.push(clock.now() - a0);
      else failures++;
    }
  };

  let booted = 0;
  const tick = setInterval(() => progress(`azure scale: ${warm.length}/${opts.nodes} warm, ${booted} done, emulated ${Math.round((clock.now() - t0) / 1000)} s, writes ${writesByNode.reduce((a, b) => a + b, 0)}`), 5000);
  await Promise.all(
    Array.from({ length: opts.nodes }, (_, i) =>
      runNode(i).then(
        () => void booted++,
        (err: unknown) => {
          failures += opts.podsPerNode;
          progress(`node vm${i} failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      ),
    ),
  );
  clearInterval(tick);
  // Leaks: after each agent's reconcile (cloud truth into the pool), every secondary
  // configuration the cloud holds must be known to its node's pool.
  for (const pm of managers) await pm.reconcile().catch(() => undefined);
  let leakTotal = 0;
  const known = new Set(managers.flatMap((pm) => pm.status().nics.flatMap((n) => n.blocks.map((b) => b.cidr))));
  for (const nic of emu.state.nics.values()) {
    for (const c of nic.ipConfigs) {
      if (c.primary) continue;
      const base = `${c.address >>> 24}.${(c.address >>> 16) & 255}.${(c.address >>> 8) & 255}.${c.address & 255}`;
      const ip = `${base}/${c.prefixLength ?? 32}`;
      if (!known.has(ip)) leakTotal++;
    }
  }
  for (const pm of managers) await pm.stop();
  const stats = emu.stats();
  await emu.stop();
  const totalWrites = writesByNode.reduce((a, b) => a + b, 0);
  const totalBoot = bootWrites.reduce((a, b) => a + b, 0);
  return {
    cloud: 'azure',
    prefix: opts.prefix === true,
    nodes: opts.nodes,
    podsPerNode: opts.podsPerNode,
    speed: opts.speed,
    armWrites: {
      total: totalWrites,
      perNodeMean: Math.round((totalWrites / opts.nodes) * 100) / 100,
      perNodeMax: Math.max(...writesByNode),
      boot: Math.round((totalBoot / opts.nodes) * 100) / 100,
      pods: Math.round(((totalWrites - totalBoot) / opts.nodes) * 100) / 100,
    },
    armReads: { total: readsByNode.reduce((a, b) => a + b, 0), perNodeMean: Math.round((readsByNode.reduce((a, b) => a + b, 0) / opts.nodes) * 100) / 100 },
    throttled: Object.fromEntries(Object.entries(stats.throttled).filter(([op]) => WRITES.has(op) || op.endsWith('/read'))),
    warmPoolMs: { p50: Math.round(q(warm, 0.5)), p99: Math.round(q(warm, 0.99)), max: Math.round(Math.max(0, ...warm)) },
    podAddMs: { p50: Math.round(q(adds, 0.5)), p99: Math.round(q(adds, 0.99)) },
    failures,
    startRetries,
    leakTotal,
    wallMs: Date.now() - started,
  };
}
