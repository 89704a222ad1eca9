// `vpcnet emulator gcp [options]`: the Compute + metadata emulator in the foreground until
// SIGINT/SIGTERM (registry entry `standaloneEmulator`). Without --scenario it starts
// DEFAULT_SCENARIO and prints it. A user's mistake is a USAGE error: one line, exit 2.
import { pino } from 'pino';
import { intValue, numberValue, stringValue, usageError, type CommandSpec, type Parsed } from '../../../src/util/cli-args.ts';
import { applyOrExplain, listenOrExplain, readScenarioFile, standaloneCommand, untilStopped } from '../../kit/emulator/standalone.ts';
import { DEFAULT_SCENARIO, GcpEmulator, parseScenario, stateSnapshot } from './index.ts';

const AUTH_MODES = ['issued', 'any', 'none'] as const;

export const gcpSpec: CommandSpec = {
  name: 'vpcnet emulator gcp',
  summary: 'the Compute Engine v1 + metadata server emulator, for integration tests',
  options: {
    port: { type: 'string', value: 'N', description: 'port to listen on, metadata server included (0: pick a free one)', default: '8997' },
    host: { type: 'string', value: 'H', description: 'address to listen on', default: '127.0.0.1' },
    scenario: { type: 'string', value: 'FILE', description: 'JSON scenario: project, subnetworks, instances (default: a small project)' },
    speed: { type: 'string', value: 'X', description: 'emulated time runs X times faster (quota minutes, operations)', default: '1' },
    seed: { type: 'string', value: 'N', description: 'seeds ids and random picks', default: '1' },
    'operation-delay-ms': { type: 'string', value: 'N', description: 'an operation is DONE after N ms', default: '300' },
    'alias-ranges-per-nic': { type: 'string', value: 'N', description: 'alias IP ranges one NIC may hold', default: '10' },
    auth: { type: 'string', value: 'MODE', description: 'bearer tokens: issued (by the metadata server only), any, none', default: 'any' },
    'no-throttling': { type: 'boolean', description: 'turn the per-minute rate quotas off' },
  },
  notes: 'Clients, the admin API and what is modelled: docs/providers/gcp-emulator.md',
};

async function runGcp(p: Parsed): Promise<void> {
  const spec = gcpSpec;
  const port = intValue(spec, p, 'port', { min: 0, max: 65535 }, 8997);
  const host = stringValue(p, 'host') ?? '127.0.0.1';
  const file = stringValue(p, 'scenario');
  const scenario = file ? readScenarioFile(spec, file, parseScenario) : parseScenario(DEFAULT_SCENARIO);
  const auth = stringValue(p, 'auth') ?? 'any';
  if (!(AUTH_MODES as readonly string[]).includes(auth)) throw usageError(spec, `--auth must be ${AUTH_MODES.join(', ')}, got "${auth}"`);
  const emu = new GcpEmulator({
    ...(scenario.project ? { project: scenario.project } : {}),
    ...(scenario.projectNumber ? { projectNumber: scenario.projectNumber } : {}),
    speed: numberValue(spec, p, 'speed', 0, 1, true),
    seed: intValue(spec, p, 'seed', { min: 0, max: 2 ** 31 - 1 }, 1),
    operationDelayMs: numberValue(spec, p, 'operation-delay-ms', 0, 300),
    aliasRangesPerNic: intValue(spec, p, 'alias-ranges-per-nic', { min: 1, max: 1000 }, 10),
    auth: auth as (typeof AUTH_MODES)[number],
    throttling: p.values['no-throttling'] !== true,
    logger: pino({ level: 'warn' }),
  });
  applyOrExplain(spec, file, () => emu.applyScenario(scenario));
  const endpoint = await listenOrExplain(spec, host, port, () => emu.start({ port, host }));
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
  await untilStopped();
  await emu.stop();
}

export const runStandaloneEmulator = standaloneCommand(gcpSpec, runGcp);
