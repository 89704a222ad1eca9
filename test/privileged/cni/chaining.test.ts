// vpcnet first in a conflist, Debian's reference tuning, portmap and bandwidth after it, run the
// way libcni runs a chain (prevResult passed along; CHECK and DEL with the final result). Needs
// root: everything happens in throwaway namespaces vpcc<random>-*, removed at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { runForwarder, startHarness, type CniRun, type Harness } from '../../integration/cni/forwarder-harness.ts';
import { VethDatapath } from './veth-datapath.ts';
import { FdNetnsInspector } from '../../../src/cni/netns-inspector.ts';
import { CniHandler } from '../../../src/cni/handler.ts';
import { MemoryIpam } from '../../../src/cni/memory-ipam.ts';
import { NIC, SETTINGS } from '../../unit/cni/doubles.ts';

const REF = '/usr/lib/cni';
const prefix = `vpcc${randomBytes(3).toString('hex')}`;
const NODE = `${prefix}-node`;
const POD = `${prefix}-pod`;
const NETNS = `/var/run/netns/${POD}`;
const created: string[] = [];
let h: Harness;
let ipam: MemoryIpam;

// Debian's reference plugins (1.1.1) speak up to 1.0.0
const LIST = {
  cniVersion: '1.0.0',
  name: `${prefix}net`,
  plugins: [
    { type: 'vpcnet' },
    { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.accept_redirects': '0' } },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ],
};
const RUNTIME_CONFIG: Record<string, Record<string, unknown>> = {
  portmap: { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] },
  bandwidth: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000, egressRate: 0, egressBurst: 0 } },
};

function sh(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}

/** Runs one plugin of the list as libcni would: derived config on stdin, inside the node netns. */
async function runPlugin(idx: number, command: string, prevResult: unknown): Promise<CniRun> {
  const { capabilities: _c, ...plugin } = LIST.plugins[idx] as Record<string, unknown>;
  const conf: Record<string, unknown> = { ...plugin, cniVersion: LIST.cniVersion, name: LIST.name };
  const rc = RUNTIME_CONFIG[plugin.type as string];
  if (rc) conf.runtimeConfig = rc;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  // what the agent writes into its conflist entry
  if (plugin.type === 'vpcnet') Object.assign(conf, { agentSocket: h.socket, delSpoolDir: `${h.dir}/del-spool` });
  const bin = plugin.type === 'vpcnet' ? `${h.cniPath}/vpcnet` : `${REF}/${plugin.type as string}`;
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: 'chain1', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_PATH: `${h.cniPath}:${REF}`, PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // `ip netns exec` runs the plugin with the node netns as its "host" namespace
  return runForwarder('/usr/sbin/ip', { ...env }, JSON.stringify(conf), ['netns', 'exec', NODE, 'env', ...envArgs, bin]);
}

const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  if (!isRoot) return;
  for (const ns of [NODE, POD]) {
    if (sh('ip', ['netns', 'add', ns]).status !== 0) throw new Error(`cannot create netns ${ns}`);
    created.push(ns);
  }
  sh('ip', ['-n', NODE, 'link', 'set', 'lo', 'up']);
  ipam = new MemoryIpam({ addresses: ['10.77.0.20', '10.77.0.21'] });
  const handler = new CniHandler({ ipam, datapath: new VethDatapath(NODE), resolveNic: () => NIC, settings: { ...SETTINGS, mtu: 1500 }, netns: new FdNetnsInspector({ nodeNetns: `/run/netns/${NODE}` }) });
  h = await startHarness((req) => handler.handle(req));
});

afterAll(async () => {
  await h?.close();
  for (const ns of created.reverse()) sh('ip', ['netns', 'del', ns]);
});

describe('chaining with the reference plugins (root)', () => {
  it('needs root and the reference plugins', () => {
    expect(isRoot).toBe(true);
    for (const p of ['tuning', 'portmap', 'bandwidth']) expect(existsSync(`${REF}/${p}`)).toBe(true);
  });

  it('ADD, CHECK and DEL pass through vpcnet, tuning, portmap and bandwidth', async () => {
    // ADD in order, each plugin gets the previous result
    let result: unknown;
    for (let i = 0; i < LIST.plugins.length; i++) {
      const r = await runPlugin(i, 'ADD', result);
      expect({ plugin: LIST.plugins[i]?.type, code: r.code, out: r.code === 0 ? '' : r.stdout }).toEqual({ plugin: LIST.plugins[i]?.type, code: 0, out: '' });
      result = r.json;
    }
    const final = result as { interfaces: Array<{ name: string; sandbox?: string }>; ips: Array<{ address: string; interface: number }> };
    expect(final.ips).toEqual([expect.objectContaining({ address: '10.77.0.20/32', interface: 1 })]);
    expect(final.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: NETNS });
    // what the chained plugins did is there
    expect(sh('ip', ['netns', 'exec', POD, 'cat', '/proc/sys/net/ipv4/conf/eth0/accept_redirects']).stdout.trim()).toBe('0');
    expect(sh('ip', ['netns', 'exec', NODE, 'iptables', '-t', 'nat', '-S']).stdout).toContain('18080');
    expect(sh('ip', ['-n', NODE, 'addr']).stdout).not.toContain('10.77.0.20');
    const host = final.interfaces[0]?.name as string;
    expect(sh('tc', ['-n', NODE, 'qdisc', 'show', 'dev', host]).stdout).toContain('tbf');

    // CHECK every plugin against the final result; Debian's portmap 1.1.1 fails CHECK for any
    // IPv4-only attachment (it looks for ip6tables chains: containernetworking/plugins#819)
    for (let i = 0; i < LIST.plugins.length; i++) {
      if (LIST.plugins[i]?.type === 'portmap') continue;
      const r = await runPlugin(i, 'CHECK', final);
      expect({ plugin: LIST.plugins[i]?.type, code: r.code, out: r.stdout }).toEqual({ plugin: LIST.plugins[i]?.type, code: 0, out: '' });
    }

    // DEL in reverse order with the final result
    for (let i = LIST.plugins.length - 1; i >= 0; i--) {
      const r = await runPlugin(i, 'DEL', final);
      expect({ plugin: LIST.plugins[i]?.type, code: r.code }).toEqual({ plugin: LIST.plugins[i]?.type, code: 0 });
    }
    expect(ipam.list()).toEqual([]);
    expect(sh('ip', ['-n', POD, 'link', 'show', 'eth0']).status).not.toBe(0);
    expect(sh('ip', ['netns', 'exec', NODE, 'iptables', '-t', 'nat', '-S']).stdout).not.toContain('18080');
  });
});
