// `vpcnet emulator gcp [--port N] [--host H] [--scenario file.json] [--speed X] [--seed N]
//  [--operation-delay-ms N] [--alias-ranges-per-nic N] [--auth issued|any|none] [--no-throttling]`
// Runs the Compute + metadata emulator in the foreground until SIGINT/SIGTERM (registry entry
// `standaloneEmulator`). Without --scenario it starts DEFAULT_SCENARIO and prints it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { DEFAULT_SCENARIO, GcpEmulator, parseScenario, stateSnapshot } from './index.ts';

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
      port: { type: 'string', default: '8998' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      'operation-delay-ms': { type: 'string' },
      'alias-ranges-per-nic': { type: 'string' },
      auth: { type: 'string', default: 'any' },
      'no-throttling': { type: 'boolean', default: false },
    },
  });
  let raw: unknown = DEFAULT_SCENARIO;
  if (values.scenario) {
    try {
      raw = JSON.parse(readFileSync(values.scenario, 'utf8')) as unknown;
    } catch (cause) {
      throw new VpcnetError('CONFIG_INVALID', `cannot read scenario ${values.scenario}: ${(cause as Error).message}`, { cause });
    }
  }
  const scenario = parseScenario(raw);
  const auth = values.auth;
  if (auth !== 'issued' && auth !== 'any' && auth !== 'none') throw new VpcnetError('CONFIG_INVALID', '--auth must be issued, any or none');
  const emu = new GcpEmulator({
    ...(scenario.project ? { project: scenario.project } : {}),
    ...(scenario.projectNumber ? { projectNumber: scenario.projectNumber } : {}),
    speed: numberOption('speed', values.speed, 1) || 1,
    seed: numberOption('seed', values.seed, 1),
    operationDelayMs: numberOption('operation-delay-ms', values['operation-delay-ms'], 300),
    aliasRangesPerNic: numberOption('alias-ranges-per-nic', values['alias-ranges-per-nic'], 10),
    auth,
    throttling: !values['no-throttling'],
    logger: pino({ level: 'info' }),
  });
  emu.applyScenario(scenario);
  const endpoint = await emu.start({ port: numberOption('port', values.port, 8998), host: values.host });
  const snap = stateSnapshot(emu) as { project: string; subnets: { name: string; region: string; ipCidrRange: string; secondaryIpRanges: { rangeName: string; ipCidrRange: string }[] }[]; instances: { name: string; zone: string; canIpForward: boolean; nics: { networkIP: string }[] }[] };
  console.log(`Compute API:   ${endpoint}/compute/v1/projects/${snap.project}/...   (apiEndpoint ${new URL(endpoint).hostname}, port ${new URL(endpoint).port}, protocol http)`);
  console.log(`Admin API:     ${endpoint}/_emulator/state`);
  console.log(`Project:       ${snap.project}`);
  for (const s of snap.subnets) {
    console.log(`Subnetwork:    ${s.region}/${s.name} ${s.ipCidrRange}  secondary: ${s.secondaryIpRanges.map((r) => `${r.rangeName}=${r.ipCidrRange}`).join(' ') || 'none'}`);
  }
  for (const i of snap.instances) {
    console.log(`Instance:      ${i.zone}/${i.name} ${i.nics[0]?.networkIP ?? ''}${i.canIpForward ? ' canIpForward' : ''}  metadata: ${emu.metadataEndpoint(i.zone, i.name)}/computeMetadata/v1/`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emu.stop();
}
