import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, renderEffectiveConfig } from '../../../src/config/load.ts';
import { renderConfigReference } from '../../../src/config/reference.ts';
import { configFields } from '../../../src/config/fields.ts';
import { VpcnetError } from '../../../src/errors.ts';

function withFile(content: string, fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vpcnet-config-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, content);
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function problemsOf(fn: () => unknown): Array<{ path: string; source: string; message: string }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VpcnetError);
    expect((err as VpcnetError).code).toBe('CONFIG_INVALID');
    return (err as VpcnetError).details.problems as Array<{ path: string; source: string; message: string }>;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('config', () => {
  it('has AWS VPC CNI-like defaults with no file and no environment', () => {
    const { config, sources } = loadConfig({ env: {} });
    expect(config.provider.name).toBe('aws');
    // Prefix delegation on by default: used where the node offers prefixes (AWS Nitro), secondary IPs elsewhere.
    expect(config.pool).toMatchObject({ warmNics: 1, prefixDelegation: true, cooldownMs: 30000 });
    expect(config.pool.warmIps).toBeUndefined();
    expect(config.masquerade).toEqual({ enabled: true, nonMasqueradeCidrs: [], masqueradeLinkLocal: false, randomFully: true });
    expect(config.paths.socket).toBe('/run/vpcnet/cni.sock');
    expect(config.metricsListen).toBe('127.0.0.1:61678');
    expect(sources['pool.warmNics']).toBe('default');
  });

  it('layers file < AWS alias < VPCNET_ variable and records sources', () => {
    withFile(JSON.stringify({ provider: { name: 'gcp' }, pool: { warmIps: 3, minimumIps: 5 }, datapath: { mode: 'ipvlan' } }), (file) => {
      const { config, sources } = loadConfig({
        file,
        env: { WARM_IP_TARGET: '7', VPCNET_WARM_IP_TARGET: '9', MINIMUM_IP_TARGET: '11', AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true', AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: '192.168.0.0/16, 172.16.0.0/12', MAX_ENI: '-1', ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1', AWS_VPC_K8S_CNI_RANDOMIZESNAT: 'none' },
      });
      expect(config.provider.name).toBe('gcp');
      expect(config.datapath.mode).toBe('ipvlan');
      expect(config.pool.warmIps).toBe(9);
      expect(config.pool.minimumIps).toBe(11);
      expect(config.pool.maxNics).toBeUndefined();
      expect(config.pool.prefixDelegation).toBe(true);
      expect(config.pool.warmPrefixes).toBe(1);
      expect(config.masquerade.enabled).toBe(false);
      expect(config.masquerade.randomFully).toBe(false);
      expect(config.masquerade.nonMasqueradeCidrs).toEqual(['192.168.0.0/16', '172.16.0.0/12']);
      expect(sources['pool.warmIps']).toBe('env:VPCNET_WARM_IP_TARGET');
      expect(sources['provider.name']).toBe('file');
      expect(renderEffectiveConfig({ config, sources })).toContain('pool.warmIps = 9  # env:VPCNET_WARM_IP_TARGET');
    });
  });

  it('reads the file named by VPCNET_CONFIG', () => {
    withFile('{"logLevel":"debug"}', (file) => {
      expect(loadConfig({ env: { VPCNET_CONFIG: file } }).config.logLevel).toBe('debug');
    });
  });

  it('reports every problem with its path and source at once', () => {
    withFile(JSON.stringify({ pool: { warmNics: -1, typo: 1 }, masquerade: { nonMasqueradeCidrs: ['10.0.0.0/33'] }, datapath: { mode: 'bridge' } }), (file) => {
      const problems = problemsOf(() => loadConfig({ file, env: { VPCNET_WARM_IP_TARGET: 'many', VPCNET_MASQUERADE: 'maybe', VPCNET_METRICS_LISTEN: 'nowhere' } }));
      const paths = problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['pool.warmIps', 'masquerade.enabled', 'pool.warmNics', 'pool', 'masquerade.nonMasqueradeCidrs.0', 'datapath.mode', 'metricsListen']));
      expect(problems.find((p) => p.path === 'pool.warmIps')?.source).toBe('env:VPCNET_WARM_IP_TARGET');
      expect(problems.find((p) => p.path === 'metricsListen')?.source).toBe('env:VPCNET_METRICS_LISTEN');
    });
  });

  it('rejects unreadable and non-JSON files and cross-field mistakes', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/vpcnet.json', env: {} }))[0]?.message).toContain('ENOENT');
    withFile('{nope', (file) => expect(problemsOf(() => loadConfig({ file, env: {} }))[0]?.message).toContain('not valid JSON'));
    const problems = problemsOf(() => loadConfig({ env: { VPCNET_ADD_DEADLINE_MS: '60000', VPCNET_WARM_PREFIX_TARGET: '2', VPCNET_PREFIX_DELEGATION: 'false' } }));
    expect(problems.map((p) => p.path).sort()).toEqual(['cni.addDeadlineMs', 'pool.warmPrefixes']);
  });

  it('renders a reference row for every key with its env name and default', () => {
    const md = renderConfigReference();
    const fields = configFields();
    expect(fields.length).toBeGreaterThan(30);
    for (const f of fields) expect(md).toContain(`| \`${f.key}\` | \`${f.meta.env}\``);
    expect(md).toContain('`WARM_ENI_TARGET`');
    expect(md).toMatch(/\| `pool.warmNics` \|.*\| integer \| `1` \|/);
  });
});
