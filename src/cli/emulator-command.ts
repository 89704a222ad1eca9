// `vpcnet emulator <cloud> [options]`: runs that cloud's emulator in the foreground until
// SIGINT/SIGTERM. The options are the cloud's own (providers/<cloud>/emulator/standalone.ts,
// found through providers/registry.ts); `vpcnet emulator aws --help`-style flags live there.
import { CLOUDS, availableClouds, isAvailableCloud } from '../../providers/registry.ts';
import { VpcnetError } from '../errors.ts';

export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const [cloud, ...rest] = argv;
  if (cloud === undefined || !isAvailableCloud(cloud)) {
    throw new VpcnetError('CONFIG_INVALID', `unknown emulator "${cloud ?? ''}" (available: ${availableClouds().join(', ')})`);
  }
  await (await CLOUDS[cloud].standaloneEmulator()).runStandaloneEmulator(rest);
}
