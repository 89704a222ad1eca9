import { describe, expect, it } from '@jest/globals';
import { checkNetns, parseArgs, parseEnv } from '../../../src/cni/env.ts';
import { parseNetConf, responseVersion } from '../../../src/cni/netconf.ts';
import { mergeResults, parsePrevResult, renderResult, type CniResult } from '../../../src/cni/result.ts';
import { VpcnetError } from '../../../src/errors.ts';

const PREFIXES = ['/var/run/netns/', '/run/netns/'];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as VpcnetError).code;
  }
  return 'none';
}

describe('CNI environment', () => {
  it('accepts runtime-made namespaces only', () => {
    for (const ok of ['/proc/4242/ns/net', '/proc/1/task/77/ns/net', '/var/run/netns/cni-0b1c', '/run/netns/x.y_z-1']) expect(checkNetns(ok, PREFIXES)).toBe(ok);
    for (const bad of ['/proc/self/ns/net', '/proc/0/ns/net', '/run/netns/', '/run/netns/a/b', '/run/netns/.hidden', '/run/netnsX/a', 'run/netns/a', '/etc/passwd']) {
      expect(codeOf(() => checkNetns(bad, PREFIXES))).toBe('CNI_INVALID_ENV');
    }
  });

  it('parses CNI_ARGS and names the bad variable', () => {
    expect(parseArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;')).toEqual({ IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0' });
    try {
      parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/run/netns/a', CNI_IFNAME: 'eth0;x' }, PREFIXES);
      throw new Error('accepted');
    } catch (err) {
      expect((err as VpcnetError).message).toContain('CNI_IFNAME');
    }
  });

  it('needs only CNI_COMMAND for VERSION and STATUS, CNI_PATH for GC, no netns for DEL', () => {
    expect(parseEnv({ CNI_COMMAND: 'VERSION' }, PREFIXES).command).toBe('VERSION');
    expect(parseEnv({ CNI_COMMAND: 'STATUS' }, PREFIXES).command).toBe('STATUS');
    expect(codeOf(() => parseEnv({ CNI_COMMAND: 'GC' }, PREFIXES))).toBe('CNI_INVALID_ENV');
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, PREFIXES).netns).toBeUndefined();
  });
});

describe('network config', () => {
  const base = { cniVersion: '1.1.0', name: 'vpcnet', type: 'vpcnet' };
  it('tolerates the reserved and well-known keys a runtime sends', () => {
    const c = parseNetConf(JSON.stringify({ ...base, cniVersions: ['1.0.0', '1.1.0'], runtimeConfig: {}, args: { cni: {} }, 'cni.dev/extra': 1, ipMasq: false, mtu: 1500 }));
    expect(c).toMatchObject({ cniVersion: '1.1.0', mtu: 1500 });
  });

  it('maps each problem to its code', () => {
    expect(codeOf(() => parseNetConf('nope'))).toBe('CNI_DECODE');
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...base, cniVersion: '0.1.0' })))).toBe('CNI_VERSION_UNSUPPORTED');
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...base, args: { cni: { ips: ['10.0.0.5'] } } })))).toBe('CNI_UNSUPPORTED_FIELD');
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...base, name: '../x' })))).toBe('CNI_INVALID_CONFIG');
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...base, 'cni.dev/valid-attachments': [{ containerID: 1 }] })))).toBe('CNI_INVALID_CONFIG');
  });

  it('the unsupported-field message holds the key and the value', () => {
    try {
      parseNetConf(JSON.stringify({ ...base, hairpinMode: true }));
    } catch (err) {
      expect((err as VpcnetError).message).toContain('"hairpinMode": true');
    }
    expect.assertions(1);
  });

  it('answers in the config version when it looks like one', () => {
    expect(responseVersion('{"cniVersion":"0.4.0"}')).toBe('0.4.0');
    expect(responseVersion('{"cniVersion":"x; rm"}')).toBe('1.1.0');
    expect(responseVersion('garbage')).toBe('1.1.0');
  });
});

describe('results', () => {
  const r: CniResult = {
    interfaces: [{ name: 'vpc1' }, { name: 'eth0', mac: '0a:00:00:00:00:01', mtu: 9001, sandbox: '/run/netns/a' }],
    ips: [{ address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1', table: 100 }],
    dns: {},
  };

  it('drops 1.1.0-only fields for older versions and adds ips[].version before 1.0.0', () => {
    const v11 = renderResult(r, '1.1.0') as { interfaces: Array<Record<string, unknown>>; routes: Array<Record<string, unknown>> };
    expect(v11.interfaces[1]?.mtu).toBe(9001);
    expect(v11.routes[0]?.table).toBe(100);
    const v1 = renderResult(r, '1.0.0') as { interfaces: Array<Record<string, unknown>>; routes: Array<Record<string, unknown>>; ips: Array<Record<string, unknown>> };
    expect(v1.interfaces[1]?.mtu).toBeUndefined();
    expect(v1.routes[0]).toEqual({ dst: '0.0.0.0/0', gw: '169.254.1.1' });
    expect(v1.ips[0]?.version).toBeUndefined();
    expect((renderResult(r, '0.3.1') as { ips: Array<Record<string, unknown>> }).ips[0]).toEqual({ version: '4', address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 1 });
  });

  it('round-trips through prevResult for every version and merges for chaining', () => {
    for (const v of ['0.3.0', '0.4.0', '1.0.0', '1.1.0'] as const) {
      const back = parsePrevResult(JSON.parse(JSON.stringify(renderResult(r, v))));
      expect(back.ips).toEqual(r.ips);
    }
    expect(codeOf(() => parsePrevResult({ interfaces: [], ips: [{ address: '10.0.0.5/32', interface: 3 }] }))).toBe('CNI_INVALID_CONFIG');
    const merged = mergeResults({ interfaces: [{ name: 'a' }], ips: [], routes: [], dns: { domain: 'x' } }, r);
    expect(merged.ips[0]?.interface).toBe(2);
    expect(merged.dns).toEqual({ domain: 'x' });
  });
});

describe('wire framing', () => {
  it('reassembles a request split into single bytes and refuses an oversized header at once', async () => {
    const { encodeRequest, decodeRequest, FrameReader } = await import('../../../src/cni/wire.ts');
    const bytes = encodeRequest({ env: { CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' }, stdin: '{"a":"é\\n"}' });
    const reader = new FrameReader(1024);
    let payload: Buffer | undefined;
    for (const b of bytes) payload = reader.push(Buffer.from([b])) ?? payload;
    expect(decodeRequest(payload as Buffer)).toEqual({ env: { CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' }, stdin: '{"a":"é\\n"}' });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(2048);
    expect(codeOf(() => new FrameReader(1024).push(head))).toBe('CNI_IO');
    expect(codeOf(() => decodeRequest(Buffer.from('{"v":1,"env":{"CNI_COMMAND":1},"stdin":""}')))).toBe('CNI_DECODE');
  });
});

describe('settings from config', () => {
  it('takes the pod MTU from the NIC unless the config sets one', async () => {
    const { loadConfig } = await import('../../../src/config/load.ts');
    const { cniSettingsFrom } = await import('../../../src/cni/settings.ts');
    expect(cniSettingsFrom(loadConfig({ env: {} }).config, 9001)).toMatchObject({ mode: 'routed', mtu: 9001, addDeadlineMs: 10000 });
    expect(cniSettingsFrom(loadConfig({ env: { VPCNET_MTU: '1500', VPCNET_DATAPATH_MODE: 'ipvlan' } }).config, 9001)).toMatchObject({ mode: 'ipvlan', mtu: 1500 });
  });
});
