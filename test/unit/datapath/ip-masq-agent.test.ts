// ip-masq-agent compatibility: its config file as-is (YAML or JSON, ConfigMap content), its
// defaults, strict validation, the nft set it yields, and the watcher's behaviour on change,
// on a bad file (last good rules kept, condition raised) and on removal (defaults).
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { IpMasqWatcher } from '../../../src/agent/ip-masq-watcher.ts';
import { IP_MASQ_AGENT_DEFAULTS, ipv4NonMasq, parseGoDuration, parseIpMasqAgentConfig, type IpMasqAgentConfig } from '../../../src/datapath/ip-masq-config.ts';
import { masqueradeScript, nonMasqueradeCidrs } from '../../../src/datapath/masquerade.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock } from '../../../src/util/clock.ts';

describe('ip-masq-agent config file', () => {
  it('reads the ConfigMap content of the ip-masq-agent docs (YAML) and the same as JSON', () => {
    const yaml = 'nonMasqueradeCIDRs:\n  - 10.40.0.0/14\nresyncInterval: 60s\nmasqLinkLocal: true\n';
    const want: IpMasqAgentConfig = { nonMasqueradeCIDRs: ['10.40.0.0/14'], masqLinkLocal: true, masqLinkLocalIPv6: false, resyncIntervalMs: 60_000 };
    expect(parseIpMasqAgentConfig(yaml)).toEqual(want);
    expect(parseIpMasqAgentConfig(JSON.stringify({ nonMasqueradeCIDRs: ['10.40.0.0/14'], resyncInterval: '60s', masqLinkLocal: true }))).toEqual(want);
  });

  it("keys left out keep ip-masq-agent's defaults; an empty file is all defaults; an explicit empty list masquerades everything", () => {
    expect(parseIpMasqAgentConfig('')).toEqual(IP_MASQ_AGENT_DEFAULTS);
    expect(parseIpMasqAgentConfig('masqLinkLocal: true').nonMasqueradeCIDRs).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    expect(parseIpMasqAgentConfig('nonMasqueradeCIDRs: []').nonMasqueradeCIDRs).toEqual([]);
    expect(parseIpMasqAgentConfig('masqLinkLocalIPv6: true\nnonMasqueradeCIDRs: ["fd00::/8"]')).toMatchObject({ masqLinkLocalIPv6: true, nonMasqueradeCIDRs: ['fd00::/8'] });
  });

  it('refuses what would silently change NAT: unknown keys, host bits, bad durations, bad types', () => {
    for (const bad of ['nonMasqueradeCidrs: [10.0.0.0/8]', 'nonMasqueradeCIDRs: [10.0.0.1/8]', 'resyncInterval: soon', 'masqLinkLocal: "yes"', '- a list', 'a: [unclosed']) {
      let err: unknown;
      try {
        parseIpMasqAgentConfig(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VpcnetError);
      expect((err as VpcnetError).code).toBe('CONFIG_INVALID');
      expect((err as VpcnetError).message).toMatch(/^ip-masq-agent config: /);
    }
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('500ms')).toBe(500);
  });

  it('in effect, the file set replaces the VPC-derived one; link-local is kept out of NAT unless masqLinkLocal', () => {
    const base = { primaryIp: '10.128.0.2', primaryMac: '42:01:0a:80:00:02', vpcCidrs: ['10.128.0.0/20', '10.4.0.0/14'], mtu: 1460 };
    const masq = { enabled: true, nonMasqueradeCidrs: ['10.40.0.0/14'], masqueradeLinkLocal: false, randomFully: true, exactNonMasquerade: true };
    expect(nonMasqueradeCidrs({ ...base, masquerade: masq })).toEqual(['10.40.0.0/14', '169.254.0.0/16']);
    expect(nonMasqueradeCidrs({ ...base, masquerade: { ...masq, masqueradeLinkLocal: true } })).toEqual(['10.40.0.0/14']);
    expect(nonMasqueradeCidrs({ ...base, masquerade: { ...masq, exactNonMasquerade: false } })).toEqual(['10.128.0.0/20', '10.4.0.0/14', '10.40.0.0/14', '169.254.0.0/16']);
    // one transaction that replaces the table: established flows keep their conntrack NAT
    const script = masqueradeScript({ ...base, masquerade: masq });
    expect(script.startsWith('table ip vpcnet {}\ndelete table ip vpcnet\ntable ip vpcnet {')).toBe(true);
  });
});

