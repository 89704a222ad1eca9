// A ready-made lab: two nodes in VPC 10.0.0.0/16, each with a primary NIC in subnet A
// (10.0.1.0/24) and a secondary NIC in subnet B (10.0.2.0/24), a LinuxDatapath per node
// with setupNode + setupNic done, and a fabric that knows every address. Used by the
// privileged tests and the datapath benchmark.
import type { HostNic, NodeNetConfig } from '../datapath/datapath.ts';
import { LinuxDatapath } from '../datapath/linux-datapath.ts';
import { Lab, type LabNicSpec } from './lab.ts';
import { type FabricNic, type FabricState, subnetGateway } from './fabric-state.ts';
import { cidrAddresses } from '../util/ip.ts';

export const VPC_CIDR = '10.0.0.0/16';
export const SUBNET_A = '10.0.1.0/24';
export const SUBNET_B = '10.0.2.0/24';
export const MTU = 9001;

export interface ScenarioNode {
  name: string;
  netnsPath: string;
  ns: string;
  datapath: LinuxDatapath;
  nics: HostNic[];
  cfg: NodeNetConfig;
  /** Secondary blocks the fabric routes to each NIC, by device index. */
  blocks: Map<number, string[]>;
}

export interface Scenario {
  lab: Lab;
  nodes: ScenarioNode[];
  fabricState(): FabricState;
  /** Applies fabricState() to the lab. */
  syncFabric(): Promise<void>;
  destroy(): void;
}

function mac(node: number, dev: number): string {
  return `02:00:00:00:${node.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}`;
}

function hostNic(spec: LabNicSpec): HostNic {
  return { deviceIndex: spec.deviceIndex, mac: spec.mac, primaryIp: spec.primaryIp, subnetCidr: spec.subnetCidr, gateway: subnetGateway(spec.subnetCidr), mtu: MTU };
}

/**
 * Node i (1-based) has eth0 10.0.1.(i*10) and eth1 10.0.2.(i*10); its pods get addresses
 * from `podsPerNic` secondary IPs per NIC: 10.0.1.(i*10+k) and 10.0.2.(i*10+k), k=1..n, or
 * from /28 prefixes 10.0.(1|2).(64*i + ...) when `prefixes` is set (for benchmarks).
 */
export async function createScenario(opts: { prefix: string; nodes?: number; podsPerNic?: number; prefixes?: boolean; masquerade?: boolean }): Promise<Scenario> {
  const lab = Lab.create({ prefix: opts.prefix });
  const nodes: ScenarioNode[] = [];
  try {
    for (let i = 1; i <= (opts.nodes ?? 2); i++) {
      const name = `node${i}`;
      const eth0: LabNicSpec = { deviceIndex: 0, mac: mac(i, 0), primaryIp: `10.0.1.${i * 10}`, subnetCidr: SUBNET_A, mtu: MTU };
      const eth1: LabNicSpec = { deviceIndex: 1, mac: mac(i, 1), primaryIp: `10.0.2.${i * 10}`, subnetCidr: SUBNET_B, mtu: MTU };
      const labNode = lab.addNode(name, eth0);
      lab.attachNic(name, eth1);
      const datapath = new LinuxDatapath({ nodeNetns: labNode.netnsPath });
      const cfg: NodeNetConfig = {
        primaryIp: eth0.primaryIp,
        primaryMac: eth0.mac,
        vpcCidrs: [VPC_CIDR],
        masquerade: { enabled: opts.masquerade ?? true, nonMasqueradeCidrs: [], masqueradeLinkLocal: false, randomFully: true },
        mtu: MTU,
      };
      const nics = [hostNic(eth0), hostNic(eth1)];
      const blocks = new Map<number, string[]>();
      const n = opts.podsPerNic ?? 4;
      for (const nic of nics) {
        const third = nic.deviceIndex === 0 ? 1 : 2;
        if (opts.prefixes) {
          // n addresses from /28 prefixes starting at 10.0.x.(64*i): up to 4 prefixes per NIC.
          const count = Math.ceil(n / 16);
          blocks.set(nic.deviceIndex, Array.from({ length: count }, (_, k) => `10.0.${third}.${64 * i + 16 * k}/28`));
        } else {
          blocks.set(nic.deviceIndex, Array.from({ length: n }, (_, k) => `10.0.${third}.${i * 10 + k + 1}/32`));
        }
      }
      nodes.push({ name, netnsPath: labNode.netnsPath, ns: labNode.ns, datapath, nics, cfg, blocks });
      await datapath.setupNode(cfg);
      for (const nic of nics) await datapath.setupNic(nic);
    }
  } catch (err) {
    for (const n of nodes) n.datapath.close();
    lab.destroy();
    throw err;
  }
  const fabricState = (): FabricState => ({
    nics: nodes.flatMap((n) =>
      n.nics.map(
        (nic): FabricNic => ({ node: n.name, deviceIndex: nic.deviceIndex, mac: nic.mac, primaryIp: nic.primaryIp, subnetCidr: nic.subnetCidr, gateway: nic.gateway, blocks: n.blocks.get(nic.deviceIndex) ?? [] }),
      ),
    ),
  });
  const scenario: Scenario = {
    lab,
    nodes,
    fabricState,
    syncFabric: () => lab.applyFabricState(fabricState()),
    destroy: () => {
      for (const n of nodes) n.datapath.close();
      lab.destroy();
    },
  };
  try {
    await scenario.syncFabric();
  } catch (err) {
    scenario.destroy();
    throw err;
  }
  return scenario;
}

/** Pod addresses of a node's NIC (expands /28 prefixes, skipping nothing: AWS hands out all 16). */
export function podAddresses(node: ScenarioNode, deviceIndex: number): string[] {
  return (node.blocks.get(deviceIndex) ?? []).flatMap((b) => cidrAddresses(b));
}
