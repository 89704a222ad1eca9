// The admin HTTP API and the standalone `vpcnet emulator aws` command.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssignPrivateIpAddressesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ChangeEvent, EniView, InstanceView } from '../../../providers/aws/emulator/index.ts';
import { REGION, startHarness, stopHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await stopHarness(h);
  h = undefined;
});

async function admin<T>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}/_emulator/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as T };
}

describe('admin API', () => {
  it('creates and terminates instances and lists every ENI with its addresses', async () => {
    h = await startHarness();
    const base = h.emu.endpoint;
    const created = await admin<InstanceView & { imdsEndpoint: string }>(base, 'POST', 'instances', {
      instanceType: 'c5.large',
      subnetId: h.subnetA,
    });
    expect(created.status).toBe(200);
    expect(created.json.enis[0]?.deviceIndex).toBe(0);
    expect(created.json.imdsEndpoint).toBe(`${base}/imds/${created.json.instanceId}`);
    const eniId = created.json.enis[0]?.eniId as string;
    await h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 1 }));
    const enis = await admin<EniView[]>(base, 'GET', 'enis');
    const mine = enis.json.find((e) => e.eniId === eniId);
    expect(mine).toMatchObject({ instanceId: created.json.instanceId, deviceIndex: 0, subnetId: h.subnetA, status: 'in-use' });
    expect(mine?.prefixes).toHaveLength(1);
    const state = await admin<{ subnets: { id: string; freePrefixes: number }[]; instances: unknown[] }>(base, 'GET', 'state');
    expect(state.json.instances).toHaveLength(3);
    expect(state.json.subnets.find((s) => s.id === h?.subnetA)?.freePrefixes).toBeGreaterThan(0);
    const gone = await admin(base, 'DELETE', `instances/${created.json.instanceId}`);
    expect(gone.status).toBe(200);
    expect((await admin<EniView[]>(base, 'GET', 'enis')).json.find((e) => e.eniId === eniId)).toBeUndefined();
  });

  it('answers bad input with a status and an error code', async () => {
    h = await startHarness();
    const base = h.emu.endpoint;
    const badType = await admin<{ error: string }>(base, 'POST', 'instances', { instanceType: 'q9.tiny', subnetId: h.subnetA });
    expect(badType.status).toBe(400);
    expect(badType.json.error).toBe('InvalidParameterValue');
    const res = await fetch(`${base}/_emulator/scenario`, { method: 'POST', body: '{nope' });
    expect(res.status).toBe(400);
    const badScenario = await admin<{ code: string }>(base, 'POST', 'scenario', { vpcs: [{ cidr: 7 }] });
    expect(badScenario.status).toBe(400);
    expect(badScenario.json.code).toBe('CONFIG_INVALID');
    expect((await admin(base, 'GET', 'nothing-here')).status).toBe(404);
    const badFault = await admin<{ code: string }>(base, 'POST', 'faults', { action: 'X', probability: 3 });
    expect(badFault.status).toBe(400);
    expect(h.emu.faults.list()).toEqual([]);
    const huge = await fetch(base, { method: 'POST', headers: { authorization: 'x' }, body: 'a'.repeat(2 << 20) });
    expect(huge.status).toBe(413);
  });

  it('streams change events', async () => {
    h = await startHarness();
    const ac = new AbortController();
    const res = await fetch(`${h.emu.endpoint}/_emulator/events`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const first = await reader.read(); // the ": version" comment: subscribed
    expect(new TextDecoder().decode(first.value)).toContain('version');
    const eniId = h.emu.instanceView(h.instance)?.enis[0]?.eniId as string;
    await h.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 }));
    const chunk = new TextDecoder().decode((await reader.read()).value);
    const ev = JSON.parse(/data: (.*)/.exec(chunk)?.[1] ?? '{}') as ChangeEvent;
    expect(ev).toMatchObject({ kind: 'addresses-assigned', eniId, instanceId: h.instance });
    ac.abort();
  });

  it('reports calls and applies latency set through the API', async () => {
    h = await startHarness();
    await admin(h.emu.endpoint, 'POST', 'latency', { action: 'DescribeInstances', ms: 20 });
    await h.ec2.send(new DescribeInstancesCommand({}));
    const stats = await admin<{ calls: Record<string, number>; admitted: Record<string, number> }>(h.emu.endpoint, 'GET', 'stats');
    expect(stats.json.calls.DescribeInstances).toBe(1);
    expect(stats.json.admitted.DescribeInstances).toBe(1);
  });
});

describe('vpcnet emulator aws', () => {
  it('runs standalone from a scenario file and prints its endpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpcnet-aws-emu-'));
    try {
      const file = join(dir, 'scenario.json');
      writeFileSync(
        file,
        JSON.stringify({
          region: 'eu-central-1',
          vpcs: [{ cidr: '10.5.0.0/16', subnets: [{ cidr: '10.5.0.0/20', az: 'eu-central-1a' }] }],
          instances: [{ instanceType: 'm5.large', subnet: '10.5.0.0/20', count: 2 }],
        }),
      );
      const root = join(import.meta.dirname, '..', '..', '..');
      const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'emulator', 'aws', '--port', '0', '--scenario', file, '--speed', '10'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const endpoint = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /EC2 endpoint:\s+(\S+)/.exec(out);
          if (m && out.includes('/imds/i-')) resolve(m[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`emulator exited ${code}: ${out}`)));
      });
      const ec2 = new EC2Client({ endpoint, region: REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
      const res = await ec2.send(new DescribeInstancesCommand({}));
      ec2.destroy();
      expect(res.Reservations).toHaveLength(2);
      expect(res.Reservations?.[0]?.Instances?.[0]?.Placement?.AvailabilityZone).toBe('eu-central-1a');
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
