// Prints, as JSON, the npm packages a module's import graph loads: `node loaded-packages.ts <module>`.
// Used by the lean-agent test (a child process, so the test runner's own imports do not count).
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const r = nextResolve(specifier, context);
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(r.url);
    if (m?.[1]) seen.add(m[1]);
    return r;
  },
});
await import(pathToFileURL(process.argv[2] ?? '').href);
process.stdout.write(`${JSON.stringify([...seen].sort())}\n`);
