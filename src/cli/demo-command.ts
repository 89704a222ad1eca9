// `vpcnet demo`: the simulated-VPC demo. Needs root (it makes network namespaces); it never
// touches the host's own network namespace.
import { parseArgs } from 'node:util';
import { runDemo } from '../demo/demo.ts';

export async function runDemoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string' }, pods: { type: 'string' }, 'instance-type': { type: 'string' }, cloud: { type: 'string' } },
    strict: true,
  });
  if (process.getuid?.() !== 0) {
    console.error(
      'vpcnet demo needs root: it creates network namespaces, veth links, routes and nftables rules\n' +
        '(all inside its own namespaces; the host network is left alone). Run it as root, e.g. sudo npm run demo',
    );
    process.exit(1);
  }
  if (values.cloud !== undefined && values.cloud !== 'aws' && values.cloud !== 'azure') {
    console.error(`vpcnet demo: --cloud must be aws or azure (got ${values.cloud})`);
    process.exit(2);
  }
  const ac = new AbortController();
  const onSignal = (): void => {
    console.log('\ninterrupted: cleaning up (agents, namespaces, emulator)...');
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ok = await runDemo({
      signal: ac.signal,
      ...(values.nodes ? { nodes: Number(values.nodes) } : {}),
      ...(values.pods ? { podsPerNode: Number(values.pods) } : {}),
      ...(values['instance-type'] ? { instanceType: values['instance-type'] } : {}),
      ...(values.cloud === 'azure' ? { cloud: 'azure' as const } : {}),
    });
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
