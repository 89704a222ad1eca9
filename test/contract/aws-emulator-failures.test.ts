// Bad input and cloud failures against the AWS emulator through the real SDK: every failure
// is a VpcnetError that says what is wrong, and nothing allocated is lost.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AwsProvider } from '../../providers/aws/client/aws-provider.ts';
import type { Ec2Transport } from '../../providers/aws/client/ec2-types.ts';
import { sdkTransport } from '../support/aws-sdk-transport.ts';
import { VpcnetError } from '../../src/errors.ts';
import { MemoryMetrics } from '../../src/metrics/metrics.ts';
import { startAwsEmulatorEnv, type AwsEmulatorEnv } from './aws-emulator-setup.ts';

async function failure(p: Promise<unknown>): Promise<VpcnetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VpcnetError);
  return err as VpcnetError;
}

/** Forwards metadata requests to the emulator, answering `instance-type` with `type`. */
async function imdsRewriting(target: string, type: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/latest/meta-data/instance-type') {
        res.writeHead(200).end(type);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k.startsWith('x-aws-')) headers[k] = v;
      const up = await fetch(target + (req.url ?? ''), { method: req.method ?? 'GET', headers });
      res.writeHead(up.status).end(await up.text());
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('AWS provider against the emulator: failures', () => {
  let env: AwsEmulatorEnv | undefined;
  const extra: Server[] = [];
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
    for (const s of extra.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('an unknown instance type fails discover with UNKNOWN_INSTANCE_TYPE naming the type', async () => {
    const e = (env = await startAwsEmulatorEnv());
    const proxy = await imdsRewriting(e.emu.imdsEndpoint(e.instanceId), 'x9.imaginary');
    extra.push(proxy.server);
    const p = new AwsProvider({
      clusterName: 'contract',
      ec2Endpoint: e.emu.endpoint,
      metadataEndpoint: proxy.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    });
    const err = await failure(p.discover());
    expect(err.code).toBe('UNKNOWN_INSTANCE_TYPE');
    expect(err.message).toContain('x9.imaginary');
  });

  it('unreachable metadata fails discover with METADATA_UNREACHABLE naming the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    env = await startAwsEmulatorEnv({ provider: { metadataEndpoint: url, metadataBackoff: { baseMs: 1, capMs: 5, deadlineMs: 50 } } });
    const err = await failure(env.provider.discover());
    expect(err.code).toBe('METADATA_UNREACHABLE');
    expect(err.message).toContain(url);
    expect(env.emu.stats().calls).toEqual({});
  });

  it('unsigned requests get AuthFailure from the emulator: CLOUD_AUTH, not retried', async () => {
    env = await startAwsEmulatorEnv();
    const unsigned = new EC2Client({ endpoint: env.emu.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    unsigned.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { headers?: Record<string, string> };
        if (req.headers) delete req.headers.authorization;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'stripAuthorization' },
    );
    const p = new AwsProvider({
      clusterName: 'contract',
      metadataEndpoint: env.emu.imdsEndpoint(env.instanceId),
      transport: sdkTransport(unsigned),
    });
    const err = await failure(p.findLeakedNics(0));
    expect(err.code).toBe('CLOUD_AUTH');
    expect(err.details.awsCode).toBe('AuthFailure');
    expect(err.message).toContain('credentials');
    expect(env.emu.stats().calls.DescribeNetworkInterfaces).toBe(1);
    unsigned.destroy();
  });

  it('a fault on every call gives a clear error after retries, and nothing allocated is lost', async () => {
    env = await startAwsEmulatorEnv();
    const p = env.provider;
    const { node } = await p.discover();
    const held = await p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 3 });
    env.emu.faults.add({ action: '*', code: 'InternalError' });

    const assignErr = await failure(p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 2 }));
    expect(assignErr.code).toBe('CLOUD_UNAVAILABLE');
    expect(assignErr.details).toMatchObject({ action: 'AssignPrivateIpAddresses', awsCode: 'InternalError' });
    expect(assignErr.details.attempts).toBeGreaterThan(1);
    expect(assignErr.message).toContain('InternalError');
    const releaseErr = await failure(p.release({ nicId: node.primaryNicId, blocks: held }));
    expect(releaseErr.code).toBe('CLOUD_UNAVAILABLE');
    const attachErr = await failure(p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 }));
    expect(attachErr.code).toBe('CLOUD_UNAVAILABLE');

    env.emu.faults.clear();
    const primary = (await p.listNics()).find((n) => n.id === node.primaryNicId);
    expect(primary?.blocks.map((b) => b.cidr).sort()).toEqual(held.map((b) => b.cidr).sort());
    expect(env.emu.listEnis().filter((e) => !e.instanceId)).toEqual([]);
  });

  it('connection resets on every call are CLOUD_UNAVAILABLE', async () => {
    env = await startAwsEmulatorEnv();
    await env.provider.discover();
    env.emu.faults.add({ action: '*', kind: 'reset' });
    const err = await failure(env.provider.findLeakedNics(0));
    expect(err.code).toBe('CLOUD_UNAVAILABLE');
    expect(err.details.action).toBe('DescribeNetworkInterfaces');
  });

  it('throttling is retried with backoff and counted', async () => {
    const metrics = new MemoryMetrics();
    env = await startAwsEmulatorEnv({ provider: { metrics } });
    const { node } = await env.provider.discover();
    env.emu.faults.add({ action: 'AssignPrivateIpAddresses', code: 'RequestLimitExceeded', count: 2 });
    const got = await env.provider.assign({ nicId: node.primaryNicId, kind: 'ip', count: 2 });
    expect(got).toHaveLength(2);
    expect(metrics.get('vpcnet_cloud_throttles_total', { action: 'AssignPrivateIpAddresses' })).toBe(2);
    expect(env.provider.callCounts().AssignPrivateIpAddresses).toBe(3);
    expect(env.emu.stats().calls.AssignPrivateIpAddresses).toBe(3);
  });

  it('a lost CreateNetworkInterface response is retried with the same client token: no duplicate NIC', async () => {
    env = await startAwsEmulatorEnv();
    await env.provider.discover();
    env.emu.faults.add({ action: 'CreateNetworkInterface', code: 'InternalError', when: 'after', count: 1 });
    const nic = await env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    expect(env.emu.stats().calls.CreateNetworkInterface).toBe(2);
    const enis = env.emu.listEnis();
    expect(enis.filter((e) => !e.instanceId)).toEqual([]);
    expect(enis.filter((e) => e.instanceId === env?.instanceId).map((e) => e.eniId)).toContain(nic.id);
    expect(await env.provider.findLeakedNics(0)).toEqual([]);
  });

  it('a throttled attach keeps the new NIC, and the next attach uses it: one create, nothing leaks', async () => {
    env = await startAwsEmulatorEnv();
    await env.provider.discover();
    env.emu.faults.add({ action: 'AttachNetworkInterface', code: 'RequestLimitExceeded', count: 1000 });
    const err = await failure(env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 }));
    expect(err.code).toBe('CLOUD_THROTTLED');
    const kept = env.emu.listEnis().filter((e) => !e.instanceId);
    expect(kept).toHaveLength(1);
    env.emu.faults.clear();
    const nic = await env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    expect(nic.id).toBe(kept[0]!.eniId);
    expect(env.emu.stats().calls.CreateNetworkInterface).toBe(1);
    expect(env.emu.stats().calls.DeleteNetworkInterface ?? 0).toBe(0);
    expect(env.emu.listEnis().filter((e) => !e.instanceId)).toEqual([]);
    expect(env.emu.listEnis().find((e) => e.eniId === nic.id)?.deviceIndex).toBe(1);
  });

  it('a kept NIC that no longer fits the request (other security groups asked) is deleted, not attached', async () => {
    env = await startAwsEmulatorEnv();
    await env.provider.discover();
    env.emu.faults.add({ action: 'AttachNetworkInterface', code: 'RequestLimitExceeded', count: 1000 });
    await failure(env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 1 }));
    const kept = env.emu.listEnis().find((e) => !e.instanceId)!;
    env.emu.faults.clear();
    const nic = await env.provider.attachNic({ deviceIndex: 1, securityGroups: ['sg-0123456789abcdef0'], blockKind: 'ip', blockCount: 1 });
    expect(nic.id).not.toBe(kept.eniId);
    expect(nic.securityGroups).toEqual(['sg-0123456789abcdef0']);
    // the unfit one goes at the next attach (orphans are deleted before creating)
    await env.provider.attachNic({ deviceIndex: 2, blockKind: 'ip', blockCount: 1 });
    expect(env.emu.listEnis().map((e) => e.eniId)).not.toContain(kept.eniId);
  });

  it('detachNic waits for a slow detach (through metadata, no describe polling) before deleting', async () => {
    env = await startAwsEmulatorEnv({ emulator: { detachDelayMs: 300 } });
    await env.provider.listNics(); // a fresh node: its view comes from metadata
    const nic = await env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 1 });
    await env.provider.detachNic(nic.id);
    expect(env.emu.listEnis().map((e) => e.eniId)).not.toContain(nic.id);
    expect(env.provider.callCounts().DescribeNetworkInterfaces ?? 0).toBe(0);
    expect(env.emu.stats().calls.DeleteNetworkInterface).toBe(1);
  });

  it('a lost attach answer is recognised on retry: the NIC is attached once, nothing leaks', async () => {
    env = await startAwsEmulatorEnv();
    await env.provider.discover();
    env.emu.faults.add({ action: 'AttachNetworkInterface', code: 'InternalError', when: 'after', count: 1 });
    const nic = await env.provider.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    expect(nic.deviceIndex).toBe(1);
    expect(env.emu.stats().calls.AttachNetworkInterface).toBe(2);
    const enis = env.emu.listEnis();
    expect(enis.find((e) => e.eniId === nic.id)?.deviceIndex).toBe(1);
    expect(enis.filter((e) => !e.instanceId)).toEqual([]);
  });

  it('an attach that never answers is undone: the NIC is detached and deleted, nothing leaks', async () => {
    const e = (env = await startAwsEmulatorEnv());
    // EC2 performs every attach, but no answer ever arrives
    const real = new EC2Client({ endpoint: e.emu.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, maxAttempts: 1 });
    const lost = Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    const sdk = sdkTransport(real);
    const transport: Ec2Transport = {
      async send(action, input) {
        const isAttach = action === 'AttachNetworkInterface';
        const out = await sdk.send(action, input).catch((err: unknown) => {
          if (isAttach) throw lost;
          throw err;
        });
        if (isAttach) throw lost;
        return out;
      },
    };
    const p = new AwsProvider({
      clusterName: 'contract',
      metadataEndpoint: e.emu.imdsEndpoint(e.instanceId),
      transport,
      backoff: { baseMs: 1, capMs: 5, deadlineMs: 30 },
    });
    const err = await failure(p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 }));
    expect(err.code).toBe('CLOUD_UNAVAILABLE');
    const enis = e.emu.listEnis();
    expect(enis.filter((x) => x.instanceId === e.instanceId)).toHaveLength(1);
    expect(enis.filter((x) => !x.instanceId)).toEqual([]);
    expect(e.emu.stats().calls.DetachNetworkInterface).toBe(1);
    expect(e.emu.stats().calls.DeleteNetworkInterface).toBe(1);
    real.destroy();
  });

  it('describe lag for new NICs: attachNic completes through metadata, and the next listing still has the NIC', async () => {
    env = await startAwsEmulatorEnv({ emulator: { describeLagMs: 300 } });
    const p = env.provider;
    await p.listNics();
    const nic = await p.attachNic({ deviceIndex: 1, blockKind: 'ip', blockCount: 2 });
    expect(env.provider.callCounts().DescribeNetworkInterfaces ?? 0).toBe(0);
    const listed = (await p.listNics()).find((n) => n.id === nic.id);
    expect(listed?.blocks.map((b) => b.cidr).sort()).toEqual(nic.blocks.map((b) => b.cidr).sort());
    await p.detachNic(nic.id);
    expect(env.emu.listEnis().map((e) => e.eniId)).not.toContain(nic.id);
  });

  it('a call slower than the request timeout fails as CLOUD_TIMEOUT after retries', async () => {
    env = await startAwsEmulatorEnv({ provider: { timeouts: { requestMs: 100 }, backoff: { baseMs: 1, capMs: 5, deadlineMs: 400 } } });
    env.emu.faults.setLatency('DescribeNetworkInterfaces', 3000);
    const err = await failure(env.provider.findLeakedNics(0));
    expect(err.code).toBe('CLOUD_TIMEOUT');
    expect(err.details.action).toBe('DescribeNetworkInterfaces');
    expect(err.details.attempts).toBeGreaterThan(1);
  });
});
