// Drives the lab from an emulator's state: an instance is a lab node, an attached NIC is a
// NIC of that node, and the addresses the API says a NIC owns are what the fabric routes to
// it (and the only sources it accepts from it). So an address assigned through the cloud API
// becomes reachable, and traffic the cloud would drop is dropped. Each cloud's emulator is
// seen through a LabCloud binding (providers/<cloud>/lab-binding.ts, via providers/registry.ts).
import { fabricNicsFromCloud, type FabricNic } from './fabric-state.ts';
import type { Lab, LabNode } from './lab.ts';


/** A NIC as the lab needs it: where it plugs in and which addresses the cloud says it owns. */
export interface LabCloudNic {
  deviceIndex: number;
  mac: string;
  primaryIp: string;
  subnetCidr: string;
  blocks: Array<{ kind: string; cidr: string }>;
}

/** What the lab reads from an emulator. */
export interface LabCloud {
  /** NICs attached to the instance now, in the emulator's truth (not the lagging metadata). */
  attachedNics(instanceId: string): LabCloudNic[];
  /** Called synchronously on every state change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** The NIC MTU this cloud uses (AWS 9001). */
  readonly mtu: number;
}

export interface CloudLabOptions {
  lab: Lab;
  cloud: LabCloud;
  /** NIC MTU in the lab; default the cloud's. */
  mtu?: number;
}

export class CloudLab {
  readonly lab: Lab;
  private readonly cloud: LabCloud;
  private readonly mtu: number;
  /** instanceId -> lab node name */
  private readonly nodesByInstance = new Map<string, string>();
  /** MACs plugged into the lab, by instance. */
  private readonly plugged = new Map<string, Set<string>>();
  private syncing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(opts: CloudLabOptions) {
    this.lab = opts.lab;
    this.cloud = opts.cloud;
    this.mtu = opts.mtu ?? opts.cloud.mtu;
  }

  /** Makes a lab node for an emulated instance, with its primary ENI as eth0. */
  addInstance(name: string, instanceId: string): LabNode {
    const primary = this.cloud.attachedNics(instanceId).find((e) => e.deviceIndex === 0);
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
    this.unsubscribe = this.cloud.onChange(() => {
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
      const enis = this.cloud.attachedNics(instanceId);
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
      const nics = this.cloud.attachedNics(instanceId);
      out.push(...fabricNicsFromCloud(node, nics));
    }
    return out;
  }

  private nicSpec(e: LabCloudNic): { deviceIndex: number; mac: string; primaryIp: string; subnetCidr: string; mtu: number } {
    return { deviceIndex: e.deviceIndex, mac: e.mac.toLowerCase(), primaryIp: e.primaryIp, subnetCidr: e.subnetCidr, mtu: this.mtu };
  }
}
