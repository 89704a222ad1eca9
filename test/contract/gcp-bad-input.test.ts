// Bad input and failing clouds, through the real SDK against the GCE emulator: each is a clear
// error (or condition) naming what is wrong, and nothing is half-applied on nic0 or in routes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { VpcnetError } from '../../src/errors.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { routeName } from '../../providers/gcp/client/gcp-provider.ts';
import { startGcpEnv, type GcpEnv } from './gcp-emulator-setup.ts';

const ZONE = 'europe-west1-b';

async function failure(p: Promise<unknown>): Promise<VpcnetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VpcnetError);
  return err as VpcnetError;
}

/** Lets real HTTP run and moves the fake clock to the next sleeper whenever the code under test waits on it. */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await new Promise((r) => setTimeout(r, 5));
    const next = clock.nextAt();
    if (!done && next !== undefined) clock.advanceTo(next);
  }
  return p;
}

function aliases(env: GcpEnv, name = 'node-a'): string[] {
  return env.emulator.state.instance(ZONE, name).nics[0]!.aliasIpRanges.map((r) => r.ipCidrRange);
}

describe('GCE provider: bad input', () => {
  let env: GcpEnv | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('a metadata server that does not answer Metadata-Flavor: Google is refused by name', async () => {
    const impostor = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    try {
      env = await startGcpEnv({ metadataEndpoint: `http://127.0.0.1:${(impostor.address() as AddressInfo).port}` });
      const err = await failure(env.provider.discover());
      expect(err.code).toBe('METADATA_UNREACHABLE');
      expect(err.message).toContain('Metadata-Flavor: Google');
    } finally {
      impostor.close();
    }
  });

  it('an unknown secondary range is a config error naming it and the ranges that exist; nothing is asked of nic0', async () => {
    env = await startGcpEnv({ provider: { secondaryRangeName: 'no-such-range' } });
    const err = await failure(env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('no-such-range');
    expect(err.message).toContain('pods, small');
    expect(env.emulator.stats().calls['instances.updateNetworkInterface']).toBeUndefined();
  });

  it('an exhausted secondary range: SUBNET_FULL naming the range; the ranges already held stay', async () => {
    env = await startGcpEnv({ provider: { secondaryRangeName: 'small' } });
    const [first] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(first?.cidr).toBe('10.9.0.0/24');
    const err = await failure(env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }));
    expect(err.code).toBe('SUBNET_FULL');
    expect(err.message).toContain('small');
    expect(aliases(env)).toEqual(['10.9.0.0/24']);
  });

  it('one stale fingerprint is re-read and retried; a 412 storm gives up with CLOUD_CONFLICT and changes nothing', async () => {
    env = await startGcpEnv({ provider: { maxFingerprintRetries: 4 } });
    env.emulator.faults.add({ method: 'instances.updateNetworkInterface', status: 412, reason: 'conditionNotMet', count: 1 });
    const [got] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(aliases(env)).toEqual([got?.cidr]);
    env.emulator.faults.add({ method: 'instances.updateNetworkInterface', status: 412, reason: 'conditionNotMet' });
    const err = await failure(env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }));
    expect(err.code).toBe('CLOUD_CONFLICT');
    expect(err.message).toContain('412');
    expect(aliases(env)).toEqual([got?.cidr]);
  });

  it('an operation that ends DONE with an error: transient codes are retried, others fail at once with their code; nic0 unchanged', async () => {
    env = await startGcpEnv();
    env.emulator.faults.add({ method: 'instances.updateNetworkInterface', kind: 'operation', reason: 'RESOURCE_NOT_READY', status: 400, count: 1 });
    const [got] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(aliases(env)).toEqual([got?.cidr]);
    env.emulator.faults.add({ method: 'instances.updateNetworkInterface', kind: 'operation', reason: 'QUOTA_EXCEEDED', status: 403, count: 1 });
    const calls = env.emulator.stats().calls['instances.updateNetworkInterface'] ?? 0;
    const err = await failure(env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }));
    expect(err.code).toBe('CLOUD_LIMIT_EXCEEDED');
    expect(err.message).toContain('DONE with an error');
    expect(err.message).toContain('QUOTA_EXCEEDED');
    expect(env.emulator.stats().calls['instances.updateNetworkInterface']).toBe(calls + 1);
    expect(aliases(env)).toEqual([got?.cidr]);
  });

  it('quota exceeded: each retry waits for the next quota minute, then CLOUD_THROTTLED naming the rate limit; nothing applied', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 12, 0, 20));
    env = await startGcpEnv({ clock });
    await drive(clock, env.provider.discover());
    env.emulator.quotas.setLimit('mutation', 0);
    const err = await failure(drive(clock, env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 })));
    expect(err.code).toBe('CLOUD_THROTTLED');
    expect(err.message).toContain('RATE_LIMIT_EXCEEDED');
    // the retry policy's 3 attempts, one per quota interval: never two into one spent minute
    expect(env.emulator.stats().throttled['instances.updateNetworkInterface']).toBe(3);
    expect(env.api.limiter.holds().mutation).toBe(3);
    expect(clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 11, 1, 12, 2, 0));
    expect(aliases(env)).toEqual([]);
  });

  it('a spent read quota: the node waits for the refill instead of retrying into it, then goes on', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 12, 0, 20));
    env = await startGcpEnv({ clock, emulator: { quotas: { read: 3 } } });
    await drive(clock, env.provider.discover()); // instances.get + subnetworks.get
    await drive(clock, env.provider.listNics()); // the third read of the minute
    const nics = await drive(clock, env.provider.listNics());
    expect(nics[0]?.id).toBe('nic0');
    // one 403, then nothing until the next minute (without the hold, 3 quick attempts all fail)
    expect(env.emulator.stats().throttled['instances.get']).toBe(1);
    expect(clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 11, 1, 12, 1, 0));
  });

  it('route mode: a next hop without canIpForward raises NextHopCannotIpForward; with it, the condition clears', async () => {
    const seen: string[] = [];
    env = await startGcpEnv({ provider: { rangeMode: 'route', podCidr: '10.64.3.0/24', onCondition: (c) => seen.push(c.type) } });
    const [block] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(block?.cidr).toBe('10.64.3.0/24');
    expect(seen).toEqual(['NextHopCannotIpForward']);
    expect(env.provider.currentConditions()[0]?.message).toContain('canIpForward');
    env.emulator.state.setCanIpForward(ZONE, 'node-a', true);
    await env.provider.listNics();
    expect(env.provider.currentConditions()).toEqual([]);
  });

  it('route mode: a range already routed to another node is an ADDRESS_CONFLICT, not a second route', async () => {
    env = await startGcpEnv({ provider: { rangeMode: 'route', podCidr: '10.64.3.0/24' } });
    await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    const { GcpProvider } = await import('../../providers/gcp/client/gcp-provider.ts');
    const { MetadataClient } = await import('../../providers/gcp/client/metadata-client.ts');
    const { SdkComputeApi } = await import('../../providers/gcp/client/compute-api.ts');
    const { systemClock } = await import('../../src/util/clock.ts');
    const { pino } = await import('pino');
    const metadata = new MetadataClient({ endpoint: env.emulator.metadataEndpoint(ZONE, 'node-b') });
    const b = new GcpProvider({
      clusterName: 'contract',
      api: new SdkComputeApi({ project: 'vc10-contract', endpoint: env.emulator.endpoint, metadata, clock: systemClock, requestTimeoutMs: 5000 }),
      metadata,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      rangeMode: 'route',
      rangePrefixLength: 24,
      podCidr: '10.64.3.0/24',
      retry: { attempts: 2, baseMs: 1, capMs: 5 },
    });
    const err = await failure(b.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 }));
    expect(err.code).toBe('ADDRESS_CONFLICT');
    expect(err.message).toContain('node-a');
    expect([...env.emulator.state.routes.values()].map((r) => r.destRange)).toEqual(['10.64.3.0/24']);

    // node-a is deleted: its route stays (as on GCE) until one agent sweeps it
    env.emulator.state.deleteInstance(ZONE, 'node-a');
    await b.sweepStaleRoutes();
    expect(env.emulator.state.routes.size).toBe(0);
    // and now node-b may take the range
    const [got] = await b.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    expect(got?.cidr).toBe('10.64.3.0/24');
  });

  it('route mode: an unreachable sweep lease skips the sweep; the node still lists its routes', async () => {
    env = await startGcpEnv({
      provider: {
        rangeMode: 'route',
        clusterCidr: '10.64.0.0/16',
        routeSweepIntervalMs: 1,
        sweepGate: { tryAcquire: () => Promise.reject(new VpcnetError('K8S_UNAVAILABLE', 'API server unavailable')) },
      },
    });
    const [mine] = await env.provider.assign({ nicId: 'nic0', kind: 'range', count: 1, prefixLength: 24 });
    // a route of the cluster to node-b, then node-b is deleted: a stale route the sweep would delete
    const state = env.emulator.state;
    state
      .prepareRouteInsert({
        name: routeName('contract', 'vpc', '10.64.200.0/24'),
        network: state.networkLink('vpc'),
        destRange: '10.64.200.0/24',
        nextHopInstance: `${env.emulator.endpoint}/compute/v1/${state.instancePath(ZONE, 'node-b')}`,
      })
      .apply();
    state.deleteInstance(ZONE, 'node-b');
    const [nic] = await env.provider.listNics();
    expect(nic?.blocks.map((x) => x.cidr)).toEqual([mine?.cidr]);
    expect(state.routes.size).toBe(2); // nothing swept without the lease
  });
});
