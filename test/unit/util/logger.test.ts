import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/util/logger.ts';

describe('createLogger', () => {
  it('writes JSON lines with fixed messages, child fields, and redacts secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'debug', destination: sink }).child({ component: 'cni' });
    log.info({ creds: { secretAccessKey: 'AKIA-SECRET', region: 'us-east-1' } }, 'cloud client ready');
    log.trace('not written');
    await new Promise<void>((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(rec).toMatchObject({ msg: 'cloud client ready', component: 'cni', creds: { secretAccessKey: '[redacted]', region: 'us-east-1' } });
    expect(lines[0]).not.toContain('AKIA-SECRET');
  });
});
