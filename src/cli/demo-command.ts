// `vpcnet demo`: the simulated-VPC demo. Needs root (it makes network namespaces); it never
// touches the host's own network namespace.
import { parseArgs } from 'node:util';
import { runDemo } from '../demo/demo.ts';

export async function runDemoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { cloud: { type: 'string' }, nodes: { type: 'string' }, pods: { type: 'string' }, 'instance-type': { type: 'string' } },
    strict: true,
  });
  const cloud = values.cloud ?? 'aws';
  if (cloud !== 'aws' && cloud !== 'gcp') {
    console.error(`vpcnet demo: unknown --cloud "${cloud}" (aws, gcp)`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    console.error(
      'vpcnet demo needs root: it creates network namespaces, veth links, routes and nftables rules\n' +
        '(all inside its own namespaces; the host network is left alone). Run it as root, e.g. sudo npm run demo',
    );
    process.exit(1);
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
      cloud,
      ...(values.nodes ? { nodes: Number(values.nodes) } : {}),
      ...(values.pods ? { podsPerNode: Number(values.pods) } : {}),
      ...(values['instance-type'] ? { instanceType: values['instance-type'] } : {}),
    });
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
