// The in-VM mini VPC for ipvlan mode. Lab plumbing uses `ip`/`nft` (test setup, not the
// per-pod path); pods are wired by LinuxDatapath in ipvlan mode. Topology:
//   fabric netns: routes the VPC subnets (plays the subnet gateways) and an "internet" uplink
//   node netns n1, n2: NIC eth0 = veth end towards the fabric; ipvlan pods hang off it
//   internet netns: routes back only to node primary addresses, so a pod reaches it only
//   when its traffic was SNATed to the node primary.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000 });
}

export function ipn(ns: string, ...args: string[]): string {
  return sh('ip', ['-n', ns, ...args]);
}

export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

export interface LabNode {
  name: string;
  ns: string;
  primaryIp: string;
  mac: string;
  subnetCidr: string;
  gateway: string;
}

export const VPC_CIDR = '10.0.0.0/16';
export const INET_IP = '198.51.100.10';

export class Lab {
  readonly prefix = `vpv${randomBytes(3).toString('hex')}`;
  readonly fabric = `${this.prefix}-fab`;
  readonly inet = `${this.prefix}-inet`;
  readonly nodes: LabNode[] = [1, 2].map((i) => ({
    name: `n${i}`,
    ns: `${this.prefix}-n${i}`,
    primaryIp: `10.0.${i}.2`,
    mac: `02:00:00:00:0${i}:02`,
    subnetCidr: `10.0.${i}.0/24`,
    gateway: `10.0.${i}.1`,
  }));
  /** A secondary NIC of node 1 (device index 1) in its own subnet. */
  readonly nic2 = { ns: this.nodes[0]?.ns ?? '', fabricIf: 'n1b', ifname: 'eth1', primaryIp: '10.0.3.2', mac: '02:00:00:00:03:02', subnetCidr: '10.0.3.0/24', gateway: '10.0.3.1' };
  private readonly created: string[] = [];

  nsPath(ns: string): string {
    return `/run/netns/${ns}`;
  }

  addNs(ns: string): string {
    sh('ip', ['netns', 'add', ns]);
    this.created.push(ns);
    ipn(ns, 'link', 'set', 'lo', 'up');
    return this.nsPath(ns);
  }

  build(): void {
    this.addNs(this.fabric);
    inNs(this.fabric, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const n of this.nodes) {
      this.addNs(n.ns);
      ipn(this.fabric, 'link', 'add', n.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
      ipn(this.fabric, 'addr', 'add', `${n.gateway}/24`, 'dev', n.name);
      ipn(this.fabric, 'link', 'set', n.name, 'up');
      ipn(n.ns, 'link', 'set', 'eth0', 'address', n.mac, 'up');
      ipn(n.ns, 'addr', 'add', `${n.primaryIp}/24`, 'dev', 'eth0');
      ipn(n.ns, 'route', 'add', 'default', 'via', n.gateway, 'dev', 'eth0');
    }
    const x = this.nic2;
    ipn(this.fabric, 'link', 'add', x.fabricIf, 'type', 'veth', 'peer', 'name', x.ifname, 'netns', x.ns);
    ipn(this.fabric, 'addr', 'add', `${x.gateway}/24`, 'dev', x.fabricIf);
    ipn(this.fabric, 'link', 'set', x.fabricIf, 'up');
    ipn(x.ns, 'link', 'set', x.ifname, 'address', x.mac);
    // The VPC's source/destination check: a packet must arrive on the NIC that owns its source.
    for (const key of ['all', 'default', ...this.nodes.map((n) => n.name), x.fabricIf]) {
      inNs(this.fabric, 'sysctl', ['-qw', `net.ipv4.conf.${key}.rp_filter=1`]);
    }
    this.addNs(this.inet);
    ipn(this.fabric, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.inet);
    ipn(this.fabric, 'addr', 'add', '198.51.100.1/24', 'dev', 'uplink');
    ipn(this.fabric, 'link', 'set', 'uplink', 'up');
    ipn(this.inet, 'addr', 'add', `${INET_IP}/24`, 'dev', 'eth0');
    ipn(this.inet, 'link', 'set', 'eth0', 'up');
    for (const n of this.nodes) ipn(this.inet, 'route', 'add', `${n.primaryIp}/32`, 'via', '198.51.100.1');
  }

  /** Everything a teardown must restore, in `ip` terms (neighbour caches excluded: traffic fills them). */
  snapshot(ns: string): string {
    return [
      ipn(ns, '-o', '-d', 'link', 'show'),
      // IPv4 only: IPv6 link-local addresses change state (DAD) on their own.
      ipn(ns, '-4', '-o', 'addr', 'show'),
      ipn(ns, '-4', 'route', 'show', 'table', 'all'),
      ipn(ns, 'rule', 'show'),
    ].join('\n---\n');
  }

  destroy(): void {
    for (const ns of this.created.reverse()) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
