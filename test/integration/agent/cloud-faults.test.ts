// The same fault scenario on every cloud, seeded, with counts printed: 30 % throttling and 5 %
// HTTP 500 on every cloud call from the first one, metadata answering late (each answer held
// METADATA_DELAY_MS by a proxy; on AWS also lagging the API by 2 s), a 20-pod burst, kill -9 of
// the agent, a restart and five more ADDs. Each pod must be networked on its first ADD (no code 11), the
// pool must equal the cloud after a reconcile, and DEL of everything must leave nothing. The
// start-up time under faults is printed beside a fault-free start-up of the same run (another
// node of the same emulator), never asserted. The agent runs as its own process with the fake
// datapath (no root): test/support/fake-datapath-agent.ts.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { AwsEmulator } from '../../../providers/aws/emulator/index.ts';
import { AzureEmulator } from '../../../providers/azure/emulator/index.ts';
import { GcpEmulator } from '../../../providers/gcp/emulator/index.ts';
import type { AgentStatus } from '../../../src/agent/agent.ts';
import { installBuiltForwarder, runForwarder, type CniRun } from '../cni/forwarder-harness.ts';
import { agentPaths } from '../../support/agent-paths.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SEED = 19;
const BURST = 20;
const MORE = 5;
const METADATA_DELAY_MS = 300;

/**
 * Metadata answering late: forwards every request to `target` after `delayMs`. Cloud-neutral
 * (IMDSv2 token PUTs, GCE's Metadata-Flavor, Azure's Metadata header all pass through).
 */
