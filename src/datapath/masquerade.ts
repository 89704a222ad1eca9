// The node's masquerade table (ip-masq-agent semantics, AWS VPC CNI connmark scheme):
//   - a new connection from a pod (iif eni*) to a destination outside the non-masquerade set
//     gets conntrack mark 0x80; packets of marked connections carry fwmark 0x80, and the rule
//     `fwmark 0x80/0x80 lookup main pref 1024` sends them out of the primary NIC even when the
//     pod's address belongs to a secondary NIC (whose `from` rule would pick that NIC);
//   - marked connections are SNATed to the node's primary address on the way out.
// The whole table is replaced in one nft transaction, so applying twice changes nothing.
import { spawnSync } from 'node:child_process';
import { VpcnetError } from '../errors.ts';
import type { NodeNetConfig } from './datapath.ts';
import { parseCidr } from './netlink/codec.ts';
import { inNetns } from './netlink/netns.ts';
import { HOST_VETH_PREFIX } from './naming.ts';

export const NFT_TABLE = 'vpcnet';
export const MASQ_MARK = 0x80;
export const MASQ_RULE_PRIORITY = 1024;
const LINK_LOCAL = '169.254.0.0/16';

/** CIDRs left alone: VPC CIDRs, configured ones, and link-local unless it is masqueraded. */
export function nonMasqueradeCidrs(cfg: NodeNetConfig): string[] {
  const all = cfg.masquerade.exactNonMasquerade ? [...cfg.masquerade.nonMasqueradeCidrs] : [...cfg.vpcCidrs, ...cfg.masquerade.nonMasqueradeCidrs];
  if (!cfg.masquerade.masqueradeLinkLocal) all.push(LINK_LOCAL);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of all) {
    const p = parseCidr(c);
    const key = `${p.ip}/${p.prefixLen}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(key);
    }
  }
  return out;
}

/** The nft script that (re)creates the table atomically; deletes it when masquerade is off. */
export function masqueradeScript(cfg: NodeNetConfig): string {
  const reset = `table ip ${NFT_TABLE} {}\ndelete table ip ${NFT_TABLE}\n`;
  if (!cfg.masquerade.enabled) return reset;
  const cidrs = nonMasqueradeCidrs(cfg);
  const elements = cidrs.length ? `\n    elements = { ${cidrs.join(', ')} }` : '';
  const mark = `0x${MASQ_MARK.toString(16)}`;
  const pods = `iifname "${HOST_VETH_PREFIX}*"`;
  const snat = `snat ip to ${cfg.primaryIp}${cfg.masquerade.randomFully ? ' fully-random' : ''}`;
  return `${reset}table ip ${NFT_TABLE} {
  set nonmasq {
    type ipv4_addr
    flags interval
    auto-merge${elements}
  }
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ${pods} ct state new ip daddr != @nonmasq ct mark set ct mark | ${mark}
    ${pods} ct mark & ${mark} == ${mark} meta mark set meta mark | ${mark}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct mark & ${mark} == ${mark} ip daddr != @nonmasq ${snat}
  }
}
`;
}

export function deleteTableScript(): string {
  return `table ip ${NFT_TABLE} {}\ndelete table ip ${NFT_TABLE}\n`;
}

/** Runs `nft -f -` inside `netns` (the thread enters it around a synchronous spawn). */
export function runNft(netns: string | undefined, script: string, nftPath = 'nft'): void {
  const res = inNetns(netns, () => spawnSync(nftPath, ['-f', '-'], { input: script, encoding: 'utf8', timeout: 10_000 }));
  if (res.error || res.status !== 0) {
    throw new VpcnetError('NFTABLES', 'nft failed', {
      cause: res.error,
      details: { netns, status: res.status, stderr: (res.stderr ?? '').slice(0, 2000) },
    });
  }
}
