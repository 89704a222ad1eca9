// Node state comes from EC2 plus our own calls' answers; instance metadata only says when to ask
// EC2 again. Metadata that lags or disagrees must never make the pool hand out an address the
// cloud does not hold on this node.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { UnassignPrivateIpAddressesCommand } from '@aws-sdk/client-ec2';
import { AwsProvider } from '../../providers/aws/client/aws-provider.ts';
import { Ec2RateLimiter } from '../../providers/aws/client/rate-limiter.ts';
import type { CloudNic } from '../../providers/provider.ts';
import { MemoryCheckpointStore } from '../../src/ipam/checkpoint.ts';
import { PoolManager } from '../../src/ipam/pool-manager.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every block of the listing is held by that ENI in the emulator right now. */
function heldByCloud(env: AwsEmulatorEnv, nics: CloudNic[]): string[] {
  const enis = new Map(env.emu.listEnis().map((e) => [e.eniId, e]));
  const bad: string[] = [];
  for (const n of nics) {
    const e = enis.get(n.id);
    const held = new Set([...(e?.secondaryIps ?? []).map((ip) => `${ip}/32`), ...(e?.prefixes ?? [])]);
    if (e?.instanceId !== env.instanceId) bad.push(n.id);
    for (const b of n.blocks) if (!held.has(b.cidr)) bad.push(b.cidr);
  }
  return bad;
}

/** A metadata proxy that adds an address EC2 never assigned to the primary NIC's local-ipv4s. */
async function lyingImds(upstream: string, mac: string, extra: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const r = await fetch(upstream + (req.url ?? ''), { method: req.method ?? 'GET', headers: req.headers as Record<string, string> });
      let body = await r.text();
      if (req.url?.endsWith(`/macs/${mac}/local-ipv4s`)) body = `${body}\n${extra}`;
      res.writeHead(r.status, { 'content-type': 'text/plain' }).end(body);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('AWS node state: metadata lagging or disagreeing with EC2', () => {
  let env: AwsEmulatorEnv | undefined;
  let proxy: Server | undefined;
  afterEach(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    proxy = undefined;
    await env?.cleanup();
  });

  it('lagging metadata: released addresses are never listed again, out-of-band removals are seen once metadata catches up', async () => {
    env = await startAwsEmulatorEnv({ emulator: { imdsLagMs: 400 }, provider: { nicState: { driftCooldownMs: 100 } } });
    const p = env.provider;
    const { node } = await p.discover();
    await p.listNics();
    const got = await p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 3 });
    await p.release({ nicId: node.primaryNicId, blocks: got.slice(0, 2) });
    // Metadata still shows the state before the assign or before the release: never adopted.
    for (let i = 0; i < 5; i++) {
      const nics = await p.listNics();
      expect(heldByCloud(env, nics)).toEqual([]);
      expect(nics.flatMap((n) => n.blocks.map((b) => b.cidr))).toEqual([got[2]?.cidr]);
      await sleep(50);
    }
    // Someone else removes the last address in EC2: once metadata shows it and the drift
    // outlasts the cooldown, EC2 is asked and the address leaves the listing.
    await env.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: node.primaryNicId, PrivateIpAddresses: [got[2]!.cidr.replace('/32', '')] }));
    let listed: CloudNic[] = await p.listNics();
    for (let i = 0; i < 40 && listed.some((n) => n.blocks.length > 0); i++) {
      await sleep(50);
      listed = await p.listNics();
    }
    expect(listed.flatMap((n) => n.blocks)).toEqual([]);
  });

  it('metadata showing an address EC2 never assigned: the pool never hands it out, and EC2 is asked with a growing cooldown', async () => {
    env = await startAwsEmulatorEnv({ provider: { nicState: { driftCooldownMs: 20 } } });
    const { node } = await env.provider.discover();
    const primaryMac = env.emu.instanceView(env.instanceId)!.enis[0]!.mac;
    const lie = await lyingImds(env.emu.imdsEndpoint(env.instanceId), primaryMac, '10.0.0.250');
    proxy = lie.server;
    const p = new AwsProvider({
      clusterName: 'contract',
      ec2Endpoint: env.emu.endpoint,
      metadataEndpoint: lie.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
      rateLimiter: new Ec2RateLimiter({ rates: { '*': { perSecond: 10_000, concurrency: 64 } } }),
      nicState: { driftCooldownMs: 20 },
    });
    const { limits } = await p.discover();
    const pool = new PoolManager({ provider: p, store: new MemoryCheckpointStore(), limits, targets: { prefixDelegation: false, warmIps: 2 }, intervalMs: 3_600_000 });
    await pool.start();
    const handed: string[] = [];
    for (let i = 0; i < 6; i++) {
      await pool.reconcile();
      handed.push((await pool.allocate({ containerId: `c${i}`, ifname: 'eth0', podNamespace: 'ns', podName: `p${i}` })).ip);
      await sleep(30);
    }
    await pool.stop();
    expect(handed).not.toContain('10.0.0.250');
    const held = new Set(env.emu.listEnis().filter((e) => e.eniId === node.primaryNicId).flatMap((e) => e.secondaryIps));
    for (const ip of handed) expect(held.has(ip)).toBe(true);
    // Drift that EC2 does not confirm doubles the wait before the next describe: far fewer than one per reconcile.
    const describes = p.callCounts().DescribeNetworkInterfaces ?? 0;
    expect(describes).toBeGreaterThanOrEqual(2);
    expect(describes).toBeLessThan(6);
  });
});
