// `vpcnet emulator aws [--port N] [--host H] [--scenario file.json] [--speed X] [--seed N]
//  [--region R] [--imds-lag-ms N] [--attach-delay-ms N] [--detach-delay-ms N]
//  [--describe-lag-ms N]
//  [--max-enis N] [--no-throttling]`
// Runs the EC2 + IMDSv2 emulator in the foreground until SIGINT/SIGTERM (registry entry
// `standaloneEmulator`; src/cli/emulator-command.ts finds it through providers/registry.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { AwsEmulator } from './index.ts';
import { parseScenario } from './scenario.ts';

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new VpcnetError('CONFIG_INVALID', `--${name} must be a non-negative number`);
  return n;
}

export async function runStandaloneEmulator(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8999' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      region: { type: 'string' },
      'imds-lag-ms': { type: 'string' },
      'detach-delay-ms': { type: 'string' },
      'attach-delay-ms': { type: 'string' },
      'describe-lag-ms': { type: 'string' },
      'max-enis': { type: 'string' },
      'no-throttling': { type: 'boolean', default: false },
    },
  });
  const scenario = values.scenario ? parseScenario(JSON.parse(readFileSync(values.scenario, 'utf8')) as unknown) : undefined;
  const emu = new AwsEmulator({
    region: values.region ?? scenario?.region ?? 'us-west-2',
    speed: numberOption('speed', values.speed, 1) || 1,
    seed: numberOption('seed', values.seed, 1),
    imdsLagMs: numberOption('imds-lag-ms', values['imds-lag-ms'], 0),
    detachDelayMs: numberOption('detach-delay-ms', values['detach-delay-ms'], 0),
    attachDelayMs: numberOption('attach-delay-ms', values['attach-delay-ms'], 0),
    describeLagMs: numberOption('describe-lag-ms', values['describe-lag-ms'], 0),
    maxEnis: numberOption('max-enis', values['max-enis'], 5000),
    throttling: !values['no-throttling'],
    logger: pino({ level: 'info' }),
  });
  const result = scenario ? emu.applyScenario(scenario) : undefined;
  const endpoint = await emu.start({ port: numberOption('port', values.port, 8999), host: values.host });
  console.log(`EC2 endpoint:  ${endpoint}`);
  console.log(`Admin API:     ${endpoint}/_emulator/state`);
  console.log(`IMDS:          ${endpoint}/imds/<instance-id>/latest/meta-data/`);
  for (const id of result?.instanceIds ?? []) console.log(`  ${id}  ${emu.imdsEndpoint(id)}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emu.stop();
}
