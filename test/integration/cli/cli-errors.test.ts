// The `vpcnet` command as a user meets it: every command has --help, --version works, and a
// user's mistake is one line plus the usage with exit code 2, never a stack trace. Each case
// spawns the real CLI (node src/cli/main.ts) the way a shell would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
// The project's Node 24 (a devDependency) runs the CLI, as `npm run vpcnet` does.
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `untilStdout` ends it with SIGINT once stdout matches (long-running commands). */
function vpcnet(args: string[], opts: { untilStdout?: RegExp; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.untilStdout?.test(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A usage error: exit 2, the first stderr line names the command and the problem, then the usage. */
function expectUsageError(r: Run, command: string, problem: RegExp): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^${command}: `));
  expect(lines[0]).toMatch(problem);
  expect(r.stderr).toMatch(/\nUsage: vpcnet/);
  expect(r.stderr).not.toMatch(/\n\s+at |ERR_PARSE_ARGS|node:internal/);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vc13-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help and version', () => {
  it.each([
    [['--help'], /^vpcnet - VPC-native pod networking/],
    [['help'], /^vpcnet - VPC-native pod networking/],
    [['agent', '--help'], /^vpcnet agent - [\s\S]*--config FILE/],
    [['status', '--help'], /^vpcnet status - [\s\S]*--api HOST:PORT[\s\S]*--json/],
    [['demo', '--help'], /^vpcnet demo - [\s\S]*--nodes N[\s\S]*--pods N[\s\S]*--instance-type T/],
    [['demo', '-h'], /^vpcnet demo - /],
    [['emulator', '--help'], /^vpcnet emulator - [\s\S]*Clouds: aws/],
    [['emulator', 'aws', '--help'], /^vpcnet emulator aws - [\s\S]*--port N[\s\S]*--scenario FILE[\s\S]*--no-throttling/],
    [['emulator', 'azure', '--help'], /^vpcnet emulator azure - [\s\S]*--port N[\s\S]*--imds-port N[\s\S]*--scenario FILE[\s\S]*--no-throttling/],
    [['emulator', 'gcp', '--help'], /^vpcnet emulator gcp - [\s\S]*--port N[\s\S]*--scenario FILE[\s\S]*--auth MODE[\s\S]*--no-throttling/],
    [['help', 'demo'], /^vpcnet demo - /],
  ])('vpcnet %j prints its help and exits 0', async (args, text) => {
    const r = await vpcnet(args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(text);
  });

  it.each([[['--version']], [['version']]])('vpcnet %j prints the package version', async (args) => {
    const r = await vpcnet(args);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^vpcnet \d+\.\d+\.\d+$/);
  });
});

describe('user errors: one line, the usage, exit 2', () => {
  it('an unknown command', async () => {
    expectUsageError(await vpcnet(['frobnicate']), 'vpcnet', /unknown command "frobnicate"/);
  });

  it.each([
    [['agent', '--bogus'], 'vpcnet agent', /unknown option --bogus/],
    [['status', '--verbose'], 'vpcnet status', /unknown option --verbose/],
    [['demo', '--nope'], 'vpcnet demo', /unknown option --nope/],
    [['emulator', 'aws', '--prot', '1'], 'vpcnet emulator aws', /unknown option --prot/],
    [['emulator', 'azure', '--prot', '1'], 'vpcnet emulator azure', /unknown option --prot/],
    [['emulator', 'gcp', '-x'], 'vpcnet emulator gcp', /unknown option -x/],
    [['emulator', 'azure', '--operation-ms', 'soon'], 'vpcnet emulator azure', /--operation-ms must be a number of at least 0, got "soon"/],
    [['emulator', 'gcp', '--auth', 'maybe'], 'vpcnet emulator gcp', /--auth must be issued, any, none, got "maybe"/],
    [['emulator', 'gcp', '--speed', '0'], 'vpcnet emulator gcp', /--speed must be a number above 0/],
  ])('an unknown flag: %j', async (args, command, problem) => {
    expectUsageError(await vpcnet(args), command, problem);
  });

  it.each([
    [['emulator', 'aws', '--port', 'abc'], /--port must be a whole number from 0 to 65535, got "abc"/],
    [['emulator', 'aws', '--port', '70000'], /--port must be a whole number from 0 to 65535/],
    [['emulator', 'aws', '--speed', '0'], /--speed must be a number above 0/],
    [['emulator', 'aws', '--imds-lag-ms', '-5'], /--imds-lag-ms must be a number of at least 0/],
    [['emulator', 'aws', '--port'], /option --port needs a value/],
    [['emulator', 'aws', '--region', 'mars'], /--region must look like us-west-2/],
    [['emulator', 'aws', 'extra'], /unexpected argument "extra"/],
    [['status', '--json=yes'], /option --json takes no value/],
    [['status', '--api', 'nohostport'], /--api must be HOST:PORT/],
  ])('a bad value: %j', async (args, problem) => {
    expectUsageError(await vpcnet(args), `vpcnet ${args[0] === 'status' ? 'status' : 'emulator aws'}`, problem);
  });

  const CLOUDS = ['aws', 'azure', 'gcp'] as const;

  it.each(CLOUDS)('%s: a missing scenario file', async (cloud) => {
    expectUsageError(await vpcnet(['emulator', cloud, '--scenario', join(dir, 'absent.json')]), `vpcnet emulator ${cloud}`, /cannot read scenario file .*absent\.json: no such file/);
  });

  it.each(CLOUDS)('%s: a scenario file that is not JSON', async (cloud) => {
    const file = join(dir, `broken-${cloud}.json`);
    writeFileSync(file, '{ "vpcs": [ ');
    expectUsageError(await vpcnet(['emulator', cloud, '--scenario', file]), `vpcnet emulator ${cloud}`, /scenario file .*broken-\w+\.json is not valid JSON/);
  });

  it.each([
    ['aws', { vpcs: [{ cidr: 10 }] }, /scenario file .*wrong-aws\.json: vpcs\.0\.cidr: /],
    ['azure', { vnets: [{ name: 'v', addressPrefixes: ['10.0.0.0/16'], subnets: [{ name: 's', addressPrefix: '10.0.0.0/24' }] }], vms: [{ name: 5, subnet: 'v/s' }] }, /scenario file .*wrong-azure\.json: vms\.0\.name: /],
    ['gcp', { instances: [{ name: 5, zone: 'us-central1-a', subnet: 's' }] }, /scenario file .*wrong-gcp\.json: instances\.0\.name: /],
  ] as const)('%s: a scenario file with a wrong field names the field', async (cloud, scenario, problem) => {
    const file = join(dir, `wrong-${cloud}.json`);
    writeFileSync(file, JSON.stringify(scenario));
    expectUsageError(await vpcnet(['emulator', cloud, '--scenario', file]), `vpcnet emulator ${cloud}`, problem);
  });

  it.each([
    ['aws', { vpcs: [{ cidr: '10.0.0.0/16', subnets: [{ cidr: '10.0.0.0/20' }] }], instances: [{ instanceType: 'x9.huge', subnet: '10.0.0.0/20' }] }, /x9\.huge/],
    ['azure', { vnets: [{ name: 'v', addressPrefixes: ['10.0.0.0/16'], subnets: [{ name: 's', addressPrefix: '10.0.0.0/24' }] }], vms: [{ name: 'n1', subnet: 'v/nosuch' }] }, /nosuch.* was not found/],
    ['gcp', { subnets: [{ name: 's', region: 'us-central1', ipCidrRange: '10.0.0.0/24' }], instances: [{ name: 'n1', zone: 'us-central1-a', subnet: 'nosuch' }] }, /subnetworks\/nosuch.* was not found/],
  ] as const)('%s: a scenario the cloud would refuse (an unknown type or subnet)', async (cloud, scenario, problem) => {
    const file = join(dir, `refused-${cloud}.json`);
    writeFileSync(file, JSON.stringify(scenario));
    expectUsageError(await vpcnet(['emulator', cloud, '--scenario', file]), `vpcnet emulator ${cloud}`, new RegExp(`scenario file .*refused-${cloud}\\.json: .*${problem.source}`));
  });

  describe('a port in use', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('for the agent, is named before any cloud call', async () => {
      const file = join(dir, 'agent-port.json');
      // An endpoint nothing listens on: the listen check must come first, so it is never contacted.
      writeFileSync(file, JSON.stringify({ apiListen: `127.0.0.1:${port}`, provider: { name: 'aws', apiEndpoint: 'http://127.0.0.1:9', metadataEndpoint: 'http://127.0.0.1:9', region: 'us-west-2' } }));
      const r = await vpcnet(['agent', '--config', file]);
      // The agent's own log lines (JSON, as a DaemonSet's) come first; the user's line follows them.
      expect(r.code).toBe(2);
      const text = r.stderr.split('\n').filter((l) => !l.startsWith('{'));
      expect(text[0]).toMatch(new RegExp(`^vpcnet agent: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
      expect(r.stderr).toMatch(/\nUsage: vpcnet agent/);
      expect(text.join('\n')).not.toMatch(/^\s+at |node:internal/m);
      expect(r.stderr).not.toMatch(/node discovered/);
    });

    it.each(['aws', 'azure', 'gcp'])('%s: is named with a way out', async (cloud) => {
      expectUsageError(await vpcnet(['emulator', cloud, '--port', String(port)]), `vpcnet emulator ${cloud}`, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use .*--port 0`));
    });

    it('azure: a busy IMDS port is named with its own way out', async () => {
      expectUsageError(await vpcnet(['emulator', 'azure', '--port', '0', '--imds-port', String(port)]), 'vpcnet emulator azure', new RegExp(`IMDS port ${port} on 127\\.0\\.0\\.1 is in use .*--imds-port 0`));
    });
  });

  it('an unknown cloud', async () => {
    expectUsageError(await vpcnet(['emulator', 'openstack']), 'vpcnet emulator', /unknown cloud "openstack" \(available: aws, azure, gcp\)/);
  });

  it('no cloud at all', async () => {
    expectUsageError(await vpcnet(['emulator']), 'vpcnet emulator', /which cloud\?/);
  });

  it('a bad agent config file', async () => {
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ logLevel: 'loud' }));
    expectUsageError(await vpcnet(['agent', '--config', file]), 'vpcnet agent', /invalid config: logLevel/);
  });

  it.each([
    [['demo', '--nodes', '0'], /--nodes must be a whole number from 1 to 8/],
    [['demo', '--nodes', 'two'], /--nodes must be a whole number/],
    [['demo', '--pods', '16'], /--pods 16 is more than one t3\.medium holds: 3 NICs x 5 secondary addresses = 15 pods/],
    [['demo', '--pods', '40', '--instance-type', 'm5.large'], /--pods 40 is more than one m5\.large holds: 3 NICs x 9 secondary addresses = 27 pods/],
    [['demo', '--instance-type', 'm5.giant'], /--instance-type m5\.giant is not an EC2 instance type the emulator knows \(m5: /],
    [['demo', '--prefix', 'Lab-1'], /--prefix must be 3 to 10 lowercase letters and digits, starting with a letter, got "Lab-1"/],
    [['demo', '--keep', '--down'], /--keep and --down do not go together/],
  ])('demo options are checked before anything starts: %j', async (args, problem) => {
    // No root needed to hear about a bad option: the check comes first.
    expectUsageError(await vpcnet(args), 'vpcnet demo', problem);
  });
});

describe('the emulator command runs', () => {
  it('without --scenario starts a default account and prints it', async () => {
    const r = await vpcnet(['emulator', 'aws', '--port', '0'], { untilStdout: /Default account[\s\S]*m7g\.large.*\n/ });
    expect(r.stdout).toMatch(/EC2 endpoint: +http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/vpc-\w+ +172\.31\.0\.0\/16 +\(default VPC\)/);
    for (const az of ['us-west-2a (usw2-az1)', 'us-west-2b (usw2-az2)', 'us-west-2c (usw2-az3)']) expect(r.stdout).toContain(az);
    expect(r.stdout.match(/^ {2}i-\w+ +(m5\.large|t3\.medium|m7g\.large) /gm)?.length).toBe(4);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('azure: starts the default cluster and prints the ARM endpoint, its CA and each VM with its IMDS', async () => {
    const r = await vpcnet(['emulator', 'azure', '--port', '0', '--imds-port', '0'], { untilStdout: /VMs \(IMDS per VM\):[\s\S]*NIC .*\n/ });
    expect(r.stdout).toMatch(/ARM endpoint: +https:\/\/127\.0\.0\.1:\d+ +\(HTTPS; CA: \S+ca\.pem\)/);
    expect(r.stdout).toMatch(/IMDS http:\/\/127\.0\.0\.1:\d+\/imds\//);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('gcp: starts the default project and prints each instance with its metadata server', async () => {
    const r = await vpcnet(['emulator', 'gcp', '--port', '0'], { untilStdout: /Instance: .*router-c.*\n/ });
    expect(r.stdout).toMatch(/Compute API: +http:\/\/127\.0\.0\.1:\d+\/compute\/v1\/projects\/vpcnet-demo\//);
    expect(r.stdout).toMatch(/Subnetwork: +us-central1\/nodes 10\.128\.0\.0\/20 +secondary: pods=10\.4\.0\.0\/14/);
    expect(r.stdout.match(/^Instance: .*metadata: http:\/\/127\.0\.0\.1:\d+/gm)?.length).toBe(3);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
