// The agent's production form (deploy/bundle.ts) builds, starts, and loads only what it uses:
// `vpcnet version` answers, the agent command loads (a bad config is its one-line error), and
// neither the Kubernetes client nor another cloud's SDK is inside the chunks the agent loads at
// start.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AGENT_NODE_FLAGS, buildBundle } from '../../../deploy/bundle.ts';

// Inside the repository's build/, as in the image: the one external package (netlink) resolves
// from node_modules beside it.
const out = join(fileURLToPath(new URL('../../../build', import.meta.url)), `bundle-test-${process.pid}`);

describe('agent bundle', () => {
  beforeAll(async () => {
    await buildBundle({ outdir: out });
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('starts: version, and the agent command with a bad config fails with one line and the usage', () => {
    expect(execFileSync(process.execPath, [...AGENT_NODE_FLAGS, join(out, 'main.mjs'), 'version'], { encoding: 'utf8' }).trim()).toMatch(/^vpcnet \d+\.\d+\.\d+/);
    const bad = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, join(out, 'main.mjs'), 'agent', '--config', '/nonexistent/vpcnet.json'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    // One line naming the problem, then the short usage; never a stack trace.
    expect(bad.stderr.split('\n')[0]).toMatch(/^vpcnet agent: invalid config: .*ENOENT/);
    expect(bad.stderr).toContain('Usage: vpcnet agent');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('keeps the Kubernetes client (ours) in a chunk of its own, loaded only when Kubernetes is on, and no @kubernetes/client-node', () => {
    const files = readdirSync(out).filter((f) => f.endsWith('.mjs'));
    const withKube = files.filter((f) => readFileSync(join(out, f), 'utf8').includes('HttpKubeClient'));
    expect(withKube.length).toBeGreaterThan(0);
    expect(withKube).not.toContain('main.mjs');
    const all = files.map((f) => readFileSync(join(out, f), 'utf8'));
    // Classes of client-node's generated API (names are kept in the bundle).
    expect(all.some((t) => t.includes('CoordinationV1Api') || t.includes('CustomObjectsApi'))).toBe(false);
    const main = readFileSync(join(out, 'main.mjs'), 'utf8');
    expect(main).not.toContain('@azure/');
    expect(main).not.toContain('@google-cloud/');
  });

  it('the image runs the bundle with the agent Node flags, and the bundle has no EC2 SDK', () => {
    const dockerfile = readFileSync(fileURLToPath(new URL('../../../deploy/image/Dockerfile', import.meta.url)), 'utf8');
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entry ?? '[]')).toEqual(['node', ...AGENT_NODE_FLAGS, '/app/build/bundle/main.mjs']);
    const all = readdirSync(out).filter((f) => f.endsWith('.mjs')).map((f) => readFileSync(join(out, f), 'utf8'));
    // The agent's EC2 client is its own Query client; the SDK's EC2 client would bring its schema of all EC2 operations.
    expect(all.some((t) => t.includes('DescribeNetworkInterfaces'))).toBe(true);
    expect(all.some((t) => t.includes('EC2Client') || t.includes('AcceptReservedInstancesExchangeQuote'))).toBe(false);
  });
});
