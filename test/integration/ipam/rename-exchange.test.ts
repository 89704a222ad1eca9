// The setns addon's renameat2(RENAME_EXCHANGE), which FileCheckpointStore uses to replace the
// checkpoint (test/unit/ipam/checkpoint-exchange.test.ts covers the store with a stand-in).
// Needs the addon built (build/native, deploy/bootstrap.sh); no root.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SETNS_ADDON_PATH, optionalRenameExchange } from '../../../src/datapath/native/setns-addon.ts';
import { checkpointFiles } from '../../unit/ipam/checkpoint-files.ts';

const files = checkpointFiles('vpcnet-exchange-addon-');

describe('renameExchange of the setns addon', () => {
  it('the setns addon exchanges two names atomically (build/native, deploy/bootstrap.sh)', async () => {
    const exchange = optionalRenameExchange();
    if (!exchange) throw new Error(`setns addon without renameExchange at ${SETNS_ADDON_PATH}: run bash src/datapath/native/build.sh`);
    const a = join(files.dir, 'a');
    await writeFile(a, 'A');
    await writeFile(files.path, 'B');
    exchange(a, files.path);
    expect([await readFile(a, 'utf8'), await readFile(files.path, 'utf8')]).toEqual(['B', 'A']);
    expect(() => exchange(a, join(files.dir, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
