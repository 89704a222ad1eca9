// A start-up the cloud blocks is visible on the Node: VpcnetReady=False with the error as its
// reason (Startup<Code>) while the agent retries, then True once it serves, without a restart.
// Here the instance metadata answers 403 (as when IMDS is turned off) until it is "fixed".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { READY_CONDITION } from '../../../src/k8s/readiness.ts';
import { nodeConditions, nodeObj, startWorld, TestNode, waitFor, type World } from './harness.ts';

describe('node readiness during a blocked start-up', () => {
  let world: World;
  let gate: Server;
  let open = false;
  let node: TestNode | undefined;

  beforeAll(async () => {
    world = await startWorld({
      vpcs: [{ cidr: '10.61.0.0/16', subnets: [{ cidr: '10.61.0.0/20', az: 'us-west-2a' }] }],
      instances: [{ instanceType: 'm5.large', subnet: '10.61.0.0/20' }],
    });
    const target = new URL(world.emulator.imdsEndpoint(world.instanceIds[0]!));
    // metadata answers 403 until opened, then forwards to the emulator's IMDS
    gate = createServer((req, res) => {
      if (!open) return void res.writeHead(403).end('Forbidden');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k.startsWith('x-aws-')) headers[k] = v;
        void fetch(`${target.origin}${target.pathname}${req.url ?? ''}`, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) })
          .then(async (up) => res.writeHead(up.status).end(await up.text()))
          .catch(() => res.destroy());
      });
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    await node?.stop();
    gate.closeAllConnections();
    await new Promise<void>((r) => gate.close(() => r()));
    await world?.close();
  });

  it('VpcnetReady=False with reason Startup<Code> while blocked; True once metadata answers', async () => {
    const instanceId = world.instanceIds[0]!;
    world.api.upsert('nodes', nodeObj('node-b', instanceId));
    node = new TestNode(world, { name: 'node-b', instanceId, provider: { metadataEndpoint: `http://127.0.0.1:${(gate.address() as AddressInfo).port}` } });
    const agent = node.create();
    const starting = agent.start();
    const ours = (): { status: string; reason: string } | undefined => nodeConditions(world.api, 'node-b').find((c) => c.type === READY_CONDITION);
    await waitFor(() => ours()?.reason.startsWith('Startup') === true, 'a Startup<Code> reason', 30_000);
    expect(ours()?.status).toBe('False');
    expect(agent.status().startup.phase).toBe('blocked');
    open = true;
    await starting;
    await waitFor(() => ours()?.status === 'True', 'ready once the start-up finished', 30_000);
  }, 90_000);
});