async function lateMetadata(target: string, delayMs: number): Promise<{ url: string; server: Server; delayed: () => number }> {
  let delayed = 0;
  const base = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (delayMs > 0) {
          delayed++;
          await new Promise((r) => setTimeout(r, delayMs));
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        try {
          const body = chunks.length ? Buffer.concat(chunks) : undefined;
          const up = await fetch(new URL(req.url ?? '/', base), { method: req.method ?? 'GET', headers, ...(body ? { body } : {}) });
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'content-encoding' && k !== 'connection') out[k] = v;
          });
          res.writeHead(up.status, out).end(Buffer.from(await up.arrayBuffer()));
        } catch {
          res.destroy();
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const prefix = base.pathname.replace(/\/$/, '');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`, server, delayed: () => delayed };
}

interface Cloud {
  name: 'aws' | 'azure' | 'gcp';
  start(work: string): Promise<void>;
  /** The metadata base URL of node 0 (fault-free start) or 1 (under faults). */
  metadata(node: number): string;
  /** provider section of a node, its metadata read from `metadata` */
  provider(node: number, metadata: string): Record<string, unknown>;
  /** Cloud API calls answered so far. */
  calls(): number;
  faults(on: boolean): void;
  /** Faults answered so far. */
  fired(): number;
  stop(): Promise<void>;
}

function awsCloud(): Cloud {
  // metadata lags the API by 2 s as well (eventual consistency)
  const emu = new AwsEmulator({ seed: SEED, imdsLagMs: 2000 });
  let ids: string[] = [];
  return {
    name: 'aws',
    async start() {
      await emu.start({ port: 0 });
      ids = emu.applyScenario({
        region: 'us-west-2',
        vpcs: [{ cidr: '10.20.0.0/16', subnets: [{ cidr: '10.20.0.0/20', az: 'us-west-2a' }] }],
        instances: [
          { instanceType: 'm5.large', subnet: '10.20.0.0/20' },
          { instanceType: 'm5.large', subnet: '10.20.0.0/20' },
        ],
      }).instanceIds;
    },
    metadata: (n) => emu.imdsEndpoint(ids[n] ?? ''),
    provider: (_n, metadata) => ({ name: 'aws', apiEndpoint: emu.endpoint, metadataEndpoint: metadata, region: 'us-west-2' }),
    calls: () => sum(emu.stats().calls),
    faults(on) {
      emu.faults.clear();
      if (!on) return;
      emu.faults.add({ action: '*', code: 'RequestLimitExceeded', probability: 0.3 });
      emu.faults.add({ action: '*', code: 'InternalError', status: 500, probability: 0.05 });
    },
    fired: () => emu.faults.list().reduce((a, r) => a + r.fired, 0),
    stop: () => emu.stop(),
  };
}

function gcpCloud(): Cloud {
  const emu = new GcpEmulator({ seed: SEED, project: 'faults', operationDelayMs: 50 });
  const zone = 'us-central1-a';
  let fired = 0;
  return {
    name: 'gcp',
    async start() {
      emu.applyScenario({
        subnets: [{ name: 'nodes', region: 'us-central1', network: 'vpc', ipCidrRange: '10.128.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.4.0.0/14' }] }],
        instances: [
          { name: 'node-0', zone, subnet: 'nodes' },
          { name: 'node-1', zone, subnet: 'nodes' },
        ],
      });
      await emu.start();
    },
    metadata: (n) => emu.metadataEndpoint(zone, `node-${n}`),
    provider: (_n, metadata) => ({ name: 'gcp', apiEndpoint: emu.endpoint, metadataEndpoint: metadata }),
    calls: () => sum(emu.stats().calls),
    faults(on) {
      fired += emu.faults.list().reduce((a, r) => a + ((r as { fired?: number }).fired ?? 0), 0);
      emu.faults.clear();
      if (!on) return;
      // a spent rate quota as GCE sends it: 403 rateLimitExceeded, classic body
      emu.faults.add({ method: '*', status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', probability: 0.3 });
      emu.faults.add({ method: '*', status: 500, reason: 'backendError', probability: 0.05 });
    },
    fired: () => fired + emu.faults.list().reduce((a, r) => a + ((r as { fired?: number }).fired ?? 0), 0),
    stop: () => emu.stop(),
  };
}

function azureCloud(): Cloud {
  const emu = new AzureEmulator({ seed: SEED, operationMs: 100 });
  let endpoint = '';
  let tokenFile = '';
  return {
    name: 'azure',
    async start(work) {
      tokenFile = join(work, 'sa-token');
      writeFileSync(tokenFile, 'faults-service-account-token');
      endpoint = await emu.start({ port: 0 });
      emu.applyScenario({
        resourceGroup: 'faults',
        location: 'westeurope',
        vnets: [{ name: 'vnet', addressPrefixes: ['10.0.0.0/16'], subnets: [{ name: 'nodes', addressPrefix: '10.0.0.0/20' }] }],
        vms: [0, 1].map((i) => ({ name: `vm${i}`, size: 'Standard_D4s_v5', subnet: 'vnet/nodes' })),
      });
    },
    metadata: (n) => emu.imdsUrlFor(`vm${n}`),
    calls: () => sum(emu.stats().calls),
    provider: (_n, metadata) => ({
      name: 'azure',
      apiEndpoint: endpoint,
      metadataEndpoint: metadata,
      caFile: emu.tls.caPath,
      identity: 'workload',
      tenantId: emu.state.tenantId,
      workloadClientId: '00000000-0000-4000-8000-00000000de30',
      federatedTokenFile: tokenFile,
      authorityHost: endpoint,
      lroPollMs: 50,
    }),
    faults(on) {
      emu.faults.clear();
      if (!on) return;
      emu.faults.add({ action: '*', code: 'TooManyRequests', status: 429, retryAfterSeconds: 1, probability: 0.3 });
      emu.faults.add({ action: '*', code: 'InternalServerError', status: 500, probability: 0.05 });
    },
    fired: () => emu.faults.list().reduce((a, r) => a + r.fired, 0),
    stop: () => emu.stop(),
  };
}

class Node {
  child: ChildProcess | undefined;
  api = 0;
  private readonly configFile: string;
  constructor(configFile: string) {
    this.configFile = configFile;
  }

  /** Starts the agent process; resolves with its start-up time (ms, from process start to serving). */
  async start(): Promise<number> {
    const child = spawn(process.execPath, [join(ROOT, 'test/support/fake-datapath-agent.ts'), this.configFile], {
      env: { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: 'AKIDFAULTS', AWS_SECRET_ACCESS_KEY: 'faults-secret' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`agent exited (${code}) before serving`)));
    });
    const out = JSON.parse(line) as { started: number; api: number };
    this.api = out.api;
    return out.started;
  }

  async status(): Promise<AgentStatus> {
    return (await (await fetch(`http://127.0.0.1:${this.api}/v1/status`)).json()) as AgentStatus;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }
}

const sum = (calls: Record<string, number>): number => Object.values(calls).reduce((a, b) => a + b, 0);

function nodeConfig(cloud: Cloud, n: number, dir: string, metadata = cloud.metadata(n)): string {
  mkdirSync(join(dir, 'netns'), { recursive: true });
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      clusterName: 'faults',
      logLevel: 'silent',
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: cloud.provider(n, metadata),
      paths: agentPaths(dir),
      cni: { addDeadlineMs: 10_000, netnsPathPrefixes: [join(dir, 'netns') + '/'] },
      reconcile: { intervalMs: 2000 },
    }),
  );
  return file;
}

const conf = (dir: string): string => JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool') });

