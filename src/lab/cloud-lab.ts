// Drives the lab from the EC2 emulator's state: an instance is a lab node, an attached ENI is
// a NIC of that node, and the addresses the API says an ENI owns are what the fabric routes
// to it (and the only sources it accepts from it). So an address assigned through the cloud
// API becomes reachable, and traffic the cloud would drop is dropped.
import type { AwsEmulator, EniView } from '../../providers/aws/emulator/index.ts';
import { fabricNicsFromCloud, type FabricNic } from './fabric-state.ts';
import type { Lab, LabNode } from './lab.ts';

export interface CloudLabOptions {
  lab: Lab;
  emulator: AwsEmulator;
  /** NIC MTU in the lab (AWS: 9001). */
  mtu?: number;
}

export class CloudLab {
  readonly lab: Lab;
  private readonly emulator: AwsEmulator;
  private readonly mtu: number;
  /** instanceId -> lab node name */
  private readonly nodesByInstance = new Map<string, string>();
  /** MACs plugged into the lab, by instance. */
  private readonly plugged = new Map<string, Set<string>>();
  private syncing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(opts: CloudLabOptions) {
    this.lab = opts.lab;
    this.emulator = opts.emulator;
    this.mtu = opts.mtu ?? 9001;
  }

  /** Makes a lab node for an emulated instance, with its primary ENI as eth0. */
  addInstance(name: string, instanceId: string): LabNode {
    const primary = this.attachedEnis(instanceId).find((e) => e.deviceIndex === 0);
    if (!primary) throw new Error(`instance ${instanceId} has no primary ENI`);
    const node = this.lab.addNode(name, this.nicSpec(primary));
    this.nodesByInstance.set(instanceId, name);
    this.plugged.set(instanceId, new Set([primary.mac.toLowerCase()]));
    return node;
  }

  /** Follows the emulator from now on; call after the instances are added. */
  async start(): Promise<void> {
    // NICs are plugged synchronously inside the change event, so a NIC exists in the node
    // before the AttachNetworkInterface response reaches the agent (as on a real instance,
    // modulo the device showing up a little later).
    this.unsubscribe = this.emulator.onChange(() => {
      this.plugNics();
      void this.sync();
    });
    this.plugNics();
    await this.sync();
  }

  /** Resolves once the fabric reflects every change seen so far. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.lab.applyFabricState({ nics: this.fabricNics() })).catch(() => undefined);
    return this.syncing;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private plugNics(): void {
    for (const [instanceId, node] of this.nodesByInstance) {
      const have = this.plugged.get(instanceId)!;
      const enis = this.attachedEnis(instanceId);
      const want = new Set(enis.map((e) => e.mac.toLowerCase()));
      for (const eni of enis) {
        if (have.has(eni.mac.toLowerCase())) continue;
        this.lab.attachNic(node, this.nicSpec(eni));
        have.add(eni.mac.toLowerCase());
      }
      for (const mac of [...have]) {
        if (want.has(mac)) continue;
        this.lab.detachNic(node, mac);
        have.delete(mac);
      }
    }
  }

  private fabricNics(): FabricNic[] {
    const out: FabricNic[] = [];
    for (const [instanceId, node] of this.nodesByInstance) {
      const nics = this.attachedEnis(instanceId).map((e) => ({
        deviceIndex: e.deviceIndex ?? 0,
        mac: e.mac,
        primaryIp: e.primaryIp,
        subnetCidr: e.subnetCidr,
        blocks: [...e.secondaryIps.map((ip) => ({ kind: 'ip', cidr: `${ip}/32` })), ...e.prefixes.map((p) => ({ kind: 'prefix', cidr: p }))],
      }));
      out.push(...fabricNicsFromCloud(node, nics));
    }
    return out;
  }

  private attachedEnis(instanceId: string): EniView[] {
    return this.emulator
      .listEnis()
      .filter((e) => e.instanceId === instanceId && e.attachmentStatus === 'attached' && e.deviceIndex !== undefined);
  }

  private nicSpec(e: EniView): { deviceIndex: number; mac: string; primaryIp: string; subnetCidr: string; mtu: number } {
    return { deviceIndex: e.deviceIndex ?? 0, mac: e.mac.toLowerCase(), primaryIp: e.primaryIp, subnetCidr: e.subnetCidr, mtu: this.mtu };
  }
}
