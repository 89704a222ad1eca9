// README's test command. Runs every tier, then prints one plain summary line for CI:
//   N passed, N failed[, N skipped]
// Tiers: static checks (typecheck, lint) · jest (unit, contract, integration, privileged) ·
// vm (QEMU, when present). A tier that cannot run is counted as failed and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

const root = join(import.meta.dirname, '..');
const outDir = join(root, 'build', 'test-results');
mkdirSync(outDir, { recursive: true });
const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

function banner(text: string): void {
  console.log(`\n===== ${text} =====`);
}

function runCheck(name: string, cmd: string, args: string[]): void {
  banner(name);
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (res.status === 0) tally.passed++;
  else {
    tally.failed++;
    console.log(`FAILED: ${name} (exit ${res.status ?? res.signal})`);
  }
}

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
}

function runJest(extra: string[]): void {
  banner('jest: unit, contract, integration, privileged');
  const out = join(outDir, 'jest.json');
  const res = spawnSync(
    process.execPath,
    // --forceExit: a test that leaves a client's poll timer behind must not hang the run after its results are in.
    ['--experimental-vm-modules', join(root, 'node_modules/jest/bin/jest.js'), '--json', `--outputFile=${out}`, '--forceExit', ...extra],
    { cwd: root, stdio: 'inherit' },
  );
  if (!existsSync(out)) {
    tally.failed++;
    console.log(`FAILED: jest wrote no results (exit ${res.status ?? res.signal})`);
    return;
  }
  const json = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
  tally.passed += json.numPassedTests;
  // A suite that crashes before its tests run counts as one failure each.
  tally.failed += json.numFailedTests + json.numRuntimeErrorTestSuites;
  tally.skipped += json.numPendingTests + json.numTodoTests;
}

/** Extra tiers (e.g. the QEMU vm tier) write a {passed, failed, skipped} JSON file here. */
function runExtraTiers(): void {
  const tiersDir = join(root, 'test', 'tiers');
  if (!existsSync(tiersDir)) return;
  for (const file of readdirSync(tiersDir).filter((f) => f.endsWith('.ts')).sort()) {
    banner(`tier ${file}`);
    const out = join(outDir, `${file}.json`);
    const res = spawnSync(process.execPath, [join(tiersDir, file), `--results=${out}`], { cwd: root, stdio: 'inherit' });
    if (!existsSync(out)) {
      tally.failed++;
      console.log(`FAILED: tier ${file} wrote no results (exit ${res.status ?? res.signal})`);
      continue;
    }
    const t = JSON.parse(readFileSync(out, 'utf8')) as Partial<Tally>;
    tally.passed += t.passed ?? 0;
    tally.failed += t.failed ?? 0;
    tally.skipped += t.skipped ?? 0;
  }
}

const jestArgs = process.argv.slice(2);
runCheck('typecheck', bin('tsc'), ['-p', 'tsconfig.json']);
runCheck('lint', bin('eslint'), ['.']);
runJest(jestArgs);
if (jestArgs.length === 0) runExtraTiers();

banner('summary');
const skipped = tally.skipped ? `, ${tally.skipped} skipped` : '';
const line = `${tally.passed} passed, ${tally.failed} failed${skipped}`;
console.log(line);
writeFileSync(join(outDir, 'summary.txt'), `${line}\n`);
process.exit(tally.failed === 0 && tally.passed > 0 ? 0 : 1);
