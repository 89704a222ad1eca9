// `vpcnet emulator aws [options]`: the EC2 + IMDSv2 emulator in the foreground until
// SIGINT/SIGTERM (registry entry `standaloneEmulator`; src/cli/emulator-command.ts finds it
// through providers/registry.ts). A user's mistake is a USAGE error: one line, exit 2.
import { pino } from 'pino';
import { intValue, numberValue, stringValue, usageError, type CommandSpec, type Parsed } from '../../../src/util/cli-args.ts';
import { applyOrExplain, listenOrExplain, readScenarioFile, standaloneCommand, untilStopped } from '../../kit/emulator/standalone.ts';
import { AwsEmulator } from './index.ts';
import { defaultScenario, parseScenario, type ScenarioResult } from './scenario.ts';

export const awsSpec: CommandSpec = {
  name: 'vpcnet emulator aws',
  summary: 'the EC2 Query API + IMDSv2 emulator, for integration tests',
  options: {
    port: { type: 'string', value: 'N', description: 'port to listen on (0: pick a free one)', default: '8999' },
    host: { type: 'string', value: 'H', description: 'address to listen on', default: '127.0.0.1' },
    scenario: { type: 'string', value: 'FILE', description: 'JSON scenario: VPCs, subnets, instances (default: a default VPC and a few instances)' },
    region: { type: 'string', value: 'R', description: "region in AZs, DNS names and ARNs (default: the scenario's, else us-west-2)" },
    speed: { type: 'string', value: 'X', description: 'emulated time runs X times faster (refill, latency, lags, delays)', default: '1' },
    seed: { type: 'string', value: 'N', description: 'seeds ids, MACs and random picks', default: '1' },
    'imds-lag-ms': { type: 'string', value: 'N', description: 'metadata shows an instance as it was N ms ago', default: '0' },
    'describe-lag-ms': { type: 'string', value: 'N', description: 'a new ENI is invisible to DescribeNetworkInterfaces for N ms', default: '0' },
    'attach-delay-ms': { type: 'string', value: 'N', description: 'an attach takes N ms', default: '0' },
    'detach-delay-ms': { type: 'string', value: 'N', description: 'a detach takes N ms', default: '0' },
    'max-enis': { type: 'string', value: 'N', description: "the account's ENI quota", default: '5000' },
    'no-throttling': { type: 'boolean', description: 'turn the EC2 token buckets off' },
  },
  notes: 'Clients, the admin API (faults, throttling) and what is modelled: docs/providers/aws-emulator.md',
};

async function runAws(p: Parsed): Promise<void> {
  const spec = awsSpec;
  const port = intValue(spec, p, 'port', { min: 0, max: 65535 }, 8999);
  const host = stringValue(p, 'host') ?? '127.0.0.1';
  const file = stringValue(p, 'scenario');
  const scenario = file ? readScenarioFile(spec, file, parseScenario) : undefined;
  const region = stringValue(p, 'region') ?? scenario?.region ?? 'us-west-2';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw usageError(spec, `--region must look like us-west-2, got "${region}"`);
  const emu = new AwsEmulator({
    region,
    speed: numberValue(spec, p, 'speed', 0, 1, true),
    seed: intValue(spec, p, 'seed', { min: 0, max: 2 ** 31 - 1 }, 1),
    imdsLagMs: numberValue(spec, p, 'imds-lag-ms', 0, 0),
    detachDelayMs: numberValue(spec, p, 'detach-delay-ms', 0, 0),
    attachDelayMs: numberValue(spec, p, 'attach-delay-ms', 0, 0),
    describeLagMs: numberValue(spec, p, 'describe-lag-ms', 0, 0),
    maxEnis: intValue(spec, p, 'max-enis', { min: 1, max: 1_000_000 }, 5000),
    throttling: p.values['no-throttling'] !== true,
    // The endpoint lines below say what 'listening' would; problems (5xx) still show.
    logger: pino({ level: 'warn' }),
  });
  const result = applyOrExplain(spec, file, () => emu.applyScenario(scenario ?? defaultScenario(region)));
  const endpoint = await listenOrExplain(spec, host, port, () => emu.start({ port, host }));
  console.log(`EC2 endpoint:  ${endpoint}   (region ${region}; any credentials work)`);
  console.log(`Admin API:     ${endpoint}/_emulator/state`);
  console.log(`IMDS:          ${endpoint}/imds/<instance-id>/latest/meta-data/`);
  console.log(scenario ? `Scenario ${file}:` : 'Default account (no --scenario):');
  for (const line of describeAccount(emu, result)) console.log(`  ${line}`);
  await untilStopped();
  await emu.stop();
}

/** What the account holds, one line per VPC, subnet and instance. */
function describeAccount(emu: AwsEmulator, result: ScenarioResult): string[] {
  const lines: string[] = [];
  for (const vpcId of result.vpcIds) {
    const vpc = emu.state.vpcOf(vpcId);
    lines.push(`${vpcId}  ${vpc?.cidrs.join(', ') ?? ''}${vpc?.isDefault ? '  (default VPC)' : ''}`);
  }
  for (const subnetId of result.subnetIds) {
    const s = emu.state.subnetById(subnetId);
    if (s) lines.push(`  ${s.id}  ${s.cidr.padEnd(18)} ${s.az} (${s.azId})${s.defaultForAz ? '  default for AZ' : ''}`);
  }
  for (const id of result.instanceIds) {
    const v = emu.instanceView(id);
    if (v) lines.push(`${id}  ${v.instanceType.padEnd(11)} ${v.az}  ${v.enis[0]?.primaryIp ?? ''}  ${emu.imdsEndpoint(id)}`);
  }
  return lines;
}

export const runStandaloneEmulator = standaloneCommand(awsSpec, runAws);
