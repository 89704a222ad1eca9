// The test tiers are folders (docs/testing.md): every test file sits in the folder of a tier
// that runs it, and the unit tier stays runnable anywhere, as any user, quickly: no ../shared,
// no root or network namespaces, no wall-clock timers.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'build' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (e.name.endsWith('.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

const files = walk(ROOT);
const SELF = relative(ROOT, import.meta.filename);
const unitFiles = files.filter((f) => f.startsWith('test/unit/') && f !== SELF);

/** Unit files whose text matches `re`, with the first matching line. */
function offenders(re: RegExp): string[] {
  return unitFiles.flatMap((f) => {
    const line = readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .find((l) => re.test(l) && !l.trimStart().startsWith('//'));
    return line === undefined ? [] : [`${f}: ${line.trim()}`];
  });
}

describe('test tiers', () => {
  it('every *.test.ts is in the folder of a tier that jest runs', async () => {
    const { TIERS } = (await import(pathToFileURL(join(ROOT, 'jest.config.js')).href)) as { TIERS: string[] };
    expect(TIERS).toEqual(expect.arrayContaining(['unit', 'contract', 'integration', 'privileged']));
    const tests = files.filter((f) => f.endsWith('.test.ts'));
    expect(tests.length).toBeGreaterThan(100);
    expect(tests.filter((f) => !TIERS.some((t) => f.startsWith(`test/${t}/`)))).toEqual([]);
  });

  it('unit tests read nothing from ../shared (tests that do live in a tier that says so)', () => {
    expect(offenders(/readSharedPayload|SHARED_PAYLOADS|['"]\.\.['"],\s*['"]shared['"]|\.\.\/\.\.\/\.\.\/\.\.\/shared/)).toEqual([]);
  });

  it('unit tests need no root and no network namespaces', () => {
    expect(offenders(/requireRoot|runPrefix|createScenario|Lab\.create|\bnetns add\b|src\/datapath\/native\/build\.sh/)).toEqual([]);
  });

  it('unit tests wait on no wall-clock timer (they drive a FakeClock)', () => {
    expect(offenders(/\bset(Timeout|Interval)\s*\(|\buseRealTimers\b/)).toEqual([]);
  });
});
