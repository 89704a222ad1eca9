// The ip-masq-agent configuration file (kubernetes-sigs/ip-masq-agent), so an existing
// ip-masq-agent ConfigMap works as it is: YAML or JSON with nonMasqueradeCIDRs, masqLinkLocal,
// masqLinkLocalIPv6 and resyncInterval. Keys the file leaves out keep ip-masq-agent's defaults
// (RFC 1918 ranges not masqueraded, link-local not masqueraded, resync every 60 s); unknown
// keys and bad values are errors, so a typo never silently changes what gets NATed.
import yaml from 'js-yaml';
import { VpcnetError } from '../errors.ts';
import { tryParseCidr, tryParseNetwork } from '../util/ip.ts';

export interface IpMasqAgentConfig {
  nonMasqueradeCIDRs: string[];
  masqLinkLocal: boolean;
  masqLinkLocalIPv6: boolean;
  resyncIntervalMs: number;
}

/** ip-masq-agent's defaults (its README and the Kubernetes "IP Masquerade Agent" page). */
export const IP_MASQ_AGENT_DEFAULTS: IpMasqAgentConfig = {
  nonMasqueradeCIDRs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  masqLinkLocal: false,
  masqLinkLocalIPv6: false,
  resyncIntervalMs: 60_000,
};

const KEYS = new Set(['nonMasqueradeCIDRs', 'masqLinkLocal', 'masqLinkLocalIPv6', 'resyncInterval']);

/** Go duration ("60s", "1m30s", "500ms") -> ms. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^(?:(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns))+$/.exec(text.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  for (const part of text.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(part[1]) * (unit[part[2] as string] ?? 0);
  return total;
}

function bad(message: string, details: Record<string, unknown> = {}): VpcnetError {
  return new VpcnetError('CONFIG_INVALID', `ip-masq-agent config: ${message}`, { details, retryable: false });
}

export function parseIpMasqAgentConfig(text: string): IpMasqAgentConfig {
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : yaml.load(text, { schema: yaml.JSON_SCHEMA });
  } catch (cause) {
    throw new VpcnetError('CONFIG_INVALID', `ip-masq-agent config: not YAML or JSON (${(cause as Error).message.split('\n')[0] ?? ''})`, { cause, retryable: false });
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw bad('expected a mapping at the top level');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw bad(`unknown key "${k}" (known: ${[...KEYS].join(', ')})`, { key: k });
  const out: IpMasqAgentConfig = { ...IP_MASQ_AGENT_DEFAULTS, nonMasqueradeCIDRs: [...IP_MASQ_AGENT_DEFAULTS.nonMasqueradeCIDRs] };
  if (o.nonMasqueradeCIDRs !== undefined) {
    if (!Array.isArray(o.nonMasqueradeCIDRs)) throw bad('nonMasqueradeCIDRs must be a list of CIDRs');
    out.nonMasqueradeCIDRs = o.nonMasqueradeCIDRs.map((c: unknown, i: number) => {
      if (typeof c !== 'string' || !tryParseNetwork(c)) throw bad(`nonMasqueradeCIDRs[${i}] "${String(c)}" is not a network CIDR`, { index: i, value: c });
      return c;
    });
  }
  for (const k of ['masqLinkLocal', 'masqLinkLocalIPv6'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'boolean') throw bad(`${k} must be true or false`, { key: k });
    out[k] = o[k];
  }
  if (o.resyncInterval !== undefined) {
    const ms = typeof o.resyncInterval === 'string' ? parseGoDuration(o.resyncInterval) : undefined;
    if (ms === undefined || ms <= 0) throw bad(`resyncInterval "${String(o.resyncInterval)}" is not a positive duration such as 60s`);
    out.resyncIntervalMs = ms;
  }
  return out;
}

/** The IPv4 part (this table is IPv4; IPv6 CIDRs are validated and kept for the IPv6 table). */
export function ipv4NonMasq(cfg: IpMasqAgentConfig): string[] {
  return cfg.nonMasqueradeCIDRs.filter((c) => tryParseCidr(c) !== undefined);
}

/**
 * What of the file only concerns IPv6 pod traffic: `masqLinkLocalIPv6: true` and IPv6
 * nonMasqueradeCIDRs. vpcnet pods are IPv4-only, so these have nothing to act on; with the
 * default (false) ip-masq-agent leaves fe80::/10 unmasqueraded, which IPv4-only pods match too.
 */
export function ipv6Parts(cfg: IpMasqAgentConfig): string[] {
  const v6 = cfg.nonMasqueradeCIDRs.filter((c) => tryParseCidr(c) === undefined);
  return [...(cfg.masqLinkLocalIPv6 ? ['masqLinkLocalIPv6: true'] : []), ...v6.map((c) => `nonMasqueradeCIDRs ${c}`)];
}
