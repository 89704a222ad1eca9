// One lab node on the EC2 emulator whose agent runs as its own process (so a test can SIGKILL
// it), with the built forwarder installed: what the crash and kill -9 tests share.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEmulator } from '../../providers/aws/emulator/index.ts';
import { labCloud } from '../../providers/aws/lab-binding.ts';
import { CONFLIST_NAME } from '../../src/cni/install.ts';
import { CloudLab } from '../../src/lab/cloud-lab.ts';
import { Lab } from '../../src/lab/lab.ts';
import { installBuiltForwarder, runForwarder, type CniRun } from '../integration/cni/forwarder-harness.ts';
import { AgentProcess } from './agent-process.ts';
import { agentPaths } from './agent-paths.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface CrashNodeOptions {
  /** Base prefix of the lab's namespaces and of the work directory. */
  tag: string;
  seed: number;
  /** The VPC's /16; the node's subnet is its first /20. */
  vpcCidr: string;
  clusterName: string;
  /** Agent config sections merged over the defaults. */
  pool: Record<string, unknown>;
  cni: Record<string, unknown>;
  reconcile: Record<string, unknown>;
}

export interface CheckpointView {
  allocations: Array<{ containerId: string; ifname: string; ip: string }>;
  nics: Array<{ id: string; blocks: Array<{ cidr: string }> }>;
}

export interface CrashNode {
  emulator: AwsEmulator;
  lab: Lab;
  agent: AgentProcess;
  forwarder: string;
  instanceId: string;
  /** The node's netns name in the lab. */
  nodeNs: string;
  checkpoint: string;
  /** The netconf a runtime sends: the agent's own conflist, first plugin. */
  conf: string;
  readCheckpoint(): CheckpointView;
  /** ADD or DEL of a pod's eth0 through the built forwarder, as a runtime sends it. */
  cni(command: 'ADD' | 'DEL', pod: { name: string; containerId: string; netns: string }, k8sNamespace: string): Promise<CniRun>;
  /** Stops everything; the lab's namespaces are gone afterwards (returned: those still listed). */
  stop(): Promise<string[]>;
}

export async function startCrashNode(o: CrashNodeOptions): Promise<CrashNode> {
  // The agent process loads the setns addon from build/native (build.sh is incremental).
  execFileSync('bash', [join(ROOT, 'src/datapath/native/build.sh')], { stdio: 'ignore' });
  const work = mkdtempSync(join(tmpdir(), `${o.tag}-`));
  const forwarder = join(await installBuiltForwarder(work), 'vpcnet');
  const emulator = new AwsEmulator({ seed: o.seed });
  const endpoint = await emulator.start({ port: 0 });
  const subnet = o.vpcCidr.replace(/\/16$/, '/20');
  const scenario = emulator.applyScenario({
    region: 'us-west-2',
    vpcs: [{ cidr: o.vpcCidr, subnets: [{ cidr: subnet, az: 'us-west-2a' }] }],
    instances: [{ instanceType: 'm5.large', subnet }],
  });
  const instanceId = scenario.instanceIds[0]!;
  const lab = Lab.create({ basePrefix: o.tag });
  const cloudLab = new CloudLab({ lab, cloud: labCloud(emulator) });
  const nodeNs = cloudLab.addInstance('node1', instanceId).ns;
  let agent: AgentProcess | undefined;
  const stop = async (): Promise<string[]> => {
    await agent?.close();
    cloudLab.stop();
    lab.destroy();
    await emulator.stop();
    rmSync(work, { recursive: true, force: true });
    return execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(`${lab.prefix}-`));
  };
  try {
    await cloudLab.start();
    const checkpoint = agentPaths(work).checkpoint;
    const configFile = join(work, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        clusterName: o.clusterName,
        logLevel: 'info',
        apiListen: '127.0.0.1:0',
        metricsListen: '127.0.0.1:0',
        provider: { name: 'aws', apiEndpoint: endpoint, metadataEndpoint: emulator.imdsEndpoint(instanceId), region: 'us-west-2' },
        pool: o.pool,
        datapath: { mtu: 9001, nodeNetns: lab.node('node1').netnsPath },
        paths: agentPaths(work),
        cni: o.cni,
        reconcile: o.reconcile,
      }),
    );
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_ACCESS_KEY_ID: `AKID${o.tag.toUpperCase()}`, AWS_SECRET_ACCESS_KEY: `${o.tag}-secret` };
    // The agent's log stays in build/test-results (not committed) for debugging a failed phase.
    mkdirSync(join(ROOT, 'build', 'test-results'), { recursive: true });
    agent = new AgentProcess(configFile, env, join(ROOT, 'build', 'test-results', `${o.clusterName}-agent.log`));
    await agent.start();
    const list = JSON.parse(readFileSync(join(work, 'net.d', CONFLIST_NAME), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const conf = JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] });
    const readCheckpoint = (): CheckpointView => (JSON.parse(readFileSync(checkpoint, 'utf8')) as { data: CheckpointView }).data;
    const cni: CrashNode['cni'] = (command, pod, k8sNamespace) =>
      runForwarder(
        forwarder,
        {
          CNI_COMMAND: command,
          CNI_CONTAINERID: pod.containerId,
          CNI_NETNS: pod.netns,
          CNI_IFNAME: 'eth0',
          CNI_PATH: join(forwarder, '..'),
          CNI_ARGS: `K8S_POD_NAMESPACE=${k8sNamespace};K8S_POD_NAME=${pod.name}`,
        },
        conf,
      );
    return { emulator, lab, agent, forwarder, instanceId, nodeNs, checkpoint, conf, readCheckpoint, cni, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
