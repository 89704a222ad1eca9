// deploy/iam/gcp-role.yaml holds exactly the permissions of the calls the GCE provider makes,
// and every Compute method the SDK layer calls is listed with its permissions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { GCE_CALL_PERMISSIONS, permissionsFor } from '../../../providers/gcp/client/permissions.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('GCE role', () => {
  it('is exactly the union of the permissions of the calls made', () => {
    const role = yaml.load(readFileSync(join(root, 'deploy/iam/gcp-role.yaml'), 'utf8')) as { includedPermissions: string[] };
    expect([...role.includedPermissions].sort()).toEqual(permissionsFor('all'));
  });

  it('every Compute call of the SDK layer has its permissions listed', () => {
    const src = readFileSync(join(root, 'providers/gcp/client/compute-api.ts'), 'utf8');
    const called = new Set([...src.matchAll(/(?:call|raw)\('([a-zA-Z]+\.[a-zA-Z]+)'/g)].map((m) => m[1] as string));
    expect(called.size).toBeGreaterThan(5);
    expect([...called].sort()).toEqual(Object.keys(GCE_CALL_PERMISSIONS).sort());
  });
});
