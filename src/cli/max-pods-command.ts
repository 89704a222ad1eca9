// `vpcnet max-pods`: how many pods fit on a node of a given type, from the project's limits
// tables (no cloud call). Each cloud brings its options and formula (providers/<cloud>/
// max-pods-cli.ts, through the registry); the option given picks the cloud. stdout's last line
// is the number alone, as AWS's max-pods calculator prints it; the reasoning goes to stderr,
// so `$(vpcnet max-pods ...)` is just the number.
import { CLOUDS, availableClouds, type MaxPodsModule } from '../../providers/registry.ts';
import { isVpcnetError } from '../errors.ts';
import { helpText, parseCommand, usageError, type CommandSpec } from '../util/cli-args.ts';

async function loadClouds(): Promise<MaxPodsModule[]> {
  return Promise.all(availableClouds().map((c) => CLOUDS[c].maxPods()));
}

function specOf(clouds: MaxPodsModule[]): CommandSpec {
  return {
    name: 'vpcnet max-pods',
    summary: 'pods a node can run, by instance type (AWS), VM size (Azure) or pod range (GCE)',
    options: Object.assign({}, ...clouds.map((c) => c.options)) as CommandSpec['options'],
    notes: 'Give one of ' + clouds.map((c) => `--${c.selector}`).join(', ') + '. The number alone is the last line of stdout;\n' +
      "the reasoning goes to stderr. AWS follows the rules of AWS's max-pods-calculator.sh (no\n--cni-version needed): see docs/providers/aws.md.",
  };
}

export async function runMaxPodsCommand(argv: string[]): Promise<void> {
  const clouds = await loadClouds();
  const spec = specOf(clouds);
  const parsed = parseCommand(spec, argv);
  if (parsed === 'help') return console.log(helpText(spec));
  const chosen = clouds.filter((c) => parsed.values[c.selector] !== undefined);
  if (chosen.length !== 1) {
    const names = (chosen.length ? chosen : clouds).map((c) => `--${c.selector}`).join(', ');
    throw usageError(spec, chosen.length ? `give only one of ${names}` : `which node? give ${names}`);
  }
  const cloud = chosen[0]!;
  const stray = Object.keys(parsed.values).find((k) => !Object.hasOwn(cloud.options, k));
  if (stray) throw usageError(spec, `--${stray} does not apply with --${cloud.selector}`);
  try {
    const { maxPods, why } = cloud.maxPods(parsed.values);
    console.error(why);
    console.log(String(maxPods));
  } catch (err) {
    if (isVpcnetError(err, 'USAGE') || isVpcnetError(err, 'UNKNOWN_INSTANCE_TYPE')) throw usageError(spec, err.message, err);
    throw err;
  }
}
