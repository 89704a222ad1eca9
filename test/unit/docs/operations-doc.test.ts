import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncedOperationsDoc } from '../../../src/config/operations-doc.ts';

describe('docs/operations.md', () => {
  it('has the config reference and metrics list the code has (npm run docs:config -- --write)', () => {
    const text = readFileSync(join(import.meta.dirname, '../../../docs/operations.md'), 'utf8');
    expect(text).toBe(syncedOperationsDoc(text));
  });
});
