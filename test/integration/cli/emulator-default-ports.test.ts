// The three emulators run side by side with no flags: each default port (API and metadata
// server) is its own, so `vpcnet emulator aws`, `... azure` and `... gcp` started together all
// come up and all answer. Uses the fixed default ports (8996-8999 on 127.0.0.1).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

interface Running {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

const running: Running[] = [];
afterAll(() => {
  for (const r of running) r.child.kill('SIGKILL');
});

/** Starts `vpcnet emulator <cloud>` with no flags; resolves once stdout matches `ready`. */
function start(cloud: string, ready: RegExp): Promise<Running> {
  const child = spawn(NODE, [MAIN, 'emulator', cloud], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const r: Running = { child, stdout: () => out, exited };
  running.push(r);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(r);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then((code) => reject(new Error(`vpcnet emulator ${cloud} exited (${code}) before it was up: ${err.trim()}`)));
  });
}

function get(url: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<number> {
  return fetch(url, { headers, signal: AbortSignal.timeout(10_000), ...init }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });
}

/** HTTPS with the emulator's own CA (Node's fetch takes no per-request CA). */
function getTls(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('the three emulators side by side, no flags', () => {
  it('all come up at once on distinct default ports and all answer, API and metadata', async () => {
    const [aws, azure, gcp] = await Promise.all([
      start('aws', /EC2 endpoint:[\s\S]*m7g\.large.*\n/),
      start('azure', /VMs \(IMDS per VM\):[\s\S]*NIC .*\n/),
      start('gcp', /Instance: .*router-c.*\n/),
    ]);

    const awsApi = /EC2 endpoint: +(\S+)/.exec(aws.stdout())![1]!;
    const awsImds = /^ {2}i-\w+ .* (http:\/\/\S+\/imds\/i-\w+)$/m.exec(aws.stdout())![1]!;
    const azureApi = /ARM endpoint: +(\S+)/.exec(azure.stdout())![1]!;
    const azureCa = /CA: (\S+ca\.pem)/.exec(azure.stdout())![1]!;
    const azureImds = /IMDS (http:\/\/\S+)/.exec(azure.stdout())![1]!;
    const gcpApi = /Compute API: +(http:\/\/[^/\s]+)/.exec(gcp.stdout())![1]!;
    const gcpMeta = /metadata: (http:\/\/\S+)/.exec(gcp.stdout())![1]!;
    const ports = [awsApi, azureApi, azureImds, gcpApi].map((u) => new URL(u).port);
    expect(new Set(ports).size).toBe(4);
    expect(ports.every((p) => Number(p) > 0)).toBe(true);

    expect(await get(`${awsApi}/_emulator/state`)).toBe(200);
    expect(await get(`${awsImds}/latest/api/token`, { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, { method: 'PUT' })).toBe(200);
    expect(await getTls(`${azureApi}/_emulator/state`, readFileSync(azureCa, 'utf8'))).toBe(200);
    expect(await get(azureImds, { Metadata: 'true' })).toBe(200);
    expect(await get(`${gcpApi}/_emulator/state`)).toBe(200);
    expect(await get(`${gcpMeta}instance/id`, { 'Metadata-Flavor': 'Google' })).toBe(200);

    for (const r of [aws, azure, gcp]) r.child.kill('SIGINT');
    expect(await Promise.all([aws.exited, azure.exited, gcp.exited])).toEqual([0, 0, 0]);
  }, 90_000);
});
