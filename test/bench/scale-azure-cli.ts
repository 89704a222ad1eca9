// `npm run bench:scale -- --cloud azure [--nodes 1000] [--pods-per-node 10] [--prefix]
//  [--speed 10] [--seed S] [--window-s W]`: the Azure run (scale-azure.ts); time is emulated at
// --speed over real TLS. Prints a JSON line; exits non-zero on failures or leaks.
import { parseArgs } from 'node:util';
import { runAzureScale } from './scale-azure.ts';

export async function runAzureScaleCli(argv: string[]): Promise<never> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '1000' },
      'pods-per-node': { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'window-s': { type: 'string' },
      prefix: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const r = await runAzureScale({
    nodes: Math.floor(Number(values.nodes)),
    podsPerNode: values['pods-per-node'] ? Math.floor(Number(values['pods-per-node'])) : 10,
    speed: values.speed ? Number(values.speed) : 10,
    seed: Math.floor(Number(values.seed)),
    bootWindowMs: values['window-s'] ? Number(values['window-s']) * 1000 : 60_000,
    prefix: values.prefix,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ bench: 'scale', ...r })}\n`);
  process.exit(r.failures > 0 || r.leakTotal > 0 ? 1 : 0);
}