describe.each([['aws', awsCloud], ['azure', azureCloud], ['gcp', gcpCloud]] as const)('%s: 30%% throttling + 5%% HTTP 500 from the first call', (_name, make) => {
  const cloud = make();
  const work = mkdtempSync(join(tmpdir(), `vpcnet-faults-${cloud.name}-`));
  const nodes: Node[] = [];
  let forwarder = '';
  const servers: Server[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.kill('SIGKILL');
    for (const sv of servers) {
      sv.closeAllConnections();
      await new Promise<void>((r) => sv.close(() => r()));
    }
    await cloud.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const cni = (dir: string, command: string, id: string): Promise<CniRun> =>
    runForwarder(forwarder, { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: join(dir, 'netns', id), CNI_IFNAME: 'eth0', CNI_PATH: dir }, conf(dir));

  it('every pod networked on its first ADD, across kill -9 and restart; pool equals cloud; nothing left after DEL', async () => {
    await cloud.start(work);
    forwarder = join(await installBuiltForwarder(work), 'vpcnet');
    // fault-free start-up of node 0, the reference
    const cleanDir = join(work, 'node0');
    const clean = new Node(nodeConfig(cloud, 0, cleanDir));
    nodes.push(clean);
    const cleanMs = await clean.start();
    await clean.kill('SIGTERM');
    // node 1 under faults from its first call, its metadata answering late
    const late = await lateMetadata(cloud.metadata(1), METADATA_DELAY_MS);
    servers.push(late.server);
    const callsBefore = cloud.calls();
    cloud.faults(true);
    const dir = join(work, 'node1');
    const node = new Node(nodeConfig(cloud, 1, dir, late.url));
    nodes.push(node);
    const faultyMs = await node.start();
    const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => cni(dir, 'ADD', `burst-${i}`)));
    await node.kill('SIGKILL');
    const restartMs = await node.start();
    const more: CniRun[] = [];
    for (let i = 0; i < MORE; i++) more.push(await cni(dir, 'ADD', `more-${i}`));
    const adds = [...burst, ...more];
    const codes = adds.map((r) => (r.code === 0 ? 0 : Number((r.json as { code?: number } | undefined)?.code ?? -1)));
    const fired = cloud.fired();
    const calls = cloud.calls() - callsBefore;
    // the reconcile after the faults stop: the pool holds what the cloud holds for this node
    cloud.faults(false);
    await new Promise((r) => setTimeout(r, 5000));
    const status = await node.status();
    const poolBlocks = (status.pool?.nics ?? []).flatMap((n) => n.blocks.map((b) => b.cidr)).sort();
    const cloudBlocks = await cloudBlocksOf(cloud, status);
    const dels = [];
    for (const r of adds.keys()) dels.push(await cni(dir, 'DEL', r < BURST ? `burst-${r}` : `more-${r - BURST}`));
    const after = await node.status();
    console.log(
      `${cloud.name} (seed ${SEED}): first ADDs ok ${codes.filter((c) => c === 0).length}/${adds.length}, code 11: ${codes.filter((c) => c === 11).length}, ` +
        `other failures: ${codes.filter((c) => c !== 0 && c !== 11).length}; cloud calls ${calls}, faults answered ${fired}, metadata answers delayed ${late.delayed()}; ` +
        `start-up fault-free ${cleanMs} ms, under faults ${faultyMs} ms (${(faultyMs / cleanMs).toFixed(2)}x), after kill -9 ${restartMs} ms; ` +
        `pool blocks ${poolBlocks.length}, cloud blocks ${cloudBlocks.length}; DELs ok ${dels.filter((d) => d.code === 0).length}/${dels.length}, ` +
        `allocations left ${after.pods?.length ?? -1}`,
    );
    expect(codes.filter((c) => c === 0)).toHaveLength(BURST + MORE);
    expect(new Set(adds.map((r) => JSON.stringify(r.json?.ips))).size).toBe(BURST + MORE);
    expect(poolBlocks).toEqual(cloudBlocks);
    expect(dels.every((d) => d.code === 0)).toBe(true);
    expect(after.pods).toEqual([]);
    expect(after.pool?.counts.assigned).toBe(0);
  }, 240_000);
});

/** The node's blocks as the cloud reports them, through a fresh provider client of the same config. */
async function cloudBlocksOf(cloud: Cloud, _status: AgentStatus): Promise<string[]> {
  const { createProvider } = await import('../../../src/agent/provider-factory.ts');
  const { configSchema } = await import('../../../src/config/schema.ts');
  const { pino } = await import('pino');
  const { MemoryMetrics } = await import('../../../src/metrics/metrics.ts');
  const { systemClock } = await import('../../../src/util/clock.ts');
  const config = configSchema.parse({ clusterName: 'faults', provider: cloud.provider(1, cloud.metadata(1)) });
  const p = await createProvider(config, { clock: systemClock, metrics: new MemoryMetrics(), logger: pino({ level: 'silent' }), credentials: { accessKeyId: 'AKIDFAULTS', secretAccessKey: 'faults-secret' } });
  const nics = await p.listNics();
  return nics.flatMap((n) => n.blocks.map((b) => b.cidr)).sort();
}
