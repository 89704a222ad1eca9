// A node under test: the whole Agent (AWS provider over the real SDK against the EC2
// emulator, FakeDatapath, CNI socket driven through the built forwarder) with Kubernetes on,
// talking to the fake API server through a kubeconfig file as it would in a cluster.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEmulator } from '../../../providers/aws/emulator/index.ts';
import type { Scenario } from '../../../providers/aws/emulator/scenario.ts';
import { Agent } from '../../../src/agent/agent.ts';
import { configSchema, type VpcnetConfig } from '../../../src/config/schema.ts';
import { MemoryNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { FakeDatapath } from '../../../src/datapath/fake-datapath.ts';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver/server.ts';
import { installBuiltForwarder, runForwarder, type CniRun } from '../cni/forwarder-harness.ts';

/** The netconf of an agent working in `dir`, as its conflist gives it. */
export const confFor = (dir: string): string => JSON.stringify({ cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet', agentSocket: join(dir, 'run', 'cni.sock'), delSpoolDir: join(dir, 'del-spool') });
export const fastBackoff = { baseMs: 20, capMs: 200 };

export interface World {
  emulator: AwsEmulator;
  api: FakeApiServer;
  dir: string;
  forwarder: string;
  kubeconfig: string;
  instanceIds: string[];
  subnetIds: string[];
  close(): Promise<void>;
}

export async function startWorld(scenario: Scenario): Promise<World> {
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
  const emulator = new AwsEmulator({ seed: 11 });
  await emulator.start({ port: 0 });
  const { instanceIds, subnetIds } = emulator.applyScenario(scenario);
  const api = new FakeApiServer();
  await api.start();
  const dir = mkdtempSync(join(tmpdir(), 'vpcnet-k8s-agent-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig());
  const forwarder = join(await installBuiltForwarder(dir), 'vpcnet');
  return {
    emulator,
    api,
    dir,
    forwarder,
    kubeconfig,
    instanceIds,
    subnetIds,
    close: async () => {
      await api.stop();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function nodeObj(name: string, instanceId: string, extra: { labels?: Record<string, string>; taints?: Obj[] } = {}): Obj {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': 'us-west-2a', ...extra.labels } },
    spec: { providerID: `aws:///us-west-2a/${instanceId}`, ...(extra.taints ? { taints: extra.taints } : {}) },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
}

export function podObj(namespace: string, name: string, nodeName: string, uid: string): Obj {
  return {
    metadata: { namespace, name, uid },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running' },
  };
}

export interface PodSpec {
  namespace: string;
  name: string;
  uid: string;
}

export interface NodeOptions {
  name: string;
  instanceId: string;
  pool?: Record<string, unknown>;
  kubernetes?: Record<string, unknown>;
  provider?: Record<string, unknown>;
}

/** One node: its own directories, config and (re)startable agent. */
export class TestNode {
  readonly world: World;
  readonly opts: NodeOptions;
  readonly dir: string;
  agent: Agent | undefined;

  constructor(world: World, opts: NodeOptions) {
    this.world = world;
    this.opts = opts;
    this.dir = join(world.dir, opts.name);
    mkdirSync(join(this.dir, 'netns'), { recursive: true });
  }

  config(): VpcnetConfig {
    const { emulator, kubeconfig } = this.world;
    return configSchema.parse({
      clusterName: 'it',
      nodeName: this.opts.name,
      apiListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      provider: {
        name: 'aws',
        apiEndpoint: emulator.endpoint,
        metadataEndpoint: emulator.imdsEndpoint(this.opts.instanceId),
        region: 'us-west-2',
        ...this.opts.provider,
      },
      pool: { warmIps: 3, cooldownMs: 500, prefixDelegation: false, ...this.opts.pool },
      datapath: { mtu: 1500 },
      paths: {
        socket: join(this.dir, 'run', 'cni.sock'),
        delSpoolDir: join(this.dir, 'del-spool'),
        checkpoint: join(this.dir, 'state', 'checkpoint.json'),
        cniBinDir: join(this.dir, 'host-bin'),
        cniConfDir: join(this.dir, 'net.d'),
      },
      cni: { addDeadlineMs: 5000, netnsPathPrefixes: [join(this.dir, 'netns') + '/'] },
      kubernetes: { enabled: true, kubeconfig, requestTimeoutMs: 1000, ...this.opts.kubernetes },
    });
  }

  /** Builds the agent; start() is left to the caller when it wants to watch start-up. */
  create(): Agent {
    this.agent = new Agent(this.config(), {
      datapath: new FakeDatapath({ allowedNetnsDirs: [join(this.dir, 'netns')] }),
      netns: new MemoryNetnsInspector(),
      kube: { backoff: fastBackoff, statusIntervalMs: 100 },
    });
    return this.agent;
  }

  async start(): Promise<Agent> {
    const agent = this.create();
    await agent.start();
    return agent;
  }

  async stop(): Promise<void> {
    await this.agent?.stop();
  }

  get running(): Agent {
    if (!this.agent) throw new Error('agent not created');
    return this.agent;
  }

  cni(command: string, containerId: string, pod?: PodSpec): Promise<CniRun> {
    const args: Record<string, string> = pod ? { CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_UID=${pod.uid}` } : {};
    return runForwarder(
      this.world.forwarder,
      {
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: join(this.dir, 'netns', containerId),
        CNI_IFNAME: 'eth0',
        CNI_PATH: this.world.dir,
        ...args,
      },
      confFor(this.dir),
    );
  }

  checkpointText(): string {
    return readFileSync(join(this.dir, 'state', 'checkpoint.json'), 'utf8');
  }
}

export function ipOf(run: CniRun): string {
  const ips = run.json?.ips as Array<{ address: string }> | undefined;
  return ips?.[0]?.address.split('/')[0] ?? '';
}

/** Polls a condition; tests wait on behaviour, never on elapsed time. */
export async function waitFor(cond: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export function nodeConditions(api: FakeApiServer, name: string): ConditionView[] {
  const n = api.get('nodes', name);
  return ((n?.['status'] as { conditions?: ConditionView[] } | undefined)?.conditions ?? []);
}

export function nodeTaints(api: FakeApiServer, name: string): { key: string }[] {
  const n = api.get('nodes', name);
  return ((n?.['spec'] as { taints?: { key: string }[] } | undefined)?.taints ?? []);
}

export function nodeEvents(api: FakeApiServer, name: string): { reason: string; type: string; message: string }[] {
  return api
    .list('events')
    .filter((e) => (e['involvedObject'] as { name?: string } | undefined)?.name === name)
    .map((e) => ({ reason: String(e['reason']), type: String(e['type']), message: String(e['message']) }));
}
