// The EC2 emulator as the AWS CLI (Debian's awscli, deploy/debian-packages.txt) and the SDKs
// meet it: opaque NextTokens that survive concurrent changes and refuse tampering, and the
// IMDS paths tools read for their identity (token PUT, then GET, as the CLI and SDKs do).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from '@jest/globals';
import { REGION, startHarness, stopHarness, type Harness } from './helpers.ts';

const AWS = '/usr/bin/aws';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await stopHarness(h);
  h = undefined;
});

interface CliResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Runs `aws ec2 ...` against the emulator, with no profile, config or metadata lookups of the host. */
function awsEc2(endpoint: string, args: string[]): Promise<CliResult> {
  if (!existsSync(AWS)) throw new Error(`${AWS} is missing: install Debian's awscli (deploy/bootstrap.sh does)`);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  return new Promise((resolve) => {
    execFile(AWS, ['--endpoint-url', endpoint, '--region', REGION, '--output', 'json', 'ec2', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ rc: code, stdout, stderr });
    });
  });
}

async function makeEnis(x: Harness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = await x.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: x.subnetA }));
    ids.push(out.NetworkInterface?.NetworkInterfaceId as string);
  }
  return ids;
}

describe('NextToken, with the AWS CLI', () => {
  it('the token is opaque, the CLI pages with it, and a changed one is refused with InvalidPaginationToken', async () => {
    h = await startHarness();
    await makeEnis(h, 12);
    // `--page-size`: the CLI follows the tokens through every ENI, each once.
    const all = await awsEc2(h.emu.endpoint, ['describe-network-interfaces', '--page-size', '5']);
    expect(all.stderr).toBe('');
    const ids = (JSON.parse(all.stdout) as { NetworkInterfaces: Array<{ NetworkInterfaceId: string }> }).NetworkInterfaces.map((e) => e.NetworkInterfaceId);
    expect(ids.sort()).toEqual(h.emu.listEnis().map((e) => e.eniId).sort());
    expect(h.emu.stats().calls.DescribeNetworkInterfaces).toBe(Math.ceil(ids.length / 5));
    const first = await awsEc2(h.emu.endpoint, ['describe-network-interfaces', '--max-results', '5']);
    const token = (JSON.parse(first.stdout) as { NextToken?: string }).NextToken ?? '';
    expect(token).not.toBe('');
    // Not an offset, in the clear or in base64.
    expect(token).not.toMatch(/^\d+$/);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toMatch(/^\d+$/);
    const tampered = token.slice(0, 10) + (token[10] === 'x' ? 'y' : 'x') + token.slice(11);
    const bad = await awsEc2(h.emu.endpoint, ['describe-network-interfaces', '--max-results', '5', '--next-token', tampered]);
    expect(bad.rc).not.toBe(0);
    expect(bad.stderr).toContain('An error occurred (InvalidPaginationToken) when calling the DescribeNetworkInterfaces operation: The specified pagination token is not valid or is expired.');
    // A readable offset (what a client might forge) is no token either.
    const forged = await awsEc2(h.emu.endpoint, ['describe-network-interfaces', '--max-results', '5', '--next-token', Buffer.from('5').toString('base64url')]);
    expect(forged.stderr).toContain('(InvalidPaginationToken)');
    // Each CLI start costs seconds of Python on a busy machine.
  }, 120_000);
});

describe('NextToken under concurrent changes (SDK)', () => {
  it('a page starts after the last item of the previous one, whatever was deleted or added meanwhile', async () => {
    h = await startHarness();
    const x = h;
    await makeEnis(x, 12);
    const initial = x.emu.listEnis().map((e) => e.eniId);
    const page1 = await x.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    const seen = (page1.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId as string);
    // Between pages: two ENIs of the first page go, one new ENI comes.
    const gone = (page1.NetworkInterfaces ?? []).filter((e) => e.Status === 'available').slice(0, 2).map((e) => e.NetworkInterfaceId as string);
    expect(gone).toHaveLength(2);
    for (const id of gone) await x.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    await makeEnis(x, 1);
    let token = page1.NextToken;
    while (token) {
      const page = await x.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: token }));
      seen.push(...(page.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId as string));
      token = page.NextToken;
    }
    // Nothing twice, and every ENI that lived throughout was listed (an offset would skip two).
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of initial) expect(seen).toContain(id);
  });
});

