// The IMDSv2 client's retry deadline on the wall clock, against real sockets: a refused port
// and a service that keeps answering 5xx end in METADATA_UNREACHABLE once the deadline passed.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ImdsClient } from '../../../providers/aws/client/imds.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { systemClock } from '../../../src/util/clock.ts';
import { listen } from '../../unit/aws-client/helpers.ts';

const client = (endpoint: string, deadlineMs: number): ImdsClient =>
  new ImdsClient({
    endpoint,
    tokenTtlSeconds: 600,
    timeoutMs: 1000,
    backoff: { baseMs: 1, capMs: 5, deadlineMs },
    clock: systemClock,
    random: () => 0.5,
    logger: pino({ level: 'silent' }),
  });

describe('IMDSv2 client on the wall clock', () => {
  it('reports unreachable metadata as METADATA_UNREACHABLE naming the endpoint', async () => {
    // a port that was just closed: connections are refused at once
    const srv = await listen((_q, r) => r.end());
    const url = srv.url;
    await srv.close();
    const err = (await client(url, 30)
      .identity()
      .catch((e: unknown) => e)) as VpcnetError;
    expect(err).toBeInstanceOf(VpcnetError);
    expect(err.code).toBe('METADATA_UNREACHABLE');
    expect(err.message).toContain(url);
    expect(err.details.endpoint).toBe(url);
  });

  it('reports a metadata service that keeps failing with 5xx as METADATA_UNREACHABLE', async () => {
    let hits = 0;
    const srv = await listen((_q, r) => {
      hits++;
      r.writeHead(503).end();
    });
    const err = (await client(srv.url, 1000)
      .get('instance-id')
      .catch((e: unknown) => e)) as VpcnetError;
    await srv.close();
    expect(err.code).toBe('METADATA_UNREACHABLE');
    expect(err.details.status).toBe(503);
    expect(hits).toBeGreaterThan(1);
  });
});
