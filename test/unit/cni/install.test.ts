import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installForwarder, writeConflist } from '../../../src/cni/install.ts';
import { parseNetConf } from '../../../src/cni/netconf.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('install', () => {
  it('installs the forwarder executable as <binDir>/vpcnet, replacing an old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpcnet-install-'));
    dirs.push(dir);
    const src = join(dir, 'built');
    writeFileSync(src, 'new');
    writeFileSync(join(dir, 'old'), 'x');
    const binDir = join(dir, 'opt', 'cni', 'bin');
    await installForwarder(join(dir, 'old'), binDir);
    const dest = await installForwarder(src, binDir);
    expect(dest).toBe(join(binDir, 'vpcnet'));
    expect(readFileSync(dest, 'utf8')).toBe('new');
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    expect(readdirSync(binDir)).toEqual(['vpcnet']);
  });

  it('writes a conflist whose vpcnet entry the handler accepts as a runtime would derive it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpcnet-install-'));
    dirs.push(dir);
    const file = await writeConflist({ confDir: dir, mtu: 1500, agentSocket: '/run/vpcnet/cni.sock', delSpoolDir: '/var/lib/vpcnet/del-spool', chained: [{ type: 'portmap', capabilities: { portMappings: true } }] });
    const list = JSON.parse(readFileSync(file, 'utf8')) as { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };
    expect(list.plugins.map((p) => p.type)).toEqual(['vpcnet', 'portmap']);
    const derived = { ...list.plugins[0], cniVersion: list.cniVersion, name: list.name };
    expect(parseNetConf(JSON.stringify(derived))).toMatchObject({ name: 'vpcnet', mtu: 1500 });
    expect(readdirSync(dir)).toEqual(['10-vpcnet.conflist']);
  });

  it('the conflist speaks 1.0.0 to libcni < 1.2, lists newer versions, and carries the forwarder settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpcnet-install-'));
    dirs.push(dir);
    const file = await writeConflist({ confDir: dir, agentSocket: '/run/x/cni.sock', delSpoolDir: '/var/lib/x/spool' });
    const list = JSON.parse(readFileSync(file, 'utf8')) as { cniVersion: string; cniVersions: string[]; plugins: Array<Record<string, unknown>> };
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.cniVersions).toEqual(['0.4.0', '1.0.0', '1.1.0']);
    expect(list.plugins[0]).toEqual({ type: 'vpcnet', agentSocket: '/run/x/cni.sock', delSpoolDir: '/var/lib/x/spool' });
    const derived = { ...list.plugins[0], cniVersion: list.cniVersion, name: 'vpcnet' };
    expect(parseNetConf(JSON.stringify(derived)).cniVersion).toBe('1.0.0');
  });
});
