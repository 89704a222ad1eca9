// CNI conformance through the built forwarder binary, for every command and version.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './forwarder-harness.ts';
import { testAgent, type TestAgent } from '../../unit/cni/doubles.ts';
import { SUPPORTED_VERSIONS } from '../../../src/cni/versions.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { readRecord } from '../../../src/cni/del-spool.ts';
import { MALFORMED_HINTS } from '../../unit/cni/malformed-hints.ts';

let agent: TestAgent;
let h: Harness;
const NETNS = '/var/run/netns/cni-1234';

function conf(version: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: version, name: 'vpcnet', type: 'vpcnet', ...extra });
}

function env(command: string, containerId = 'c1', over: Record<string, string> = {}): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;IgnoreUnknown=1', ...over };
}

beforeAll(async () => {
  // one server; each test swaps in a fresh agent behind it
  h = await startHarness((req) => agent.handler.handle(req));
});
afterAll(async () => h.close());
beforeEach(() => {
  agent = testAgent();
});

function expectError(r: { code: number; json: Record<string, unknown> | undefined }, code: number, version?: string): void {
  expect(r.code).toBe(1);
  expect(r.json).toBeDefined();
  expect(r.json?.code).toBe(code);
  expect(typeof r.json?.msg).toBe('string');
  if (version) expect(r.json?.cniVersion).toBe(version);
}

function expectNoStateChange(): void {
  expect(agent.ipam.list()).toEqual([]);
  expect(agent.ipam.freeCount).toBe(3);
  expect(agent.datapath.calls).toEqual([]);
}

describe('VERSION', () => {
  it('the binary and the agent report the same versions, echoing the requested one', async () => {
    const local = await h.run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(local.code).toBe(0);
    expect(local.json).toEqual({ cniVersion: '0.4.0', supportedVersions: [...SUPPORTED_VERSIONS] });
    const viaAgent = await agent.handler.handle({ env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"0.4.0"}' });
    expect(JSON.parse(viaAgent.stdout)).toEqual(local.json);
  });

  it.each(['{"cniVersion":"1.0.0"}', '{"cniVersion":"abc"}', '{"cniVersion": "0.3.1", "name": "x"}', '', 'not json'])('binary and agent agree for stdin %j', async (stdin) => {
    const local = await h.run({ CNI_COMMAND: 'VERSION' }, stdin);
    const viaAgent = await agent.handler.handle({ env: { CNI_COMMAND: 'VERSION' }, stdin });
    expect(local.code).toBe(0);
    expect(local.json).toEqual(JSON.parse(viaAgent.stdout));
  });

  it('answers while the agent is down', async () => {
    const r = await h.run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}', { VPCNET_AGENT_SOCKET: `${h.dir}/nothing.sock` });
    expect(r.code).toBe(0);
    expect(r.json?.supportedVersions).toEqual([...SUPPORTED_VERSIONS]);
  });
});

