// The agent's EC2 Query client (providers/aws/client/ec2-query.ts) held to the AWS SDK's
// client, which stays the reference: for every action vpcnet calls, the same input gives the
// same Query parameters, the emulator's answers parse to the same members, errors carry the
// same facts (code, status, request id, message), and the request carries a valid SigV4
// signature (recomputed here from the spec, not by the signer under test).
import { describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { awsErrorFacts, mapAwsError } from '../../../providers/aws/client/aws-errors.ts';
import { Ec2QueryClient, formBody, OUTPUT_SHAPES, queryParams, regionalEndpoint } from '../../../providers/aws/client/ec2-query.ts';
import { EC2_ACTIONS, type Ec2Action, type Ec2Ops } from '../../../providers/aws/client/ec2-types.ts';
import { AwsEmulator } from '../../../providers/aws/emulator/index.ts';
import { listen, project } from './helpers.ts';
import { useSideBySide } from './side-by-side.ts';

const CREDS = { accessKeyId: 'AKIDWIRETEST', secretAccessKey: 'wire-secret' };

const sorted = (body: string): string[][] => [...new URLSearchParams(body).entries()].map(([k, v]) => [k, v]).sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));

/** Inputs shaped as aws-provider.ts sends them, every declared member used at least once. */
const INPUTS: { [A in Ec2Action]: Array<Ec2Ops[A][0]> } = {
  AssignPrivateIpAddresses: [
    { NetworkInterfaceId: 'eni-1', SecondaryPrivateIpAddressCount: 3 },
    { NetworkInterfaceId: 'eni-1', Ipv4PrefixCount: 2 },
  ],
  AttachNetworkInterface: [{ NetworkInterfaceId: 'eni-1', InstanceId: 'i-1', DeviceIndex: 2 }],
  CreateNetworkInterface: [
    {
      SubnetId: 'subnet-1',
      Groups: ['sg-1', 'sg-2'],
      Description: 'vpcnet NIC of i-1 (cluster c) & more: 100%',
      ClientToken: '0f7c1f1e-1d3a-4c5e-9c8b-2a1b3c4d5e6f',
      SecondaryPrivateIpAddressCount: 4,
      TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'vpcnet.io/cluster-name', Value: 'c' }, { Key: 'a b', Value: 'é/+=' }] }],
    },
    { SubnetId: 'subnet-1', Ipv4PrefixCount: 1 },
  ],
  CreateTags: [{ Resources: ['eni-1', 'eni-2'], Tags: [{ Key: 'vpcnet.io/created-at', Value: '2026-12-01T00:00:00.000Z' }] }],
  DeleteNetworkInterface: [{ NetworkInterfaceId: 'eni-1' }],
  DescribeInstanceTypes: [{ InstanceTypes: ['m5.large'] }],
  DescribeNetworkInterfaces: [
    { Filters: [{ Name: 'attachment.instance-id', Values: ['i-1'] }] },
    { MaxResults: 1000, NextToken: 'tok/+=', Filters: [{ Name: 'status', Values: ['available'] }, { Name: 'tag:vpcnet.io/cluster-name', Values: ['c', 'd'] }] },
    { NetworkInterfaceIds: ['eni-1'] },
  ],
  DescribeSubnets: [
    { SubnetIds: ['subnet-1', 'subnet-2'] },
    { Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }, { Name: 'availability-zone', Values: ['us-west-2a'] }] },
  ],
  DetachNetworkInterface: [{ AttachmentId: 'eni-attach-1' }, { AttachmentId: 'eni-attach-1', Force: true }],
  ModifyNetworkInterfaceAttribute: [{ NetworkInterfaceId: 'eni-1', Attachment: { AttachmentId: 'eni-attach-1', DeleteOnTermination: true } }],
  UnassignPrivateIpAddresses: [
    { NetworkInterfaceId: 'eni-1', PrivateIpAddresses: ['10.0.0.5', '10.0.0.6'] },
    { NetworkInterfaceId: 'eni-1', Ipv4Prefixes: ['10.0.1.0/28'] },
  ],
};

const w = useSideBySide(CREDS);

