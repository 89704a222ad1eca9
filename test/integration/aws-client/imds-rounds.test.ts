// How many metadata round trips a read costs. Real IMDS answers in about a millisecond, but a
// busy or far metadata path multiplies every sequential round, so the start-up must read what
// is independent at once. The server below holds every request and answers all it holds only
// once the client has stopped sending (the client waits on its answers): each such release is
// one wave, i.e. one round trip the client could not avoid. Waves are counted, not time.
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AwsProvider } from '../../../providers/aws/client/aws-provider.ts';
import { ImdsClient } from '../../../providers/aws/client/imds.ts';
import { Ec2RateLimiter } from '../../../providers/aws/client/rate-limiter.ts';
import { FakeClock } from '../../../src/util/clock.ts';
import { fakeImds, listen, nodeMetadata, ScriptedEc2, type FakeImds, type LocalServer } from '../../unit/aws-client/helpers.ts';

/** Quiet spell after which the client is taken to wait on its answers (not asserted on). */
const QUIET_MS = 250;

interface Gate extends LocalServer {
  waves: number;
  maxInFlight: number;
  /** Releases waves until `work` settles; returns its result. */
  drive<T>(work: Promise<T>): Promise<T>;
}

/** A gate in front of `upstream` that answers held requests wave by wave. */
async function gate(upstream: string): Promise<Gate> {
  const held: (() => Promise<void>)[] = [];
  let lastArrival = Date.now();
  const srv = await listen((req, res, body) => {
    lastArrival = Date.now();
    held.push(async () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const up = await fetch(upstream + (req.url ?? '/'), { method: req.method ?? 'GET', headers, ...(body ? { body } : {}) });
      res.writeHead(up.status).end(await up.text());
    });
    g.maxInFlight = Math.max(g.maxInFlight, held.length);
  });
  const g: Gate = {
    ...srv,
    waves: 0,
    maxInFlight: 0,
    async drive<T>(work: Promise<T>): Promise<T> {
      let settled = false;
      const tracked = work.finally(() => {
        settled = true;
      });
      while (!settled) {
        await new Promise((r) => setTimeout(r, 20));
        if (held.length === 0 || Date.now() - lastArrival < QUIET_MS) continue;
        g.waves++;
        await Promise.all(held.splice(0).map((answer) => answer()));
      }
      return tracked;
    },
  };
  return g;
}

/** A node with three NICs, as IMDS serves it. */
function threeNics(): Record<string, string> {
  const data = nodeMetadata();
  const macs = ['02:68:f3:f6:c7:ef', '02:68:f3:f6:c7:f0', '02:68:f3:f6:c7:f1'];
  data['network/interfaces/macs/'] = macs.map((m) => `${m}/`).join('\n');
  macs.slice(1).forEach((mac, i) => {
    const base = `network/interfaces/macs/${mac}/`;
    Object.assign(data, {
      [`${base}device-number`]: String(i + 1),
      [`${base}interface-id`]: `eni-${i + 1}`,
      [`${base}subnet-id`]: 'subnet-0afaed81bf542db37',
      [`${base}subnet-ipv4-cidr-block`]: '10.0.64.0/18',
      [`${base}vpc-id`]: 'vpc-0afaed81bf542db37',
      [`${base}local-ipv4s`]: `10.0.88.${10 + i}`,
      [`${base}ipv4-prefix`]: `10.0.9${i}.16/28`,
    });
  });
  return data;
}

const client = (endpoint: string, maxConcurrent?: number): ImdsClient =>
  new ImdsClient({
    endpoint,
    tokenTtlSeconds: 600,
    timeoutMs: 10_000,
    backoff: { baseMs: 1, capMs: 5, deadlineMs: 2000 },
    clock: new FakeClock(0),
    random: () => 0.5,
    logger: pino({ level: 'silent' }),
    ...(maxConcurrent ? { maxConcurrent } : {}),
  });

describe('IMDS round trips', () => {
  let imds: FakeImds | undefined;
  let g: Gate | undefined;
  afterEach(async () => {
    await g?.close();
    await imds?.close();
    g = imds = undefined;
  });

  it('the agent start-up (discover, the first NIC listing of a fresh node, the reconcile right after) costs three round trips', async () => {
    imds = await fakeImds(nodeMetadata());
    g = await gate(imds.url);
    const p = new AwsProvider({
      clusterName: 'prod-1',
      metadataEndpoint: g.url,
      transport: new ScriptedEc2(),
      clock: new FakeClock(Date.UTC(2026, 10, 24)),
      random: () => 0,
      rateLimiter: new Ec2RateLimiter({ rates: { '*': { perSecond: 10_000, concurrency: 100 } } }),
    });
    const nics = await g.drive(
      (async () => {
        await p.discover();
        await p.listNics();
        // the start-up's reconcile: its NIC check may use the start-up's read, made a moment ago
        return p.listNics();
      })(),
    );
    expect(nics.map((n) => n.id)).toEqual(['eni-0c0fde533492c9df5']);
    // token; instance facts with the MAC list; every MAC's fields
    expect(g.waves).toBe(3);
    expect(imds.tokenPuts).toBe(1);
  });

  it('identity and all interfaces of a three-NIC node in three round trips, one token', async () => {
    imds = await fakeImds(threeNics());
    g = await gate(imds.url);
    // 27 per-MAC reads: one round when the cap allows them all at once
    const snap = await g.drive(client(g.url, 32).snapshot());
    expect(snap.identity.primaryMac).toBe('02:68:f3:f6:c7:ef');
    expect(snap.interfaces.map((i) => [i.interfaceId, i.ipv4Prefixes])).toEqual([
      ['eni-0c0fde533492c9df5', []],
      ['eni-1', ['10.0.90.16/28']],
      ['eni-2', ['10.0.91.16/28']],
    ]);
    expect(g.waves).toBe(3);
    expect(imds.tokenPuts).toBe(1);
  });

  it('the NIC address check reads every NIC in one round after the MAC list', async () => {
    imds = await fakeImds(threeNics());
    g = await gate(imds.url);
    const c = client(g.url);
    const addrs = await g.drive(c.addresses());
    expect(addrs.map((a) => a.ipv4Prefixes)).toEqual([[], ['10.0.90.16/28'], ['10.0.91.16/28']]);
    // token; MAC list; addresses and prefixes of all three
    expect(g.waves).toBe(3);
  });

  it('never has more requests in flight than allowed', async () => {
    imds = await fakeImds(threeNics());
    g = await gate(imds.url);
    const snap = await g.drive(client(g.url, 4).snapshot());
    expect(snap.interfaces).toHaveLength(3);
    expect(g.maxInFlight).toBe(4);
  });
});
