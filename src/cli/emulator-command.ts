// `vpcnet emulator <cloud> [options]`: runs that cloud's emulator in the foreground until
// SIGINT/SIGTERM. The options are the cloud's own (providers/<cloud>/emulator/standalone.ts,
// found through providers/registry.ts); `vpcnet emulator aws --help`-style flags live there.
import { CLOUDS, availableClouds, isAvailableCloud } from '../../providers/registry.ts';
import { isVpcnetError } from '../errors.ts';

export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const [cloud, ...rest] = argv;
  if (cloud === undefined || !isAvailableCloud(cloud)) {
    console.error(`vpcnet emulator: unknown emulator "${cloud ?? ''}" (available: ${availableClouds().join(', ')})`);
    process.exit(2);
  }
  try {
    await (await CLOUDS[cloud].standaloneEmulator()).runStandaloneEmulator(rest);
  } catch (err) {
    // A bad option or scenario is the user's mistake: one line, exit 2.
    if (!isVpcnetError(err) && !(err instanceof TypeError && 'code' in err)) throw err;
    console.error(`vpcnet emulator ${cloud}: ${err.message}`);
    process.exit(2);
  }
}
