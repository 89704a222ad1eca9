// Our EC2 Query client and the SDK's, both pointed at one canned server, set up around a test
// file (beforeAll/afterAll): the wire tests compare what the two send and parse.
import { afterAll, beforeAll } from '@jest/globals';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2QueryClient } from '../../../providers/aws/client/ec2-query.ts';
import { sdkTransport } from '../../support/aws-sdk-transport.ts';
import { canned, type Canned } from './helpers.ts';

export interface SideBySide {
  server: Canned;
  ours: Ec2QueryClient;
  sdk: ReturnType<typeof sdkTransport>;
}

export function useSideBySide(credentials: { accessKeyId: string; secretAccessKey: string }): SideBySide {
  const w = {} as SideBySide;
  beforeAll(async () => {
    w.server = await canned();
    w.ours = new Ec2QueryClient({ region: 'us-west-2', endpoint: w.server.url, credentials });
    w.sdk = sdkTransport(new EC2Client({ region: 'us-west-2', endpoint: w.server.url, credentials, maxAttempts: 1 }));
  });
  afterAll(async () => {
    w.ours?.destroy();
    w.sdk?.destroy?.();
    await w.server?.close();
  });
  return w;
}
