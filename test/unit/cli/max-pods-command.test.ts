// `vpcnet max-pods` as a user runs it: the number alone on stdout's last line; a mistake is
// one line on stderr and exit 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'max-pods', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

describe('vpcnet max-pods', () => {
  it.each([
    [['--instance-type', 'm5.large'], '29'],
    [['--instance-type', 't3.medium'], '17'],
    [['--instance-type', 'c5.18xlarge', '--show-max-allowed'], '737'],
    [['--instance-type', 'c5.18xlarge'], '250'],
    [['--instance-type', 'm5.large', '--prefix-delegation'], '110'],
    [['--instance-type', 'c5.18xlarge', '--prefix-delegation'], '250'],
    [['--instance-type', 'm5.large', '--custom-networking'], '20'],
    [['--vm-size', 'Standard_D4s_v5'], '250'],
    [['--pod-range', '/24'], '110'],
  ])('%j prints %s alone on the last line', (args, want) => {
    const r = run(...args);
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toBe(want);
    expect(r.stdout.trim()).toBe(want);
  });

  it.each([
    [['--instance-type', 'm5.huge'], 'unknown instance type "m5.huge"'],
    [[], 'which node?'],
    [['--instance-type'], 'option --instance-type needs a value'],
    [['--instance-type', 'm5.large', '--vm-size', 'Standard_D4s_v5'], 'give only one of'],
    [['--pod-range', '/24', '--prefix-delegation'], '--prefix-delegation does not apply with --pod-range'],
    [['--vm-size', 'Standard_Nope'], 'is not in vpcnet\'s table'],
    [['--instance-type', 'm5.large', '--max-enis', 'x'], '--max-enis must be a whole number'],
    [['--instance-type', 'mac1.metal'], 'vCPUs of mac1.metal unknown: pass --vcpus N'],
  ])('%j is a one-line mistake, exit 2', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const first = r.stderr.split('\n')[0]!;
    expect(first.startsWith('vpcnet max-pods: ')).toBe(true);
    expect(first).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