describe.each(SUPPORTED_VERSIONS)('cniVersion %s', (version) => {
  it('ADD returns a result shaped for the version, DEL releases, a second DEL succeeds', async () => {
    const add = await h.run(env('ADD'), conf(version, { dns: { nameservers: ['10.0.0.2'], search: ['svc.cluster.local'] } }));
    expect(add.code).toBe(0);
    const res = add.json as { cniVersion: string; interfaces: Array<Record<string, unknown>>; ips: Array<Record<string, unknown>>; routes: unknown[]; dns: unknown };
    expect(res.cniVersion).toBe(version);
    expect(res.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: NETNS, mac: '0a:58:0a:00:00:99' });
    expect(res.interfaces[0]?.sandbox).toBeUndefined();
    expect(res.ips).toHaveLength(1);
    expect(res.ips[0]).toMatchObject({ address: '10.0.0.20/32', gateway: '169.254.1.1', interface: 1 });
    expect(res.routes).toEqual([{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
    expect(res.dns).toEqual({ nameservers: ['10.0.0.2'], search: ['svc.cluster.local'] });
    if (version.startsWith('0.')) expect(res.ips[0]?.version).toBe('4');
    else expect(res.ips[0]?.version).toBeUndefined();
    if (version === '1.1.0') expect(res.interfaces[1]?.mtu).toBe(9001);
    else expect(res.interfaces[1]?.mtu).toBeUndefined();
    expect(agent.ipam.find({ containerId: 'c1', ifname: 'eth0' })).toMatchObject({ podName: 'web-1', podNamespace: 'default' });

    const del = await h.run(env('DEL'), conf(version, { prevResult: add.json }));
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(agent.ipam.list()).toEqual([]);
    expect(agent.datapath.pods.size).toBe(0);
    expect((await h.run(env('DEL'), conf(version))).code).toBe(0);
  });

  it(version.startsWith('0.3') ? 'CHECK is refused as incompatible (code 1)' : 'CHECK passes against the ADD result', async () => {
    const add = await h.run(env('ADD'), conf(version));
    const check = await h.run(env('CHECK'), conf(version, { prevResult: add.json }));
    if (version.startsWith('0.3')) expectError(check, 1, version);
    else expect(check).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('ADD', () => {
  it('is idempotent: the same containerID+ifname gets the same result and one address', async () => {
    const a = await h.run(env('ADD'), conf('1.0.0'));
    const b = await h.run(env('ADD'), conf('1.0.0'));
    expect(a.code).toBe(0);
    expect(b.json).toEqual(a.json);
    expect(agent.ipam.list()).toHaveLength(1);
  });

  it('gives a second interface of the same container its own address', async () => {
    await h.run(env('ADD'), conf('1.0.0'));
    const r = await h.run(env('ADD', 'c1', { CNI_IFNAME: 'net1' }), conf('1.0.0'));
    expect((r.json?.ips as Array<{ address: string }>)[0]?.address).toBe('10.0.0.21/32');
  });

  it('in a chain, appends to prevResult and re-indexes its ips', async () => {
    const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'dummy0' }], ips: [{ address: '192.0.2.5/24', interface: 0 }], dns: { nameservers: ['192.0.2.53'] } };
    const r = await h.run(env('ADD'), conf('1.0.0', { prevResult: prev }));
    expect(r.code).toBe(0);
    const res = r.json as { interfaces: Array<{ name: string }>; ips: Array<{ address: string; interface: number }>; dns: unknown };
    expect(res.interfaces.map((i) => i.name)).toEqual(['dummy0', expect.stringMatching(/^vpc/), 'eth0']);
    expect(res.ips).toEqual([{ address: '192.0.2.5/24', interface: 0 }, { address: '10.0.0.20/32', gateway: '169.254.1.1', interface: 2 }]);
    expect(res.dns).toEqual({ nameservers: ['192.0.2.53'] });
  });

  it('answers try-again-later (11) when the pool stays empty past the deadline', async () => {
    agent = testAgent({ addresses: [] });
    expectError(await h.run(env('ADD'), conf('1.0.0')), 11, '1.0.0');
    expect(agent.datapath.calls).toEqual([]);
  });

  it('releases the address when the datapath fails', async () => {
    agent.datapath.failSetup = new VpcnetError('NETLINK', 'Request rejected: EEXIST');
    const r = await h.run(env('ADD'), conf('1.0.0'));
    expectError(r, 102);
    expect(agent.ipam.list()).toEqual([]);
    expect(agent.ipam.freeCount).toBe(3);
  });
});

describe('DEL', () => {
  it('succeeds for an unknown container and without a netns', async () => {
    expect((await h.run(env('DEL', 'never-added'), conf('1.0.0'))).code).toBe(0);
    await h.run(env('ADD', 'c2'), conf('1.0.0'));
    const { CNI_NETNS: _ns, ...noNetns } = env('DEL', 'c2');
    expect((await h.run(noNetns, conf('1.0.0'))).code).toBe(0);
    expect(agent.ipam.list()).toEqual([]);
  });

  it.each(MALFORMED_HINTS)('with %s: succeeds and frees the address (the hint is ignored); ADD with it is refused (7)', async (_name, key, value) => {
    expect((await h.run(env('ADD'), conf('1.0.0'))).code).toBe(0);
    const r = await h.run(env('DEL'), conf('1.0.0', { [key]: value }));
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(agent.ipam.list()).toEqual([]);
    expect(agent.ipam.freeCount).toBe(3);
    expect(agent.datapath.calls).toContain('teardown c1/eth0');
    expectError(await h.run(env('ADD', 'c9'), conf('1.0.0', { [key]: value })), 7);
    expect(agent.ipam.list()).toEqual([]);
  });
});

describe('CHECK', () => {
  it('fails with 3 for an unknown container and when prevResult lacks our address', async () => {
    const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: NETNS }], ips: [{ address: '10.9.9.9/32', interface: 0 }] };
    expectError(await h.run(env('CHECK'), conf('1.0.0', { prevResult: prev })), 3);
    await h.run(env('ADD'), conf('1.0.0'));
    expectError(await h.run(env('CHECK'), conf('1.0.0', { prevResult: prev })), 102);
  });

  it('reports kernel drift and requires prevResult', async () => {
    const add = await h.run(env('ADD'), conf('1.0.0'));
    agent.datapath.drifts = [{ kind: 'missing', object: 'route 10.0.0.20 dev vpc1 scope link' }];
    const r = await h.run(env('CHECK'), conf('1.0.0', { prevResult: add.json }));
    expectError(r, 102);
    expect(String(r.json?.details)).toContain('route 10.0.0.20');
    expectError(await h.run(env('CHECK'), conf('1.0.0')), 7);
  });
});