describe('EC2 Query client: requests', () => {
  it('covers every action vpcnet calls', () => {
    expect(Object.keys(INPUTS).sort()).toEqual([...EC2_ACTIONS].sort());
    expect(Object.keys(OUTPUT_SHAPES).sort()).toEqual([...EC2_ACTIONS].sort());
  });

  for (const action of EC2_ACTIONS) {
    it(`${action}: the same Query parameters as the SDK`, async () => {
      for (const input of INPUTS[action] as object[]) {
        w.server.next = { status: 200, body: `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId></${action}Response>` };
        w.server.seen.length = 0;
        await w.sdk.send(action, input as never);
        await w.ours.send(action, input as never);
        const [fromSdk, fromOurs] = w.server.seen;
        expect(fromOurs?.method).toBe('POST');
        expect(fromOurs?.url).toBe('/');
        expect(fromOurs?.headers['content-type']).toBe(fromSdk?.headers['content-type']);
        // An idempotency token each client makes up when the caller gives none: present in both, values differ.
        const token = (ps: string[][]): string[][] => ps.map(([k, v]) => [k ?? '', k === 'ClientToken' && !(input as { ClientToken?: string }).ClientToken ? '<generated>' : (v ?? '')]);
        expect(token(sorted(fromOurs?.body ?? ''))).toEqual(token(sorted(fromSdk?.body ?? '')));
      }
    });
  }

  it('flattens lists as Name.N and encodes the form as RFC 3986', () => {
    expect(queryParams('DescribeSubnets', { Filters: [{ Name: 'a', Values: ['x', 'y'] }] })).toEqual([
      ['Action', 'DescribeSubnets'],
      ['Version', '2016-11-15'],
      ['Filter.1.Name', 'a'],
      ['Filter.1.Value.1', 'x'],
      ['Filter.1.Value.2', 'y'],
    ]);
    expect(formBody([['a b', "x!'()*~"]])).toBe('a%20b=x%21%27%28%29%2A~');
  });

  it('signs with a valid SigV4 signature (recomputed from the spec)', async () => {
    w.server.next = { status: 200, body: '<DeleteNetworkInterfaceResponse><requestId>r</requestId></DeleteNetworkInterfaceResponse>' };
    w.server.seen.length = 0;
    await w.ours.send('DeleteNetworkInterface', { NetworkInterfaceId: 'eni-1' });
    const req = w.server.seen[0];
    const auth = String(req?.headers.authorization);
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
    expect(m).not.toBeNull();
    const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
    expect([keyId, region, service]).toEqual([CREDS.accessKeyId, 'us-west-2', 'ec2']);
    const names = (signedHeaders ?? '').split(';');
    expect(names).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
    const amzDate = String(req?.headers['x-amz-date']);
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${String(req?.headers[n]).trim()}`), '', signedHeaders, sha(req?.body ?? '')].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/us-west-2/ec2/aws4_request`, sha(canonical)].join('\n');
    const hmac = (k: string | Buffer, s: string): Buffer => createHmac('sha256', k).update(s).digest();
    const key = hmac(hmac(hmac(hmac(`AWS4${CREDS.secretAccessKey}`, day ?? ''), 'us-west-2'), 'ec2'), 'aws4_request');
    expect(createHmac('sha256', key).update(toSign).digest('hex')).toBe(signature);
  });

  it('asks the credential provider on each request (so refreshed credentials are used)', async () => {
    let asked = 0;
    const c = new Ec2QueryClient({
      region: 'us-west-2',
      endpoint: w.server.url,
      credentials: async () => ({ accessKeyId: `AKID${++asked}`, secretAccessKey: 's', sessionToken: `tok${asked}` }),
    });
    w.server.next = { status: 200, body: '<DeleteNetworkInterfaceResponse/>' };
    w.server.seen.length = 0;
    await c.send('DeleteNetworkInterface', { NetworkInterfaceId: 'eni-1' });
    await c.send('DeleteNetworkInterface', { NetworkInterfaceId: 'eni-1' });
    expect(w.server.seen.map((s) => [String(s.headers.authorization).split('/')[0], s.headers['x-amz-security-token']])).toEqual([
      ['AWS4-HMAC-SHA256 Credential=AKID1', 'tok1'],
      ['AWS4-HMAC-SHA256 Credential=AKID2', 'tok2'],
    ]);
    c.destroy();
  });

  it('regional endpoints follow the partition', () => {
    expect(regionalEndpoint('us-west-2')).toBe('https://ec2.us-west-2.amazonaws.com');
    expect(regionalEndpoint('us-gov-west-1')).toBe('https://ec2.us-gov-west-1.amazonaws.com');
    expect(regionalEndpoint('cn-north-1')).toBe('https://ec2.cn-north-1.amazonaws.com.cn');
    expect(regionalEndpoint('us-iso-east-1')).toBe('https://ec2.us-iso-east-1.c2s.ic.gov');
    expect(regionalEndpoint('us-isob-east-1')).toBe('https://ec2.us-isob-east-1.sc2s.sgov.gov');
  });
});

