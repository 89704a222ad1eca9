// The demo's own checks and messages: options refused before anything starts (with the
// limit and why), and CNI failures told in words, never as raw JSON.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { describeCniFailure, keepLogsOnFailure } from '../../../src/demo/demo.ts';
import { demoOptionsProblem } from '../../../src/demo/demo-options.ts';
import { demoNodeShapes } from '../../../providers/aws/lab-binding.ts';
import { demoNodeShapes as gceShapes } from '../../../providers/gcp/lab-binding.ts';

describe('demo options', () => {
  it('fit what the instance type holds', () => {
    expect(demoNodeShapes.shapeOf('t3.medium')?.pods).toBe(15);
    expect(demoNodeShapes.shapeOf('m5.large')?.pods).toBe(27);
    expect(gceShapes.shapeOf('e2-standard-4')?.pods).toBe(110);
    expect(demoOptionsProblem({ nodes: 2, podsPerNode: 111, instanceType: 'e2-standard-4' }, gceShapes)).toMatch(/one \/24 alias range per node .* = 110 pods/);
    expect(demoOptionsProblem({ nodes: 2, podsPerNode: 15, instanceType: 't3.medium' }, demoNodeShapes)).toBeUndefined();
    expect(demoOptionsProblem({ nodes: 2, podsPerNode: 16, instanceType: 't3.medium' }, demoNodeShapes)).toMatch(
      /--pods 16 is more than one t3\.medium holds: 3 NICs x 5 secondary addresses = 15 pods .*Use --pods 15 or fewer/,
    );
  });

  it('refuse zero or fractional nodes and pods, and unknown types', () => {
    expect(demoOptionsProblem({ nodes: 0, podsPerNode: 1, instanceType: 't3.medium' }, demoNodeShapes)).toMatch(/--nodes must be/);
    expect(demoOptionsProblem({ nodes: 1.5, podsPerNode: 1, instanceType: 't3.medium' }, demoNodeShapes)).toMatch(/--nodes must be/);
    expect(demoOptionsProblem({ nodes: 1, podsPerNode: 0, instanceType: 't3.medium' }, demoNodeShapes)).toMatch(/--pods must be/);
    expect(demoOptionsProblem({ nodes: 1, podsPerNode: 1, instanceType: 'q9.large' }, demoNodeShapes)).toMatch(/not an EC2 instance type/);
  });
});

describe('CNI failures in demo messages', () => {
  it('are the message, details and code in words', () => {
    const stdout = JSON.stringify({ cniVersion: '1.1.0', code: 11, msg: 'no free address in the pool', details: 'subnet full' });
    const text = describeCniFailure({ code: 1, stdout });
    expect(text).toBe('no free address in the pool (subnet full) [CNI error 11: try again later]');
    expect(text).not.toMatch(/[{}"]/);
  });

  it('say what came back when it is not a CNI error', () => {
    expect(describeCniFailure({ code: 1, stdout: '' })).toBe('exit status 1, no output');
    expect(describeCniFailure({ code: 2, stdout: '<garbage>' })).toBe('exit status 2, unexpected output');
  });
});

describe("the agents' logs after a run", () => {
  const { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } = fs;
  const setup = (log: string | undefined): { work: string; logFile: string } => {
    const work = mkdtempSync(join(tmpdir(), 'vc13-demo-'));
    mkdirSync(join(work, 'node1'));
    const logFile = join(work, 'agents.log');
    if (log !== undefined) writeFileSync(logFile, log);
    return { work, logFile };
  };

  it('are kept (only they) when the demo failed, and their path is said', () => {
    const { work, logFile } = setup('{"msg":"x"}\n');
    const lines: string[] = [];
    keepLogsOnFailure(work, logFile, false, (l) => lines.push(l));
    expect([existsSync(logFile), existsSync(join(work, 'node1'))]).toEqual([true, false]);
    expect(lines).toEqual([`agents' logs kept: ${logFile}`]);
    rmSync(work, { recursive: true, force: true });
  });

  it('go with everything else after a good run, and no path is printed when there is no log', () => {
    for (const [log, ok] of [['{"msg":"x"}\n', true], [undefined, false]] as const) {
      const { work, logFile } = setup(log);
      const lines: string[] = [];
      keepLogsOnFailure(work, logFile, ok, (l) => lines.push(l));
      expect([existsSync(work), lines]).toEqual([false, []]);
    }
  });
});
