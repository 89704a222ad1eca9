// The CNI versions README.md and docs/cni.md name are the ones the agent and the forwarder
// answer VERSION with (and the conformance tests run every one of them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SUPPORTED_VERSIONS } from '../../../src/cni/versions.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8').replace(/\s+/g, ' ');
const versionsIn = (text: string): string[] => [...text.matchAll(/\d+\.\d+\.\d+/g)].map((m) => m[0]);

describe('documented CNI versions', () => {
  it('README.md lists exactly the supported versions', () => {
    const m = /CNI ADD\/DEL\/CHECK\/GC\/STATUS for CNI ([\d., and]+)/.exec(read('README.md'));
    expect(versionsIn(m?.[1] ?? '')).toEqual([...SUPPORTED_VERSIONS]);
  });

  it('docs/cni.md lists exactly the supported versions', () => {
    const m = /Supported: ((?:`[\d.]+`,? ?)+)/.exec(read('docs/cni.md'));
    expect(versionsIn(m?.[1] ?? '')).toEqual([...SUPPORTED_VERSIONS]);
  });
});
