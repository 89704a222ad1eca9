// GCE error bodies from ../shared/cloud-payloads (see SOURCES.md there) through the real SDK:
// a local server answers every Compute call with the vendor body; the provider's mapping must
// name the right code. Needs ../shared; fails with one line when it is absent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SdkComputeApi } from '../../providers/gcp/client/compute-api.ts';
import { operationError } from '../../providers/gcp/client/gce-errors.ts';
import type { MetadataClient } from '../../providers/gcp/client/metadata-client.ts';
import { VpcnetError } from '../../src/errors.ts';
import { systemClock } from '../../src/util/clock.ts';
import { readSharedPayload } from '../support/shared-payloads.ts';

describe('GCE error bodies of ../shared through the SDK', () => {
  let server: Server;
  let url = '';
  let next = { status: 404, body: '' };
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(next.status, { 'content-type': 'application/json; charset=UTF-8' }).end(next.body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const api = (): SdkComputeApi => {
    const metadata = { token: () => Promise.resolve({ token: 't', expiresAt: Date.now() + 3_600_000 }) } as unknown as MetadataClient;
    return new SdkComputeApi({ project: 'p', endpoint: url, metadata, clock: systemClock, requestTimeoutMs: 5000 });
  };

  it('error-404-notFound (classic envelope): CLOUD_NOT_FOUND with its reason', async () => {
    next = { status: 404, body: readSharedPayload('gce', 'error-404-notFound.libcloud.json') };
    const err = await api()
      .getInstance('us-central1-b', 'libcloud-lb-demo-www-002')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(VpcnetError);
    expect((err as VpcnetError).code).toBe('CLOUD_NOT_FOUND');
    expect((err as VpcnetError).details.reason).toBe('notFound');
  });

  it.each([
    ['zoneOperation-DONE-with-error.libcloud.json', 'CLOUD_UNAVAILABLE'],
    ['zoneOperation-DONE-409-conflict.libcloud.json', 'CLOUD_CONFLICT'],
  ])('%s -> %s', (file, code) => {
    const op = JSON.parse(readSharedPayload('gce', file)) as { name: string; error: { errors: { code: string; message: string }[] }; httpErrorStatusCode: number };
    expect(operationError(op, { errors: op.error.errors, httpErrorStatusCode: op.httpErrorStatusCode }).code).toBe(code);
  });
});
