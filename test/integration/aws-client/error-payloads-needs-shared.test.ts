// The AWS error mapping against vendor-written EC2 error bodies (../shared/cloud-payloads/aws),
// served over HTTP and parsed by the real SDK.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mapAwsError } from '../../../providers/aws/client/aws-errors.ts';
import { readSharedPayload } from '../../support/shared-payloads.ts';
import { listen, type LocalServer } from '../../unit/aws-client/helpers.ts';

const CASES: Array<[string, number, string, string]> = [
  ['ec2-error-request-limit-exceeded.xml', 503, 'CLOUD_THROTTLED', 'RequestLimitExceeded'],
  ['ec2-error-insufficient-free-addresses-in-subnet.xml', 400, 'SUBNET_FULL', 'InsufficientFreeAddressesInSubnet'],
  ['ec2-error-no-free-ipv4-or-prefixes.xml', 400, 'SUBNET_FULL', 'InvalidParameterValue'],
  ['ec2-error-private-ip-address-limit-exceeded.xml', 400, 'CLOUD_LIMIT_EXCEEDED', 'PrivateIpAddressLimitExceeded'],
  ['ec2-error-real-capture-address-limit.xml', 400, 'CLOUD_LIMIT_EXCEEDED', 'AddressLimitExceeded'],
  ['ec2-error-docs-example.xml', 400, 'CLOUD_NOT_FOUND', 'InvalidInstanceID.NotFound'],
];
const FILES = CASES.map(([file]) => file);

describe('AWS error mapping of real wire payloads through the SDK (../shared)', () => {
  let server: LocalServer | undefined;
  let next = { status: 400, file: '' };

  const bodies = new Map<string, string>();
  beforeAll(async () => {
    // Read up front: a missing ../shared fails here in one line, not as a hung request.
    for (const file of FILES) bodies.set(file, readSharedPayload('aws', file));
    server = await listen((_req, res) => {
      const body = bodies.get(next.file) ?? '';
      // EC2 sends the request id in a header too; the SDK reads it from there.
      const requestId = /<RequestID>([^<]+)<\/RequestID>/.exec(body)?.[1] ?? 'none';
      res.writeHead(next.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(body);
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const client = (): EC2Client =>
    new EC2Client({
      region: 'us-west-2',
      endpoint: server?.url,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    });

  it.each(CASES)('%s -> %s', async (file, status, code, awsCode) => {
    next = { status, file };
    const err = await client()
      .send(new DescribeNetworkInterfacesCommand({}))
      .then(
        () => undefined,
        (e: unknown) => mapAwsError(e, 'DescribeNetworkInterfaces'),
      );
    expect(err?.code).toBe(code);
    expect(err?.details.awsCode).toBe(awsCode);
    expect(typeof err?.details.requestId).toBe('string');
    expect(String(err?.message)).not.toContain('test-secret');
  });
});
