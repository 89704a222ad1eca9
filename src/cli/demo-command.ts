// `vpcnet demo`: the simulated-VPC demo. Needs root (it makes network namespaces); it never
// touches the host's own network namespace. Options are checked before anything starts.
import { CLOUDS } from '../../providers/registry.ts';
import { DEMO_CLOUDS, DEMO_DEFAULTS, defaultInstanceType, demoOptionsProblem, LAB_PREFIX, MAX_DEMO_NODES, type DemoCloud } from '../demo/demo-options.ts';
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
    keep: { type: 'boolean', description: 'leave the lab, emulator and agents up after the checks and print how to use them (vpcnet status, the CNI executable, cnitool, podman); stop with Ctrl-C or --down' },
    down: { type: 'boolean', description: 'stop a lab left up by --keep (every one, or the one named by --prefix), from another shell' },
    prefix: { type: 'string', value: 'P', description: 'name prefix of the lab namespaces: 3 to 10 lowercase letters and digits', default: 'vpdemo + 4 random hex digits' },
  },
  notes:
    "Everything runs in the demo's own network namespaces and is removed at the end, also on Ctrl-C. " +
    'With --keep the end comes when you stop it. Recipes: docs/runtimes.md ("Try it on the demo lab").',
};

export async function runDemoCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(demoSpec, argv);
  if (parsed === 'help') return console.log(helpText(demoSpec));
  const prefix = stringValue(parsed, 'prefix');
  if (prefix !== undefined && !LAB_PREFIX.test(prefix)) throw usageError(demoSpec, `--prefix must be 3 to 10 lowercase letters and digits, starting with a letter, got "${prefix}"`);
  const keep = parsed.values.keep === true;
  if (parsed.values.down === true) {
    if (keep) throw usageError(demoSpec, '--keep and --down do not go together');
    requireRoot();
    return downCommand(prefix);
  }
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
  requireRoot();
  const { readKeptLabs } = await import('../demo/kept-lab.ts');
  if (prefix !== undefined && readKeptLabs().some((l) => l.prefix === prefix)) {
    throw usageError(demoSpec, `a lab with --prefix ${prefix} is kept already (vpcnet demo --down --prefix ${prefix} stops it)`);
  }
  // Loaded only now: the demo pulls in the agent, the lab and the emulator.
  const { DemoInterrupted, runDemo } = await import('../demo/demo.ts');
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      if (!keep) console.log('\ninterrupted: cleaning up (agents, namespaces, emulator)...');
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
    const ok = await runDemo({ signal: ac.signal, ...options, keep, ...(prefix ? { prefix } : {}) });
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

function requireRoot(): void {
  if (process.getuid?.() === 0) return;
  console.error(
    'vpcnet demo needs root: it creates network namespaces, veth links, routes and nftables rules\n' +
      '(all inside its own namespaces; the host network is left alone). Run it as root, e.g. sudo npm run demo',
  );
  process.exit(1);
}

/** `vpcnet demo --down [--prefix P]`: stops kept labs; nothing kept is not an error. */
async function downCommand(prefix: string | undefined): Promise<void> {
  // Loaded only now: the lab brings the netlink binding.
  const { downKeptLab, readKeptLabs } = await import('../demo/kept-lab.ts');
  const { Lab } = await import('../lab/lab.ts');
  const labs = readKeptLabs().filter((l) => prefix === undefined || l.prefix === prefix);
  if (labs.length === 0) {
    // A lab whose state file is gone may still have namespaces: remove them by prefix.
    const gone = prefix ? Lab.cleanupStale(prefix) : [];
    console.log(gone.length ? `no kept demo lab ${prefix}; removed its namespaces ${gone.join(' ')}` : `no kept demo lab${prefix ? ` with prefix ${prefix}` : ''}`);
    return;
  }
  for (const lab of labs) {
    const r = await downKeptLab(lab);
    const how = r.stopped ? 'stopped (pods deleted, agents and emulator stopped, namespaces removed)' : 'its demo process was gone';
    console.log(`demo lab ${r.prefix}: ${how}${r.leftovers.length ? `; removed leftover namespaces ${r.leftovers.join(' ')}` : ''}`);
  }
}
