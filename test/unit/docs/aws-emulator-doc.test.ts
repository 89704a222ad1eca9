// docs/providers/aws-emulator.md stays true: its error table names every EC2 error code the
// emulator can answer (found in the emulator's sources), and every action it serves.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ACTIONS } from '../../../providers/aws/emulator/actions.ts';
import { ID_ERROR_CODES } from '../../../providers/aws/emulator/id-errors.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DIR = join(ROOT, 'providers', 'aws', 'emulator');
const doc = readFileSync(join(ROOT, 'docs', 'providers', 'aws-emulator.md'), 'utf8');

function section(title: string): string {
  const start = doc.indexOf(title);
  expect(start).toBeGreaterThan(-1);
  const rest = doc.slice(start + title.length);
  const end = rest.search(/\n#{2,3} /);
  return end === -1 ? rest : rest.slice(0, end);
}

function emulatorCodes(): string[] {
  const codes = new Set<string>(ID_ERROR_CODES);
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(DIR, f), 'utf8');
    for (const m of text.matchAll(/(?:ec2Error|fail)\(\s*'([A-Za-z][\w.]*)'/g)) codes.add(m[1]!);
  }
  codes.add('InternalError'); // an unexpected failure inside an action
  return [...codes].sort();
}

describe('docs/providers/aws-emulator.md', () => {
  it('the error table lists every code the emulator returns', () => {
    const table = section('### Rules and error codes');
    const codes = emulatorCodes();
    expect(codes.length).toBeGreaterThan(25);
    expect(codes.filter((c) => !table.includes(`\`${c}\``))).toEqual([]);
  });

  it('the calls table lists every action the emulator serves', () => {
    const table = section('## EC2 calls');
    expect(Object.keys(ACTIONS).filter((a) => !new RegExp(`^\\| ${a} \\|`, 'm').test(table))).toEqual([]);
  });
});
