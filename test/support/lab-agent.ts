// One simulated node with the real thing on it: the EC2 emulator (real SDK over HTTP), a lab
// node netns wired by CloudLab, and an in-process Agent whose LinuxDatapath works in that
// netns and whose built forwarder it installs. Pods are lab netns named <prefix>-p-pod<i>.
// Needs root. destroy() removes every namespace, also after a failed start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AwsEmulator, EniView } from '../../providers/aws/emulator/index.ts';
import { CLOUDS } from '../../providers/registry.ts';
import { Agent } from '../../src/agent/agent.ts';
import { subnetGateway } from '../../src/util/ip.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { HostNic } from '../../src/datapath/datapath.ts';
import { CloudLab } from '../../src/lab/cloud-lab.ts';
import { Lab, type LabNode } from '../../src/lab/lab.ts';
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts';

export const SUBNET = '10.0.0.0/20';
const MTU = 9001;
const CREDENTIALS = { accessKeyId: 'AKIDLAB', secretAccessKey: 'lab-secret' };

export interface LabAgentOptions {
  /** Lab namespace prefix of this run (e.g. vpb1a2b). */
  prefix: string;
  instanceType: string;
  /** `pool` section of the agent config (raw, as in a config file). */
  pool: Record<string, unknown>;
  logger?: Logger;
  /** ADD waits this long for a refill. */
  addDeadlineMs?: number;
}

export interface LabAgent {
  emulator: AwsEmulator;
  lab: Lab;
  node: LabNode;
  agent: Agent;
  instanceId: string;
  /** The installed forwarder (<dir>/bin/vpcnet). */
  cniBin: string;
  /** Environment the forwarder needs besides CNI_* (agent socket, CNI_PATH). */
  cniEnv: Record<string, string>;
  dir: string;
  /** Creates pod netns <prefix>-p-pod<i>; returns the path prefix to append <i> to. */
  addPods(count: number): string;
  podNs(i: number): string;
  /** Waits until the fabric reflects the emulator's state (new NICs, addresses). */
  syncFabric(): Promise<void>;
  /** The instance's ENIs as the emulator holds them. */
  enis(): EniView[];
  /** The HostNic of an ENI, as the agent derives it. */
  hostNic(eni: EniView): HostNic;
  destroy(): Promise<void>;
}

export async function startLabAgent(o: LabAgentOptions): Promise<LabAgent> {
  const dir = mkdtempSync(join(tmpdir(), `${o.prefix}-`));
  const aws = CLOUDS.aws;
  const emulator: AwsEmulator = new (await aws.emulator()).AwsEmulator({ seed: 11 });
  const { labCloud } = await aws.lab();
  let lab: Lab | undefined;
  let cloudLab: CloudLab | undefined;
  let agent: Agent | undefined;
  const destroy = async (): Promise<void> => {
    await agent?.stop().catch(() => undefined);
    cloudLab?.stop();
    lab?.destroy();
    await emulator.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const endpoint = await emulator.start({ port: 0 });
    const scenario = emulator.applyScenario({
      region: 'us-west-2',
      vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: SUBNET, az: 'us-west-2a' }] }],
      instances: [{ instanceType: o.instanceType, subnet: SUBNET }],
    });
    const instanceId = scenario.instanceIds[0]!;
    lab = Lab.create({ prefix: o.prefix });
    cloudLab = new CloudLab({ lab, cloud: labCloud(emulator), mtu: MTU });
    const node = cloudLab.addInstance('node1', instanceId);
    await cloudLab.start();
    const config = configSchema.parse({
      clusterName: 'lab',
      nodeName: 'node1',
      provider: { name: 'aws', apiEndpoint: endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
      pool: o.pool,
      datapath: { mtu: MTU, nodeNetns: node.netnsPath },
      paths: { socket: join(dir, 'run', 'cni.sock'), checkpoint: join(dir, 'state', 'checkpoint.json'), cniBinDir: join(dir, 'bin'), cniConfDir: join(dir, 'net.d') },
      cni: { addDeadlineMs: o.addDeadlineMs ?? 20_000 },
    });
    agent = new Agent(config, {
      credentials: CREDENTIALS,
      noHttp: true,
      metrics: new PrometheusMetrics({ processMetrics: false }),
      ...(o.logger ? { logger: o.logger } : {}),
    });
    await agent.start();
    const started = agent;
    await waitFor(() => started.status().installed, 30_000);
    await cloudLab.sync();
    const theLab = lab;
    const theCloudLab = cloudLab;
    return {
      emulator,
      lab,
      node,
      agent,
      instanceId,
      cniBin: join(config.paths.cniBinDir, 'vpcnet'),
      cniEnv: { VPCNET_AGENT_SOCKET: config.paths.socket, CNI_PATH: config.paths.cniBinDir },
      dir,
      addPods: (count) => {
        for (let i = 0; i < count; i++) theLab.addPod(`pod${i}`);
        return `/var/run/netns/${theLab.podNs('pod')}`;
      },
      podNs: (i) => theLab.podNs(`pod${i}`),
      syncFabric: () => theCloudLab.sync(),
      enis: () => emulator.listEnis().filter((e) => e.instanceId === instanceId),
      hostNic: (eni) => ({
        deviceIndex: eni.deviceIndex ?? 0,
        mac: eni.mac.toLowerCase(),
        primaryIp: eni.primaryIp,
        subnetCidr: eni.subnetCidr,
        gateway: subnetGateway(eni.subnetCidr),
        mtu: MTU,
      }),
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
