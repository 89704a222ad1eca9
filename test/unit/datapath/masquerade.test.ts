import { describe, expect, it } from '@jest/globals';
import type { NodeNetConfig } from '../../../src/datapath/datapath.ts';
import { masqueradeScript, nonMasqueradeCidrs } from '../../../src/datapath/masquerade.ts';

const cfg: NodeNetConfig = {
  primaryIp: '10.0.1.10',
  primaryMac: '02:00:00:00:01:00',
  vpcCidrs: ['10.0.0.0/16'],
  masquerade: { enabled: true, nonMasqueradeCidrs: ['100.64.0.0/10', '10.0.0.0/16'], masqueradeLinkLocal: false, randomFully: true },
  mtu: 9001,
};

describe('masquerade ruleset', () => {
  it('leaves VPC, configured and link-local destinations alone (deduplicated)', () => {
    expect(nonMasqueradeCidrs(cfg)).toEqual(['10.0.0.0/16', '100.64.0.0/10', '169.254.0.0/16']);
  });
  it('masquerades link-local when asked', () => {
    expect(nonMasqueradeCidrs({ ...cfg, masquerade: { ...cfg.masquerade, masqueradeLinkLocal: true } })).not.toContain('169.254.0.0/16');
  });
  it('replaces the whole table in one script: marks pod connections, SNATs marked ones to the primary IP', () => {
    const s = masqueradeScript(cfg);
    expect(s.startsWith('table ip vpcnet {}\ndelete table ip vpcnet\n')).toBe(true);
    expect(s).toContain('elements = { 10.0.0.0/16, 100.64.0.0/10, 169.254.0.0/16 }');
    expect(s).toContain('iifname "eni*" ct state new ip daddr != @nonmasq ct mark set ct mark | 0x80');
    expect(s).toContain('meta mark set meta mark | 0x80');
    expect(s).toContain('snat ip to 10.0.1.10 fully-random');
  });
  it('omits fully-random when randomFully is off', () => {
    expect(masqueradeScript({ ...cfg, masquerade: { ...cfg.masquerade, randomFully: false } })).toContain('snat ip to 10.0.1.10\n');
  });
  it('external SNAT: the script only deletes the table', () => {
    expect(masqueradeScript({ ...cfg, masquerade: { ...cfg.masquerade, enabled: false } })).toBe('table ip vpcnet {}\ndelete table ip vpcnet\n');
  });
});