describe('ip-masq-agent file watcher', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup(): { path: string; applied: IpMasqAgentConfig[]; invalid: string[]; watcher: IpMasqWatcher; clock: FakeClock } {
    dir = mkdtempSync(join(tmpdir(), 'vc10-masq-'));
    const path = join(dir, 'config');
    const applied: IpMasqAgentConfig[] = [];
    const invalid: string[] = [];
    const clock = new FakeClock();
    const watcher = new IpMasqWatcher({ path, clock, logger: pino({ level: 'silent' }), apply: (c) => Promise.resolve(void applied.push(c)), onInvalid: (m) => invalid.push(m) });
    return { path, applied, invalid, watcher, clock };
  }

  it('applies the file, re-applies only on change, keeps the last good rules on a bad file, and uses the defaults once it is gone', async () => {
    const { path, applied, invalid, watcher } = setup();
    writeFileSync(path, 'nonMasqueradeCIDRs: [10.40.0.0/14]\n');
    await watcher.syncOnce();
    await watcher.syncOnce();
    expect(applied.map((c) => c.nonMasqueradeCIDRs)).toEqual([['10.40.0.0/14']]);
    expect(watcher.status().state).toBe('applied');

    writeFileSync(path, 'nonMasqueradeCIDRs: [10.40.0.0/14, 100.64.0.0/10]\n');
    await watcher.syncOnce();
    expect(applied.at(-1)?.nonMasqueradeCIDRs).toEqual(['10.40.0.0/14', '100.64.0.0/10']);

    writeFileSync(path, 'nonMasqueradeCIDRs: [10.40.0.0/33]\n');
    await watcher.syncOnce();
    await watcher.syncOnce();
    expect(applied).toHaveLength(2); // nothing applied
    expect(invalid).toHaveLength(1); // one condition, not one per resync
    expect(watcher.status()).toMatchObject({ state: 'invalid', config: { nonMasqueradeCIDRs: ['10.40.0.0/14', '100.64.0.0/10'] } });
    expect(watcher.status().error).toContain('10.40.0.0/33');

    unlinkSync(path);
    await watcher.syncOnce();
    expect(applied.at(-1)).toEqual(IP_MASQ_AGENT_DEFAULTS);
    expect(watcher.status().state).toBe('applied');
  });

  it('pods are IPv4-only: masqLinkLocalIPv6 and IPv6 CIDRs are accepted (a dual-stack ConfigMap works), change no rule, and are named in one warning', async () => {
    dir = mkdtempSync(join(tmpdir(), 'g2-masq-'));
    const path = join(dir, 'config');
    const applied: IpMasqAgentConfig[] = [];
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const watcher = new IpMasqWatcher({ path, clock: new FakeClock(), logger, apply: (c) => Promise.resolve(void applied.push(c)) });
    writeFileSync(path, 'nonMasqueradeCIDRs: [10.0.0.0/8, "fd00:10::/64"]\nmasqLinkLocalIPv6: true\n');
    await watcher.syncOnce();
    await watcher.syncOnce();
    expect(watcher.status()).toMatchObject({ state: 'applied', ignoredIpv6: ['masqLinkLocalIPv6: true', 'nonMasqueradeCIDRs fd00:10::/64'] });
    expect(warnings).toHaveLength(1); // once per content, not per resync
    expect(warnings[0]).toContain('IPv4-only');
    expect(warnings[0]).toContain('masqLinkLocalIPv6');
    // the IPv4 rules are exactly those of the file without its IPv6 parts
    // as the agent applies it (agent.ts followIpMasqAgent)
    const rules = (c: IpMasqAgentConfig): string =>
      masqueradeScript({
        primaryIp: '10.128.0.2',
        primaryMac: '42:01:0a:80:00:02',
        vpcCidrs: ['10.128.0.0/20'],
        mtu: 1460,
        masquerade: { enabled: true, nonMasqueradeCidrs: ipv4NonMasq(c), masqueradeLinkLocal: c.masqLinkLocal, randomFully: true, exactNonMasquerade: true },
      });
    const v4 = rules(applied[0]!);
    expect(v4).not.toContain('fd00');
    writeFileSync(path, 'nonMasqueradeCIDRs: [10.0.0.0/8]\n');
    await watcher.syncOnce();
    expect(watcher.status().ignoredIpv6).toBeUndefined();
    expect(rules(applied[1]!)).toEqual(v4);
    expect(warnings).toHaveLength(1);
  });

  it('follows the file every resyncInterval (the file\'s own)', async () => {
    const { path, applied, watcher, clock } = setup();
    const t0 = clock.now();
    writeFileSync(path, 'resyncInterval: 5s\n');
    await watcher.start();
    await parked(clock);
    expect(applied).toHaveLength(1);
    expect(clock.nextAt()).toBe(t0 + 5_000); // the file's 5 s, not the 60 s default
    writeFileSync(path, 'resyncInterval: 5s\nmasqLinkLocal: true\n');
    await clock.advance(4_999);
    expect(clock.pending).toBe(1); // still asleep: the change is not read before the interval
    expect(applied).toHaveLength(1);
    await clock.advance(1);
    await parked(clock);
    expect(applied).toHaveLength(2);
    expect(applied.at(-1)?.masqLinkLocal).toBe(true);
    expect(clock.nextAt()).toBe(t0 + 10_000);
    await watcher.stop();
    expect(clock.pending).toBe(0);
  });
});

/** Waits (for file I/O, not for time) until the watcher's loop sleeps on the clock again. */
async function parked(clock: FakeClock): Promise<void> {
  for (let i = 0; clock.pending === 0; i++) {
    if (i > 10_000) throw new Error('the watcher did not go back to sleep');
    await new Promise<void>((r) => setImmediate(r));
  }
}
