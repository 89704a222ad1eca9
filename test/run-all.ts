// README's test command, and each tier's own command. Ends with one plain line for CI:
//   N passed, N failed[, N skipped]
//   node test/run-all.ts                 static checks (typecheck, lint), every jest tier, then the
//                                        tiers in test/tiers (the QEMU vm tier); writes
//                                        build/test-results/summary.txt (.ci/run reads it)
//   node test/run-all.ts <tier> [args]   one tier: unit, contract, integration, privileged (jest
//                                        projects, args go to jest) or a test/tiers/<tier>.ts
// A tier that cannot run is counted as failed and says why. Jest gets no --forceExit: a run
// that does not exit soon after its results are in has a test that left a handle open, and
// counts as failed (find it with `npm run test:<tier> -- --detectOpenHandles <file>`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

const root = join(import.meta.dirname, '..');
const outDir = join(root, 'build', 'test-results');
const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
/** How long jest may take to exit after writing its results before the run counts as leaking. */
const EXIT_GRACE_MS = 15_000;

const jestTiers = ((await import(pathToFileURL(join(root, 'jest.config.js')).href)) as { TIERS: string[] }).TIERS;
const scriptTiers = existsSync(join(root, 'test', 'tiers'))
  ? readdirSync(join(root, 'test', 'tiers')).filter((f) => f.endsWith('.ts')).sort().map((f) => f.slice(0, -3))
  : [];

function banner(text: string): void {
  console.log(`\n===== ${text} =====`);
}

function fail(why: string): void {
  tally.failed++;
  console.log(`FAILED: ${why}`);
}

function runCheck(name: string, cmd: string, args: string[]): void {
  banner(name);
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (res.status === 0) tally.passed++;
  else fail(`${name} (exit ${res.status ?? res.signal})`);
}

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
}

/** Runs jest on the given projects; a run that hangs after its results (an open handle) is killed and counts as failed. */
async function runJest(projects: string[], extra: string[]): Promise<void> {
  banner(`jest: ${projects.join(', ')}`);
  const out = join(outDir, `jest-${projects.length === 1 ? projects[0] : 'all'}.json`);
  rmSync(out, { force: true });
  const child = spawn(
    process.execPath,
    ['--experimental-vm-modules', join(root, 'node_modules/jest/bin/jest.js'), '--selectProjects', ...projects, '--json', `--outputFile=${out}`, ...extra],
    { cwd: root, stdio: ['inherit', 'inherit', 'pipe'] },
  );
  // Jest force-kills a worker that does not exit after its files; it only says so on stderr.
  let workerLeaked = false;
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    if (chunk.toString().includes('failed to exit gracefully')) workerLeaked = true;
  });
  let hung = false;
  let killer: NodeJS.Timeout | undefined;
  const watch = setInterval(() => {
    if (killer || !existsSync(out)) return;
    // Results are written: from here jest only has to exit.
    killer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, EXIT_GRACE_MS);
  }, 500);
  const code = await new Promise<number | string>((resolve) => child.on('close', (c, s) => resolve(c ?? s ?? 'unknown')));
  clearInterval(watch);
  clearTimeout(killer);
  if (!existsSync(out)) return fail(`jest wrote no results (exit ${code})`);
  const json = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
  tally.passed += json.numPassedTests;
  // A suite that crashes before its tests run counts as one failure each.
  tally.failed += json.numFailedTests + json.numRuntimeErrorTestSuites;
  tally.skipped += json.numPendingTests + json.numTodoTests;
  const find = 'find it with `npm run test:<tier> -- --detectOpenHandles <file>`';
  if (hung) fail(`jest did not exit ${EXIT_GRACE_MS / 1000} s after its results: a test left a handle open (${find})`);
  if (workerLeaked) fail(`a jest worker did not exit after its tests: a test left a handle open (${find})`);
}

/** A tier script (e.g. the QEMU vm tier) writes a {passed, failed, skipped} JSON file. */
function runScriptTier(name: string): void {
  banner(`tier ${name}`);
  const out = join(outDir, `${name}.json`);
  rmSync(out, { force: true });
  const res = spawnSync(process.execPath, [join(root, 'test', 'tiers', `${name}.ts`), `--results=${out}`], { cwd: root, stdio: 'inherit' });
  if (!existsSync(out)) return fail(`tier ${name} wrote no results (exit ${res.status ?? res.signal})`);
  const t = JSON.parse(readFileSync(out, 'utf8')) as Partial<Tally>;
  tally.passed += t.passed ?? 0;
  tally.failed += t.failed ?? 0;
  tally.skipped += t.skipped ?? 0;
}

mkdirSync(outDir, { recursive: true });
const [tier, ...rest] = process.argv.slice(2);
if (tier === undefined) {
  runCheck('typecheck', bin('tsc'), ['-p', 'tsconfig.json']);
  runCheck('lint', bin('eslint'), ['.']);
  await runJest(jestTiers, []);
  for (const t of scriptTiers) runScriptTier(t);
} else if (jestTiers.includes(tier)) {
  await runJest([tier], rest);
} else if (scriptTiers.includes(tier)) {
  runScriptTier(tier);
} else {
  console.error(`unknown tier ${tier}: one of ${[...jestTiers, ...scriptTiers].join(', ')}`);
  process.exit(2);
}

banner('summary');
const skipped = tally.skipped ? `, ${tally.skipped} skipped` : '';
const line = `${tally.passed} passed, ${tally.failed} failed${skipped}`;
console.log(line);
if (tier === undefined) writeFileSync(join(outDir, 'summary.txt'), `${line}\n`);
process.exit(tally.failed === 0 && tally.passed > 0 ? 0 : 1);
