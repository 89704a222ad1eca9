// What a GCE agent pays before its first Compute call. The Compute package's index loads every
// API version's clients and a 31 MB generated protos module (seconds of CPU on a busy node, over
// 100 MB of memory); the agent needs five v1 clients. And the metadata reads the start-up makes:
// instance and project at once, the project id not read again for the Compute clients.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MetadataClient } from '../../../providers/gcp/client/metadata-client.ts';
import { listen, type LocalServer } from '../../unit/aws-client/helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('GCE agent start-up cost', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('building the provider and its Compute clients never loads the package index or its protos module', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { SdkComputeApi } = await import(${JSON.stringify(join(ROOT, 'providers/gcp/client/compute-api.ts'))});
      new SdkComputeApi({ project: 'p', endpoint: 'http://127.0.0.1:9', metadata: { token: async () => ({ token: 't', expiresAt: 0 }) }, clock: { now: () => 0, sleep: async () => {} }, requestTimeoutMs: 1000 });
      const cache = Object.keys(createRequire(${JSON.stringify(join(ROOT, 'package.json'))}).cache);
      console.log(JSON.stringify(cache.filter((k) => k.includes('@google-cloud/compute')).map((k) => k.slice(k.indexOf('@google-cloud/compute')))));
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(out.stderr).not.toMatch(/Error/);
    const loaded = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '[]') as string[];
    expect({
      instancesClient: loaded.includes('@google-cloud/compute/build/src/v1/instances_client.js'),
      packageIndex: loaded.includes('@google-cloud/compute/build/src/index.js'),
      protosModule: loaded.includes('@google-cloud/compute/build/protos/protos.js'),
      otherVersions: loaded.filter((k) => k.includes('/v1beta/') || k.includes('/v1small/')).length,
      v1Clients: loaded.filter((k) => /\/v1\/[a-z_]+_client\.js$/.test(k)).length,
    }).toEqual({ instancesClient: true, packageIndex: false, protosModule: false, otherVersions: 0, v1Clients: 5 });
  });

  it('reads instance and project metadata at once, and the project id only once', async () => {
    let maxInFlight = 0;
    const paths: string[] = [];
    const held: (() => void)[] = [];
    const release = (): void => {
      for (const answer of held.splice(0)) answer();
    };
    server = await listen((req, res) => {
      paths.push(req.url ?? '');
      held.push(() => {
        const body = req.url?.includes('/project/')
          ? { projectId: 'proj-1', numericProjectId: 42 }
          : { id: 7, name: 'node-0', zone: 'projects/42/zones/us-central1-a', machineType: 'projects/42/machineTypes/e2-standard-4', networkInterfaces: [] };
        res.writeHead(200, { 'metadata-flavor': 'Google', 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      maxInFlight = Math.max(maxInFlight, held.length);
      // both reads held at once: answered together; a lone read is answered after a while (not asserted on)
      if (held.length === 2) release();
      else setTimeout(release, 300);
    });
    const md = new MetadataClient({ endpoint: server.url });
    const meta = await md.instance();
    expect(meta).toMatchObject({ name: 'node-0', projectId: 'proj-1' });
    expect(maxInFlight).toBe(2);
    expect(await md.projectId()).toBe('proj-1');
    expect(paths.filter((p) => p.includes('/project/'))).toHaveLength(1);
  });
});
