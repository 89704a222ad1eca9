import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ImdsClient } from '../../../providers/aws/client/imds.ts';
import { VpcnetError } from '../../../src/errors.ts';
import { FakeClock, type Clock } from '../../../src/util/clock.ts';
import { fakeImds, nodeMetadata, type FakeImds } from './helpers.ts';

const client = (endpoint: string, clock: Clock, deadlineMs = 2000): ImdsClient =>
  new ImdsClient({
    endpoint,
    tokenTtlSeconds: 600,
    timeoutMs: 1000,
    backoff: { baseMs: 1, capMs: 5, deadlineMs },
    clock,
    random: () => 0.5,
    logger: pino({ level: 'silent' }),
  });

describe('IMDSv2 client', () => {
  let imds: FakeImds | undefined;
  afterEach(async () => {
    await imds?.close();
    imds = undefined;
  });

  it('reads identity and the primary interface with one cached session token', async () => {
    imds = await fakeImds(nodeMetadata());
    const c = client(imds.url, new FakeClock(0));
    const id = await c.identity();
    expect(id).toEqual({
      instanceId: 'i-084abd1f69f27d987',
      instanceType: 't3.medium',
      zone: 'us-west-2b',
      region: 'us-west-2',
      primaryMac: '02:68:f3:f6:c7:ef',
      primaryIp: '10.0.88.3',
    });
    const [eni] = await c.interfaces();
    expect(eni).toMatchObject({
      deviceNumber: 0,
      interfaceId: 'eni-0c0fde533492c9df5',
      subnetId: 'subnet-0afaed81bf542db37',
      subnetCidr: '10.0.64.0/18',
      vpcCidrs: ['10.0.0.0/16', '100.64.0.0/16'],
      localIpv4s: ['10.0.88.3'],
      ipv4Prefixes: [],
    });
    expect(imds.tokenPuts).toBe(1);
  });

  it('derives the region from the zone when placement/region is missing', async () => {
    const data = nodeMetadata();
    delete data['placement/region'];
    imds = await fakeImds(data);
    expect((await client(imds.url, new FakeClock(0)).identity()).region).toBe('us-west-2');
  });

  it('refreshes the token before its TTL ends and after a 401', async () => {
    imds = await fakeImds(nodeMetadata());
    const clock = new FakeClock(0);
    const c = client(imds.url, clock);
    await c.get('instance-id');
    await c.get('instance-id');
    expect(imds.tokenPuts).toBe(1);
    await clock.advance(600_000);
    await c.get('instance-id');
    expect(imds.tokenPuts).toBe(2);
    imds.valid.clear(); // tokens revoked: the next GET answers 401 and the client asks again
    expect((await c.get('instance-id')).trim()).toBe('i-084abd1f69f27d987');
    expect(imds.tokenPuts).toBe(3);
  });

  it('reports a missing item as CLOUD_NOT_FOUND without retrying', async () => {
    imds = await fakeImds(nodeMetadata());
    const err = (await client(imds.url, new FakeClock(0))
      .get('no/such/item')
      .catch((e: unknown) => e)) as VpcnetError;
    expect(err.code).toBe('CLOUD_NOT_FOUND');
    expect(imds.gets).toBe(1);
  });
});