/** IMDSv2 as the CLI and the SDKs do it: PUT a token (TTL 21600), then GET with it. */
async function imds(base: string, path: string): Promise<{ status: number; body: string }> {
  const t = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' } });
  const token = await t.text();
  const res = await fetch(`${base}/latest/${path}`, { headers: { 'x-aws-ec2-metadata-token': token } });
  return { status: res.status, body: await res.text() };
}

describe('IMDS identity paths', () => {
  it('dynamic/instance-identity/document: the real document, agreeing with the EC2 API', async () => {
    h = await startHarness();
    const x = h;
    const base = await x.emu.startImdsListener(x.instance, { port: 0 });
    const res = await imds(base, 'dynamic/instance-identity/document');
    expect(res.status).toBe(200);
    // EC2 writes `"key" : value`, two spaces of indent.
    expect(res.body).toMatch(/^{\n {2}"accountId" : "/);
    const doc = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual([
      'accountId',
      'architecture',
      'availabilityZone',
      'billingProducts',
      'devpayProductCodes',
      'marketplaceProductCodes',
      'imageId',
      'instanceId',
      'instanceType',
      'kernelId',
      'pendingTime',
      'privateIp',
      'ramdiskId',
      'region',
      'version',
    ]);
    const out = await x.ec2.send(new DescribeInstancesCommand({ InstanceIds: [x.instance] }));
    const inst = out.Reservations?.[0]?.Instances?.[0];
    const [type] = (await x.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [inst?.InstanceType as never] }))).InstanceTypes ?? [];
    expect(doc).toMatchObject({
      accountId: out.Reservations?.[0]?.OwnerId,
      architecture: type?.ProcessorInfo?.SupportedArchitectures?.[0],
      availabilityZone: inst?.Placement?.AvailabilityZone,
      imageId: inst?.ImageId,
      instanceId: x.instance,
      instanceType: inst?.InstanceType,
      privateIp: inst?.PrivateIpAddress,
      region: REGION,
      version: '2017-09-30',
      pendingTime: inst?.LaunchTime?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    expect((await imds(base, 'dynamic/instance-identity/')).body).toBe('document');
  });

  it('placement/availability-zone-id, placement/region, hostname and local-hostname', async () => {
    h = await startHarness();
    const x = h;
    const base = await x.emu.startImdsListener(x.instance, { port: 0 });
    const inst = (await x.ec2.send(new DescribeInstancesCommand({ InstanceIds: [x.instance] }))).Reservations?.[0]?.Instances?.[0];
    const zones = (await x.ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: [inst?.Placement?.AvailabilityZone as string] }))).AvailabilityZones ?? [];
    expect((await imds(base, 'meta-data/placement/availability-zone-id')).body).toBe(zones[0]?.ZoneId);
    expect((await imds(base, 'meta-data/placement/region')).body).toBe(REGION);
    expect((await imds(base, 'meta-data/hostname')).body).toBe(inst?.PrivateDnsName);
    expect((await imds(base, 'meta-data/local-hostname')).body).toBe(inst?.PrivateDnsName);
    expect((await imds(base, 'meta-data/placement/')).body.split('\n')).toEqual(['availability-zone', 'availability-zone-id', 'region']);
    const top = (await imds(base, 'meta-data/')).body.split('\n');
    for (const k of ['ami-id', 'hostname', 'local-hostname', 'instance-id', 'placement/']) expect(top).toContain(k);
  });
});