/** Sends one request to the emulator and returns its raw answer. */
async function rawCall(endpoint: string, action: Ec2Action, input: object): Promise<{ status: number; body: string }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=AKIDWIRETEST/x' },
    body: formBody(queryParams(action, input)),
  });
  return { status: res.status, body: await res.text() };
}

/** Both clients parse one answer; returns [ours, SDK projected onto our members] or the two errors' facts. */
async function parseBoth(action: Ec2Action, input: object, answer: { status: number; body: string }): Promise<[unknown, unknown]> {
  w.server.next = answer;
  const settle = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      (out) => ({ ok: project(OUTPUT_SHAPES[action], out) }),
      (err: unknown) => {
        const facts = awsErrorFacts(err);
        return { err: { name: facts.awsCode, message: facts.message, status: facts.httpStatus, requestId: facts.requestId, code: mapAwsError(err, action).code } };
      },
    );
  return [await settle(w.ours.send(action, input as never)), await settle(w.sdk.send(action, input as never))];
}

describe('EC2 Query client: answers, as the emulator renders them', () => {
  it('every action parses to the members the SDK parses, errors to the same facts', async () => {
    const emu = new AwsEmulator({ region: 'us-west-2', throttling: false });
    const endpoint = await emu.start({ port: 0 });
    try {
      const { instanceIds } = emu.applyScenario({
        vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/20', az: 'us-west-2a', tags: { 'kubernetes.io/role/cni': '1' } }] }],
        instances: [{ instanceType: 'm5.large', subnet: '10.0.0.0/20' }],
      });
      const instanceId = instanceIds[0] as string;
      const steps: Array<[Ec2Action, (prev: Record<string, unknown>) => object]> = [
        ['DescribeInstanceTypes', () => ({ InstanceTypes: ['m5.large'] })],
        ['DescribeInstanceTypes', () => ({ InstanceTypes: ['x9.imaginary'] })],
        ['DescribeSubnets', () => ({ Filters: [{ Name: 'availability-zone', Values: ['us-west-2a'] }] })],
        ['DescribeNetworkInterfaces', () => ({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] })],
        [
          'CreateNetworkInterface',
          (p) => ({
            SubnetId: p.subnetId,
            SecondaryPrivateIpAddressCount: 2,
            TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'vpcnet.io/cluster-name', Value: 'wire' }] }],
          }),
        ],
        ['AttachNetworkInterface', (p) => ({ NetworkInterfaceId: p.nicId, InstanceId: instanceId, DeviceIndex: 1 })],
        ['ModifyNetworkInterfaceAttribute', (p) => ({ NetworkInterfaceId: p.nicId, Attachment: { AttachmentId: p.attachmentId, DeleteOnTermination: true } })],
        ['AssignPrivateIpAddresses', (p) => ({ NetworkInterfaceId: p.nicId, SecondaryPrivateIpAddressCount: 2 })],
        ['AssignPrivateIpAddresses', (p) => ({ NetworkInterfaceId: p.nicId, Ipv4PrefixCount: 1 })],
        ['DescribeNetworkInterfaces', (p) => ({ NetworkInterfaceIds: [p.nicId] })],
        ['UnassignPrivateIpAddresses', (p) => ({ NetworkInterfaceId: p.nicId, Ipv4Prefixes: [p.prefix] })],
        ['UnassignPrivateIpAddresses', (p) => ({ NetworkInterfaceId: p.nicId, PrivateIpAddresses: ['10.0.99.99'] })],
        ['CreateTags', (p) => ({ Resources: [p.nicId], Tags: [{ Key: 'k', Value: 'v' }] })],
        ['DeleteNetworkInterface', (p) => ({ NetworkInterfaceId: p.nicId })],
        ['DetachNetworkInterface', (p) => ({ AttachmentId: p.attachmentId, Force: true })],
        ['DescribeNetworkInterfaces', () => ({ NetworkInterfaceIds: ['eni-0000000000000dead'] })],
      ];
      const prev: Record<string, unknown> = {};
      const seen = new Set<Ec2Action>();
      let errors = 0;
      for (const [action, inputOf] of steps) {
        const input = inputOf(prev);
        const answer = await rawCall(endpoint, action, input);
        const [a, b] = await parseBoth(action, input, answer);
        // The SDK drops the RequestID of an EC2 error body; ours keeps it for operators.
        const bodyRequestId = /<RequestID>([^<]+)<\/RequestID>/.exec(answer.body)?.[1];
        const ourErr = (a as { err?: { requestId?: string } }).err;
        if (ourErr) {
          expect(ourErr.requestId).toBe(bodyRequestId);
          const sdkErr = (b as { err?: { requestId?: string } }).err;
          if (sdkErr && sdkErr.requestId === undefined) delete ourErr.requestId;
        }
        expect({ action, result: a }).toEqual({ action, result: b });
        seen.add(action);
        const ok = (a as { ok?: Record<string, unknown> }).ok;
        if (!ok) errors++;
        if (action === 'DescribeSubnets') prev.subnetId = (ok?.Subnets as Array<{ SubnetId: string }>)[0]?.SubnetId;
        if (action === 'CreateNetworkInterface') prev.nicId = (ok?.NetworkInterface as { NetworkInterfaceId: string }).NetworkInterfaceId;
        if (action === 'AttachNetworkInterface') prev.attachmentId = ok?.AttachmentId;
        if (action === 'AssignPrivateIpAddresses' && ok?.AssignedIpv4Prefixes) prev.prefix = (ok.AssignedIpv4Prefixes as Array<{ Ipv4Prefix: string }>)[0]?.Ipv4Prefix;
      }
      expect([...seen].sort()).toEqual([...EC2_ACTIONS].sort());
      expect(errors).toBeGreaterThanOrEqual(2); // unknown type, unassigning an address the NIC lacks, deleting an attached NIC, a missing NIC
    } finally {
      await emu.stop();
    }
  });

  it('an answer that is not EC2 XML (a proxy page) still carries the HTTP status', async () => {
    const [a, b] = await parseBoth('DescribeSubnets', {}, { status: 502, body: '<html><body>Bad Gateway</body></html>' });
    expect((a as { err: { status: number; code: string } }).err).toMatchObject({ status: 502, code: 'CLOUD_UNAVAILABLE' });
    expect((b as { err: { status: number; code: string } }).err).toMatchObject({ status: 502, code: 'CLOUD_UNAVAILABLE' });
  });

  it('a server that never answers fails as TimeoutError (CLOUD_TIMEOUT) after the request timeout', async () => {
    const silent = await listen(() => undefined);
    const c = new Ec2QueryClient({ region: 'us-west-2', endpoint: silent.url, credentials: CREDS, requestTimeoutMs: 100 });
    const err = await c.send('DescribeSubnets', {}).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(mapAwsError(err, 'DescribeSubnets').code).toBe('CLOUD_TIMEOUT');
    c.destroy();
    await silent.close();
  });

  it('a refused connection fails with the errno (CLOUD_UNAVAILABLE)', async () => {
    const gone = await listen(() => undefined);
    const url = gone.url;
    await gone.close();
    const c = new Ec2QueryClient({ region: 'us-west-2', endpoint: url, credentials: CREDS });
    const err = await c.send('DescribeSubnets', {}).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(mapAwsError(err, 'DescribeSubnets').code).toBe('CLOUD_UNAVAILABLE');
    c.destroy();
  });
});
