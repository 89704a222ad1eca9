// npm run bench:scale -- [--cloud aws|azure|gcp] [the cloud's own options]
//   aws (default): scale-aws-cli.ts · azure: scale-azure-cli.ts · gcp: scale-gcp-cli.ts
// Each prints its figures and a final JSON line and exits non-zero only on pod-visible
// failures, nodes given up at boot or leaks (a correctness result, never a timing one).
// See docs/benchmarks.md.
import { dispatchScale } from './scale-dispatch.ts';

await dispatchScale(
  process.argv.slice(2),
  {
    aws: async (argv) => (await import('./scale-aws-cli.ts')).runAwsScaleCli(argv),
    azure: async (argv) => (await import('./scale-azure-cli.ts')).runAzureScaleCli(argv),
    gcp: async (argv) => (await import('./scale-gcp-cli.ts')).runGcpScaleCli(argv),
  },
  (line) => {
    process.stderr.write(`bench:scale: ${line}\n`);
    process.exit(2);
  },
);
