// Two Azure nodes in the lab (root): agents on the Azure provider against the ARM emulator over
// TLS, pods wired by the real datapath through the CNI executable, the fabric routing each
// address to the NIC whose ipConfiguration provisioned. Pods reach each other without NAT and
// their node; the internet sees the node address (SNAT). Runs the demo's azure path, which
// checks the source address the far end sees and cleans up its namespaces, also on failure.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { runDemo } from '../../src/demo/demo.ts';
import { requireRoot } from './helpers/lab-helpers.ts';

describe('Azure lab: two nodes', () => {
  it('pods reach each other without NAT, their node, and the internet SNATed to the node address', async () => {
    requireRoot();
    const lines: string[] = [];
    const ok = await runDemo({ cloud: 'azure', nodes: 2, podsPerNode: 3, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/Azure emulator at https:\/\//);
    const rows = text.split('\n').filter((l) => /^node\d-pod\d /.test(l) && /(no NAT|pod IP|SNAT)/.test(l));
    expect(rows.some((r) => /no NAT/.test(r))).toBe(true);
    expect(rows.some((r) => /\(own node\)/.test(r))).toBe(true);
    expect(rows.some((r) => /SNAT/.test(r))).toBe(true);
    for (const r of rows) expect(r).toMatch(/\sok\s/);
    expect(ok).toBe(true);
    // The emulator's certificate directory (its private keys) went with it.
    const ca = /TLS, CA (\S+)\/ca\.pem\)/.exec(text)?.[1];
    expect(ca).toBeDefined();
    expect(existsSync(ca!)).toBe(false);
  }, 120_000);
});