describe('GC and STATUS (1.1.0)', () => {
  it('GC releases every attachment the runtime does not list', async () => {
    await h.run(env('ADD', 'keep'), conf('1.1.0'));
    await h.run(env('ADD', 'stale'), conf('1.1.0'));
    const r = await h.run({ CNI_COMMAND: 'GC' }, conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] }));
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(agent.ipam.list().map((a) => a.containerId)).toEqual(['keep']);
    expect(agent.datapath.calls).toContain('teardown stale/eth0');
  });

  it('GC and STATUS are refused for older configs (1)', async () => {
    expectError(await h.run({ CNI_COMMAND: 'GC' }, conf('1.0.0', { 'cni.dev/valid-attachments': [] })), 1, '1.0.0');
    expectError(await h.run({ CNI_COMMAND: 'STATUS' }, conf('1.0.0')), 1, '1.0.0');
  });

  it('STATUS succeeds while the pool can serve and says 50 until then', async () => {
    expect(await h.run({ CNI_COMMAND: 'STATUS' }, conf('1.1.0'))).toMatchObject({ code: 0, stdout: '' });
    agent.ipam.isReady = false;
    expectError(await h.run({ CNI_COMMAND: 'STATUS' }, conf('1.1.0')), 50, '1.1.0');
  });
});

