// The agent's production form: one tree-shaken ESM bundle of `vpcnet` (src/cli/main.ts) and its
// dependencies, so that code of theirs the agent never calls is not loaded (whole-package
// imports such as the cloud SDKs' are most of an agent's memory when run from sources).
// Subcommands and the Kubernetes client stay separate chunks, loaded on first use. `npm run build:bundle` writes build/bundle/; the image runs build/bundle/main.mjs.
//
// The agent's Node flags (AGENT_NODE_FLAGS below) belong to the same production form.
//
// Kept outside the bundle: `netlink` (a prebuilt native binding found next to its package) and
// the setns addon (build/native, loaded by path). Our sources' `import.meta.url` is rewritten to
// where each file sits in the source tree relative to the bundle, so paths such as
// build/native/vpcnet-cni resolve as they do when running from sources.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = resolve(root, 'build/bundle');

/**
 * Node flags of the production agent (the image's ENTRYPOINT; bench:agent runs the bundle with
 * them; test/integration/agent/bundle.test.ts keeps the Dockerfile equal). Measured in
 * docs/benchmarks-history.md (bench:agent):
 * - `--max-semi-space-size=1`: the young generation stops growing to 16 MB semi-spaces that
 *   an agent allocating a few KB per request never needs back (~10-15 MB of RSS), for more
 *   frequent but tiny scavenges (idle CPU and ADD latency unchanged within noise).
 * - `--liftoff-only`: WebAssembly is compiled by the baseline compiler only. The one module
 *   an agent ran was undici's HTTP parser (@kubernetes/client-node's fetch, since replaced by
 *   our own client on node:http); optimising it cost ~20 MB of compiler memory that glibc
 *   keeps. Kept as a guard should a dependency bring fetch back. V8 calls the flag one for
 *   testing: a Node without it fails at once (the bundle test runs it).
 * - `--no-turbofan --no-maglev`: JavaScript runs in V8's interpreter and baseline compiler
 *   only. An agent is I/O-bound (a few ms of JavaScript per ADD); the optimising compilers'
 *   code, memory and pages of the node binary cost ~10 MB, and CPU for 250 ADDs and idle CPU
 *   were the same without them.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--liftoff-only', '--no-turbofan', '--no-maglev'];

const outdirOf = (dir: string | undefined): string => resolve(root, dir ?? BUNDLE_DIR);

const sourceUrls: Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/(src|providers)\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const rel = relative(outdirOf(b.initialOptions.outdir), args.path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/** `entry`: another entry point bundled the same way (the agent benchmark's process). */
export async function buildBundle(opts: { outdir?: string; entry?: string } = {}): Promise<{ outdir: string; bytes: number }> {
  const outdir = opts.outdir ?? BUNDLE_DIR;
  const res = await build({
    absWorkingDir: root,
    entryPoints: { main: opts.entry ?? 'src/cli/main.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    treeShaking: true,
    minifySyntax: true,
    // Each chunk's source stays on the heap as a string: whitespace and local names minified
    // (the Kubernetes chunk 5.9 -> 2.2 MB), class and function names kept for logs and stacks;
    // the linked source maps (not loaded at run time) map stack positions back to the sources.
    minifyWhitespace: true,
    minifyIdentifiers: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    external: ['netlink'],
    plugins: [sourceUrls],
    // Some dependencies are CommonJS and call require() / read __dirname.
    banner: {
      js: [
        "import { createRequire as __vpcnetCreateRequire } from 'node:module';",
        "import { fileURLToPath as __vpcnetFileUrlToPath } from 'node:url';",
        'const require = __vpcnetCreateRequire(import.meta.url);',
        'const __filename = __vpcnetFileUrlToPath(import.meta.url);',
        "const __dirname = __vpcnetFileUrlToPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(res.metafile?.outputs ?? {}).reduce((a, o) => a + o.bytes, 0);
  return { outdir, bytes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outdir, bytes } = await buildBundle();
  process.stdout.write(`bundle written to ${relative(root, outdir)}/ (${(bytes / 2 ** 20).toFixed(1)} MB)\n`);
}
