// `vpcnet emulator <cloud> [options]`: runs that cloud's emulator in the foreground until
// SIGINT/SIGTERM. The options are the cloud's own (providers/<cloud>/emulator/standalone.ts,
// found through providers/registry.ts). Clouds still to come are named in PLANNED so that a
// user asking for one hears "not available yet" rather than "unknown".
import { PROVIDER_NAMES } from '../config/schema.ts';
import { CLOUDS, availableClouds, isAvailableCloud } from '../../providers/registry.ts';
import { helpText, parseCommand, usageError, type CommandSpec } from '../util/cli-args.ts';

const PLANNED: string[] = PROVIDER_NAMES.filter((n) => !isAvailableCloud(n));

const emulatorSpec: CommandSpec = {
  name: 'vpcnet emulator',
  summary: 'run a cloud emulator in the foreground (until Ctrl-C)',
  args: '<cloud>',
  options: {},
  maxPositionals: 1,
  notes: `Clouds: ${availableClouds().join(', ')}${PLANNED.length ? ` (planned: ${PLANNED.join(', ')})` : ''}. ` +
    'vpcnet emulator <cloud> --help for its options.',
};

export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const [cloud, ...rest] = argv;
  const available = `available: ${availableClouds().join(', ')}`;
  if (cloud === 'help') return console.log(helpText(emulatorSpec));
  if (cloud === undefined || cloud.startsWith('-')) {
    const parsed = parseCommand(emulatorSpec, argv);
    if (parsed === 'help') return console.log(helpText(emulatorSpec));
    throw usageError(emulatorSpec, `which cloud? (${available})`);
  }
  if (!isAvailableCloud(cloud)) {
    if (PLANNED.includes(cloud)) throw usageError(emulatorSpec, `the ${cloud} emulator is not available yet (${available})`);
    throw usageError(emulatorSpec, `unknown cloud "${cloud}" (${available})`);
  }
  await (await CLOUDS[cloud].standaloneEmulator()).runStandaloneEmulator(rest);
}