describe('bad input gets a spec error object and changes nothing', () => {
  const cases: Array<[string, Record<string, string>, string, number]> = [
    ['malformed JSON', env('ADD'), '{"cniVersion": "1.0.0", ', 6],
    ['a JSON array', env('ADD'), '[]', 6],
    ['missing CNI_CONTAINERID', { CNI_COMMAND: 'ADD', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0' }, conf('1.0.0'), 4],
    ['missing CNI_NETNS on ADD', { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }, conf('1.0.0'), 4],
    ['missing CNI_COMMAND', { CNI_CONTAINERID: 'c1' }, conf('1.0.0'), 4],
    ['unknown CNI_COMMAND', env('EXPLODE'), conf('1.0.0'), 4],
    ['bad CNI_CONTAINERID', env('ADD', '-rf'), conf('1.0.0'), 4],
    ['malformed CNI_ARGS', env('ADD', 'c1', { CNI_ARGS: 'novalue' }), conf('1.0.0'), 4],
    ['unknown cniVersion', env('ADD'), conf('9.9.9'), 1],
    ['old cniVersion 0.2.0', env('ADD'), conf('0.2.0'), 1],
    ['unknown field', env('ADD'), conf('1.0.0', { bridge: 'cni0' }), 2],
    ['delegated ipam', env('ADD'), conf('1.0.0', { ipam: { type: 'host-local' } }), 2],
    ['ipMasq true', env('ADD'), conf('1.0.0', { ipMasq: true }), 2],
    ['missing name', env('ADD'), JSON.stringify({ cniVersion: '1.0.0', type: 'vpcnet' }), 7],
    ['bad mtu', env('ADD'), conf('1.0.0', { mtu: 'big' }), 7],
    ['bad prevResult', env('ADD'), conf('1.0.0', { prevResult: { ips: 'x' } }), 7],
    ['netns ../../etc', env('ADD', 'c1', { CNI_NETNS: '../../etc' }), conf('1.0.0'), 4],
    ['netns /tmp/x', env('ADD', 'c1', { CNI_NETNS: '/tmp/x' }), conf('1.0.0'), 4],
    ['netns escaping its dir', env('ADD', 'c1', { CNI_NETNS: '/var/run/netns/../../../etc/passwd' }), conf('1.0.0'), 4],
    ['netns /proc/self/ns/net', env('ADD', 'c1', { CNI_NETNS: '/proc/self/ns/net' }), conf('1.0.0'), 4],
    ['ifname a/b', env('ADD', 'c1', { CNI_IFNAME: 'a/b' }), conf('1.0.0'), 4],
    ['ifname of 16 chars', env('ADD', 'c1', { CNI_IFNAME: 'x'.repeat(16) }), conf('1.0.0'), 4],
    ['ifname eth0;rm', env('ADD', 'c1', { CNI_IFNAME: 'eth0;rm' }), conf('1.0.0'), 4],
    ['ifname ..', env('ADD', 'c1', { CNI_IFNAME: '..' }), conf('1.0.0'), 4],
    ['ifname with a space', env('ADD', 'c1', { CNI_IFNAME: 'eth 0' }), conf('1.0.0'), 4],
    ['ifname lo', env('ADD', 'c1', { CNI_IFNAME: 'lo' }), conf('1.0.0'), 4],
    ['ifname all', env('ADD', 'c1', { CNI_IFNAME: 'all' }), conf('1.0.0'), 4],
    ['ifname default', env('ADD', 'c1', { CNI_IFNAME: 'default' }), conf('1.0.0'), 4],
    ['prevResult ip that is no address', env('ADD'), conf('1.0.0', { prevResult: { cniVersion: '1.0.0', ips: [{ address: 'notanip' }] } }), 7],
    ['prevResult route dst that is no CIDR', env('ADD'), conf('1.0.0', { prevResult: { cniVersion: '1.0.0', routes: [{ dst: 'bad' }] } }), 7],
    ['prevResult gateway that is no address', env('ADD'), conf('1.0.0', { prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24', gateway: 'x' }] } }), 7],
    ['agentSocket that is not an absolute path', env('ADD'), conf('1.0.0', { agentSocket: 'run/x.sock' }), 7],
    ['delSpoolDir with ..', env('DEL'), conf('1.0.0', { delSpoolDir: '/var/lib/../../etc' }), 7],
  ];
  it.each(cases)('%s', async (_name, e, stdin, code) => {
    expectError(await h.run(e, stdin), code);
    expectNoStateChange();
  });

  it.each([
    ['/etc/shadow'],
    ['/proc/1/task/1/ns/net'],
    ['../../etc'],
  ])('DEL with CNI_NETNS %s succeeds and touches nothing (the netns is never used by DEL)', async (netns) => {
    const r = await h.run(env('DEL', 'c1', { CNI_NETNS: netns }), conf('1.0.0'));
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(agent.ipam.list()).toEqual([]);
    expect(agent.ipam.freeCount).toBe(3);
  });

  it('an oversized stdin is an I/O failure (5) and never reaches the agent', async () => {
    const big = conf('1.0.0', { pad: 'x'.repeat(1024 * 1024) });
    const r = await h.run(env('ADD'), big);
    expectError(r, 5, '1.0.0');
    expectNoStateChange();
    const direct = await agent.handler.handle({ env: env('ADD'), stdin: big });
    expect(JSON.parse(direct.stdout).code).toBe(5);
  });

  it.each(['', ' \n\t', '[]', 'null'])('stdin %j is a decode failure (6) for every command, also with no agent to ask', async (stdin) => {
    for (const command of ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS']) {
      expectError(await h.run(env(command), stdin), 6, '1.1.0');
    }
    // No config means no agentSocket: the forwarder answers by itself, never "not reachable" (11).
    // (DEL is left out here: on a forwarder without this check it would spool into the real default directory.)
    for (const command of ['ADD', 'CHECK', 'GC', 'STATUS']) {
      const r = await h.run(env(command), stdin, { VPCNET_AGENT_SOCKET: join(h.dir, 'nothing.sock') });
      expectError(r, 6, '1.1.0');
      expect(String(r.json?.msg)).toMatch(/^network config (is not valid JSON|must be a JSON object)$/);
    }
    expectNoStateChange();
  });

  it('invalid UTF-8 on stdin is a decode failure (6)', async () => {
    const r = await h.run(env('ADD'), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expectError(r, 6);
    expectNoStateChange();
  });

  it('unknown cniVersion is echoed in the error object', async () => {
    const r = await h.run(env('ADD'), conf('9.9.9'));
    expect(r.json?.cniVersion).toBe('9.9.9');
    expect(String(r.json?.details)).toContain('1.1.0');
  });
});

describe('forwarder settings come from the network config', () => {
  it('agentSocket in the config reaches the agent whatever the environment says (defect 8)', async () => {
    await h.run(env('ADD'), conf('1.0.0'));
    expect(agent.ipam.list()).toHaveLength(1);
    // as podman's later `container cleanup` runs it: same config, none of the ADD's environment
    const r = await h.run(env('DEL'), conf('1.0.0', { agentSocket: h.socket, delSpoolDir: join(h.dir, 'spool') }), { VPCNET_AGENT_SOCKET: '/nonexistent/vc8c.sock' });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(agent.ipam.list()).toEqual([]);
    expect(agent.datapath.calls).toContain('teardown c1/eth0');
  });

  it('an agentSocket that names nothing gets code 11 for ADD, proving the config, not the env, is used', async () => {
    const r = await h.run(env('ADD'), conf('1.0.0', { agentSocket: join(h.dir, 'nothing.sock') }));
    expectError(r, 11, '1.0.0');
    expect(String(r.json?.details)).toContain(join(h.dir, 'nothing.sock'));
    expectNoStateChange();
  });
});

describe('agent down', () => {
  it('ADD gets code 11 and exit 1 when the socket is missing', async () => {
    const r = await h.run(env('ADD'), conf('0.4.0', { agentSocket: `${h.dir}/nothing.sock` }));
    expectError(r, 11, '0.4.0');
    expect(r.json?.msg).toBe('vpcnet agent is not reachable');
  });

  it('DEL is spooled durably (root-only atomic file) and answered with success (defect 9)', async () => {
    const spool = join(h.dir, 'spool-down');
    const before = Date.now();
    const r = await h.run(env('DEL', 'gone1'), conf('0.4.0', { agentSocket: `${h.dir}/nothing.sock`, delSpoolDir: spool }));
    expect(r).toMatchObject({ code: 0, stdout: '' });
    const files = readdirSync(spool);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^del-.*\.json$/);
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    expect(statSync(join(spool, files[0] as string)).mode & 0o777).toBe(0o600);
    const rec = await readRecord(join(spool, files[0] as string));
    expect(rec?.key).toEqual({ containerId: 'gone1', ifname: 'eth0' });
    expect(rec?.spooledAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('DEL gets code 11 when it can neither reach the agent nor spool', async () => {
    const blocked = join(h.dir, 'not-a-dir');
    writeFileSync(blocked, 'x');
    const r = await h.run(env('DEL'), conf('0.4.0', { agentSocket: `${h.dir}/nothing.sock`, delSpoolDir: blocked }));
    expectError(r, 11, '0.4.0');
    expect(String(r.json?.details)).toContain('spooling the DEL');
  });

  it('a stale socket file with no agent behind it gets code 11', async () => {
    const dead = join(h.dir, 'dead.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dead)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    const r = await h.run(env('ADD'), conf('1.0.0'), { VPCNET_AGENT_SOCKET: dead });
    expectError(r, 11, '1.0.0');
    expect(String(r.json?.details)).toContain('Connection refused');
  });

  it('an agent that does not answer in time gets code 11 from the forwarder', async () => {
    const hung = await startHarness(() => new Promise<never>(() => undefined), { requestTimeoutMs: 1500 });
    try {
      const r = await hung.run(env('ADD'), conf('1.1.0'), { VPCNET_CNI_TIMEOUT_MS: '300' });
      expectError(r, 11, '1.1.0');
      expect(String(r.json?.details)).toContain('no answer within the timeout');
    } finally {
      await hung.close().catch(() => undefined);
    }
  });
});
