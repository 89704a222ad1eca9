// Needs ../shared/cloud-payloads/azure (vendor examples, see SOURCES.md there): the emulator's
// ARM and IMDS answers have the vendor's shapes: every key path of the vendor example is
// emitted (except ones outside the model, listed), a prefix configuration's privateIPAddress is
// a CIDR, MACs are 00-0D-3A-.. in ARM and 000D3A.. in IMDS, IMDS values are all strings.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { AzureEmulator } from '../../../providers/azure/emulator/index.ts';
import { renderImdsNetwork, renderIpConfig, renderNic } from '../../../providers/azure/emulator/render.ts';
import { normalizeMac } from '../../../providers/azure/client/imds.ts';

const PAYLOADS = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'cloud-payloads', 'azure');

function vendor(file: string): unknown {
  const path = join(PAYLOADS, file);
  if (!existsSync(path)) throw new Error(`needs ../shared/cloud-payloads/azure/${file} (the shared vendor payloads are absent)`);
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** Key paths of a JSON value; array elements collapse to []. */
function paths(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) paths(x, `${prefix}[]`, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      paths(x, p, out);
    }
  }
  return out;
}

// Vendor keys outside the emulator's model (public IPs, NSGs, DSCP, DNS suffixes, feature flags).
const OUTSIDE = /publicIPAddress|networkSecurityGroup|dscpConfiguration|internalDomainNameSuffix|disableTcpStateTracking/;

function emulatorWithPrefix(): { emu: AzureEmulator; nicId: string } {
  const emu = new AzureEmulator({ tls: { key: '', cert: '', ca: '', caPath: '', dir: '' } });
  const res = emu.applyScenario({
    resourceGroup: 'rg1',
    vnets: [{ name: 'rg1-vnet', addressPrefixes: ['172.20.0.0/16'], subnets: [{ name: 'default', addressPrefix: '172.20.2.0/24' }] }],
    vms: [{ name: 'vm1', size: 'Standard_D4s_v5', subnet: 'rg1-vnet/default', nics: 2 }],
  });
  const nicId = res.vms[0]?.nics[0] ?? '';
  const nic = emu.state.getNic(nicId);
  emu.state.updateNicConfigs(nic, [{ name: 'ipconfig1', primary: true }, { name: 'ipconfig2', prefixLength: 28 }], { via: 'nic' });
  return { emu, nicId };
}

describe('Azure emulator payload shapes (needs ../shared)', () => {
  it('a NIC GET has every key path of the vendor NetworkInterfaceGet example', () => {
    const v = vendor('NetworkInterfaceGet.2025-05-01.json') as { responses: { 200: { body: unknown } } };
    const { emu, nicId } = emulatorWithPrefix();
    const ours = paths(renderNic(emu.state, emu.state.getNic(nicId)));
    const missing = [...paths(v.responses[200].body)].filter((p) => !OUTSIDE.test(p) && !ours.has(p));
    expect(missing).toEqual([]);
  });

  it("a prefix configuration's privateIPAddress is a CIDR, as in the vendor example", () => {
    const v = vendor('NetworkInterfaceGet.2025-05-01.json') as { responses: { 200: { body: { properties: { ipConfigurations: Array<{ properties: { privateIPAddress: string } }> } } } } };
    expect(v.responses[200].body.properties.ipConfigurations[1]?.properties.privateIPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+\/28$/);
    const { emu, nicId } = emulatorWithPrefix();
    const nic = emu.state.getNic(nicId);
    const cfg = renderIpConfig(emu.state, nic, nic.ipConfigs[1] as never) as { properties: { privateIPAddress: string; privateIPAddressPrefixLength: number } };
    expect(cfg.properties.privateIPAddress).toMatch(/^172\.20\.2\.\d+\/28$/);
    expect(cfg.properties.privateIPAddressPrefixLength).toBe(28);
  });

  it('the ipConfigurations list has the vendor list shape', () => {
    const v = vendor('NetworkInterfaceIPConfigurationList.2025-05-01.json') as { responses: { 200: { body: unknown } } };
    const { emu, nicId } = emulatorWithPrefix();
    const nic = emu.state.getNic(nicId);
    const ours = paths({ value: nic.ipConfigs.map((c) => renderIpConfig(emu.state, nic, c)) });
    expect([...paths(v.responses[200].body)].filter((p) => !ours.has(p))).toEqual([]);
  });

  it('MACs: ARM writes 00-0D-3A-XX-XX-XX, IMDS 000D3AXXXXXX, and both normalise to one form', () => {
    const get = vendor('NetworkInterfaceGet.2025-05-01.json') as { responses: { 200: { body: { properties: { macAddress: string } } } } };
    const imds = vendor('imds-instance-network.2025-04-07.json') as { interface: Array<{ macAddress: string }> };
    const armMac = get.responses[200].body.properties.macAddress;
    const imdsMac = imds.interface[0]?.macAddress ?? '';
    expect(armMac).toMatch(/^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
    expect(imdsMac).toMatch(/^[0-9A-F]{12}$/);
    expect(normalizeMac(armMac)).toBe('00:0d:3a:1b:c7:21');
    const { emu, nicId } = emulatorWithPrefix();
    const nic = emu.state.getNic(nicId);
    expect(nic.mac).toMatch(/^00-0D-3A(-[0-9A-F]{2}){3}$/);
    const vm = emu.state.vmByName('vm1');
    if (!vm) throw new Error('no vm');
    const net = renderImdsNetwork(emu.state, vm, (n) => [...Array(n).keys()]) as { interface: Array<{ macAddress: string }> };
    expect(net.interface.map((i) => normalizeMac(i.macAddress))).toContain(normalizeMac(nic.mac));
  });

  it('IMDS network has the vendor key paths and only string values', () => {
    const v = vendor('imds-instance-network-2nics-secondary-ip.glouton-capture.json');
    const { emu } = emulatorWithPrefix();
    const vm = emu.state.vmByName('vm1');
    if (!vm) throw new Error('no vm');
    const ours = renderImdsNetwork(emu.state, vm, (n) => [...Array(n).keys()]);
    const mine = paths(ours);
    expect([...paths(v)].filter((p) => !p.startsWith('interface[].ipv6.ipAddress[]') && !mine.has(p))).toEqual([]);
    const leaves: unknown[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') Object.values(x).forEach(walk);
      else leaves.push(x);
    };
    walk(ours);
    expect(leaves.every((l) => typeof l === 'string')).toBe(true);
  });
});
