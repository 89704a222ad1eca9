import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPayloadPath } from '../../support/shared-payloads.ts';

describe('the ../shared payload helper', () => {
  it('fails with one clear line naming the missing directory', () => {
    const root = join(mkdtempSync(join(tmpdir(), 'vc9k-')), 'no-such-shared');
    expect(() => sharedPayloadPath('aws', 'x.json', root)).toThrow(`this test needs the vendor payloads in ../shared/cloud-payloads, not found at ${root}`);
    try {
      sharedPayloadPath('aws', 'x.json', root);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('names a missing file inside an existing directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'vc9k-'));
    expect(() => sharedPayloadPath('gce', 'op.json', root)).toThrow(/needs gce\/op\.json/);
  });
});
