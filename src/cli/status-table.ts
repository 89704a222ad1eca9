// Renders an agent's status (GET /v1/status) as the tables `vpcnet status` and the demo print.
import type { AgentStatus } from '../agent/agent.ts';
import type { KubeStatus } from '../agent/kube-wiring.ts';

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

export function renderStatus(name: string, s: AgentStatus): string {
  const out: string[] = [];
  const node = s.node;
  out.push(
    `${name}: ${node ? `${node.instanceId} ${node.instanceType} ${node.zone} primary ${node.primaryIp}` : 'not discovered yet'}` +
      `  ready=${s.ready} cni-installed=${s.installed}`,
  );
  const b = s.startup?.blocked;
  if (b) out.push(`start-up waiting: step ${b.step} failed ${b.attempts} time(s) with ${b.code}, next try in ${Math.ceil(b.retryInMs / 1000)} s: ${b.message}`);
  if (s.kubernetes) out.push(kubeLine(s.kubernetes));
  const pool = s.pool;
  if (!pool) return out.join('\n');
  const rows: string[][] = [['NIC', 'DEV', 'SUBNET', 'PRIMARY', 'BLOCKS', 'ADDRS', 'ASSIGNED', 'FREE', 'COOLDOWN']];
  for (const nic of pool.nics) {
    const sum = (k: 'addresses' | 'assigned' | 'available' | 'cooldown'): number => nic.blocks.reduce((a, b) => a + b[k], 0);
    const kinds = [...new Set(nic.blocks.map((b) => b.kind))].join('+') || '-';
    rows.push([
      nic.id,
      String(nic.deviceIndex),
      nic.subnetCidr,
      nic.primaryIp,
      `${nic.blocks.length} ${kinds}`,
      String(sum('addresses')),
      String(sum('assigned')),
      String(sum('available')),
      String(sum('cooldown')),
    ]);
  }
  out.push(table(rows));
  const t = pool.targets;
  const targets = [
    `warmNics=${t.warmNics}`,
    t.warmIps !== undefined ? `warmIps=${t.warmIps}` : '',
    t.minimumIps !== undefined ? `minimumIps=${t.minimumIps}` : '',
    t.warmPrefixes !== undefined ? `warmPrefixes=${t.warmPrefixes}` : '',
    `maxAboveTarget=${t.maxAboveTarget}`,
    `cooldown=${t.cooldownMs / 1000}s`,
    `mode=${pool.mode}/${pool.blockKind}`,
  ].filter(Boolean);
  out.push(`pool: ${pool.counts.assigned} assigned, ${pool.counts.available} free, ${pool.counts.cooldown} cooling down, ${pool.counts.total} held; targets ${targets.join(' ')}`);
  for (const c of pool.conditions) out.push(`condition ${c.type}: ${c.message}`);
  for (const sub of s.subnets ?? []) {
    out.push(`subnet ${sub.subnetId} ${sub.cidr}: ${sub.freePrefixes} of ${sub.prefixes} aligned /28s free, ${sub.freeAddresses} addresses free (read ${new Date(sub.readAt).toISOString()})`);
  }
  for (const l of pool.lost) out.push(`lost: ${l.containerId}/${l.ifname} ${l.ip} (the cloud took its address away)`);
  return out.join('\n');
}

function kubeLine(k: KubeStatus): string {
  const c = k.networkConfig;
  const config = !c ? 'unknown' : c.source === 'none' ? 'none' : c.source === 'missing' ? `missing:${c.name}` : `${c.name} (${c.spec.subnetId})`;
  return `kubernetes: node ${k.nodeName} verified=${k.nodeVerified} pods-synced=${k.podsSynced} pods=${k.podsSeen} network-config=${config}`;
}
