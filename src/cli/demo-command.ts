// `vpcnet demo`: the simulated-VPC demo. Needs root (it makes network namespaces); it never
// touches the host's own network namespace. Options are checked before anything starts.
import { CLOUDS } from '../../providers/registry.ts';
import { DEMO_CLOUDS, DEMO_DEFAULTS, defaultInstanceType, demoOptionsProblem, MAX_DEMO_NODES, type DemoCloud } from '../demo/demo-options.ts';
import { isVpcnetError } from '../errors.ts';
import { helpText, intValue, parseCommand, stringValue, usageError, type CommandSpec } from '../util/cli-args.ts';

export const demoSpec: CommandSpec = {
  name: 'vpcnet demo',
  summary: 'the simulated-VPC demo (root): a cloud emulator, lab namespaces, one agent per node, pods, connectivity',
  options: {
    cloud: { type: 'string', value: 'C', description: `simulated cloud: ${DEMO_CLOUDS.join(', ')}`, default: DEMO_DEFAULTS.cloud },
    nodes: { type: 'string', value: 'N', description: `simulated nodes, 1 to ${MAX_DEMO_NODES}`, default: String(DEMO_DEFAULTS.nodes) },
    pods: { type: 'string', value: 'N', description: 'pods per node (at most what one instance of the type holds)', default: String(DEMO_DEFAULTS.podsPerNode) },
    'instance-type': { type: 'string', value: 'T', description: 'instance (machine) type of the nodes: sets their NIC and address limits', default: `${DEMO_DEFAULTS.instanceType} (azure: ${defaultInstanceType('azure')}, gcp: ${defaultInstanceType('gcp')})` },
  },
  notes: "Everything runs in the demo's own network namespaces and is removed at the end, also on Ctrl-C.",
};

export async function runDemoCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(demoSpec, argv);
  if (parsed === 'help') return console.log(helpText(demoSpec));
  const cloud = stringValue(parsed, 'cloud') ?? DEMO_DEFAULTS.cloud;
  if (!(DEMO_CLOUDS as readonly string[]).includes(cloud)) throw usageError(demoSpec, `unknown --cloud "${cloud}" (${DEMO_CLOUDS.join(', ')})`);
  const options = {
    cloud: cloud as DemoCloud,
    nodes: intValue(demoSpec, parsed, 'nodes', { min: 1, max: MAX_DEMO_NODES }, DEMO_DEFAULTS.nodes),
    podsPerNode: intValue(demoSpec, parsed, 'pods', { min: 1, max: 100_000 }, DEMO_DEFAULTS.podsPerNode),
    instanceType: stringValue(parsed, 'instance-type') ?? defaultInstanceType(cloud as DemoCloud),
  };
  const problem = demoOptionsProblem(options, (await CLOUDS[options.cloud].lab()).demoNodeShapes);
  if (problem) throw usageError(demoSpec, problem);
  if (process.getuid?.() !== 0) {
    console.error(
      'vpcnet demo needs root: it creates network namespaces, veth links, routes and nftables rules\n' +
        '(all inside its own namespaces; the host network is left alone). Run it as root, e.g. sudo npm run demo',
    );
    process.exit(1);
  }
  // Loaded only now: the demo pulls in the agent, the lab and the emulator.
  const { DemoInterrupted, runDemo } = await import('../demo/demo.ts');
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      console.log('\ninterrupted: cleaning up (agents, namespaces, emulator)...');
      ac.abort();
    } else if (signals === 2) {
      console.log('still cleaning up; Ctrl-C once more to quit now (lab namespaces may then be left behind)');
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ok = await runDemo({ signal: ac.signal, ...options });
    process.exit(ok ? 0 : 1);
  } catch (err) {
    if (err instanceof DemoInterrupted) {
      console.log('demo interrupted; everything it made is removed');
      process.exit(130);
    }
    if (isVpcnetError(err, 'USAGE')) throw usageError(demoSpec, err.message, err);
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
