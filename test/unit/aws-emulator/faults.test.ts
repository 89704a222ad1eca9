import { describe, expect, it } from '@jest/globals';
import { Faults } from '../../../providers/aws/emulator/faults.ts';
import { IdSource } from '../../../providers/aws/emulator/ids.ts';

describe('fault injection', () => {
  it('fires N times for the named action only, then retires', () => {
    const f = new Faults(new IdSource(1).random());
    f.add({ action: 'AttachNetworkInterface', code: 'InternalError', count: 2 });
    expect(f.take('DescribeSubnets', 'before')).toBeUndefined();
    expect(f.take('AttachNetworkInterface', 'after')).toBeUndefined();
    expect(f.take('AttachNetworkInterface', 'before')).toEqual({ kind: 'error', code: 'InternalError', message: 'Injected fault (InternalError).', status: 500 });
    expect(f.take('AttachNetworkInterface', 'before')).toBeDefined();
    expect(f.take('AttachNetworkInterface', 'before')).toBeUndefined();
    expect(f.list()).toEqual([]);
  });

  it('fires with the given probability, reproducibly for a seed', () => {
    const run = (): number => {
      const f = new Faults(new IdSource(9).random());
      f.add({ action: '*', code: 'RequestLimitExceeded', probability: 0.3 });
      let fired = 0;
      for (let i = 0; i < 1000; i++) if (f.take('DescribeInstances', 'before')?.status === 503) fired++;
      return fired;
    };
    const fired = run();
    expect(fired).toBeGreaterThan(230);
    expect(fired).toBeLessThan(370);
    expect(run()).toBe(fired);
  });

  it('keeps latency per action with a catch-all', () => {
    const f = new Faults(Math.random);
    f.setLatency('*', 5);
    f.setLatency('AttachNetworkInterface', 300);
    expect(f.latencyFor('AttachNetworkInterface')).toBe(300);
    expect(f.latencyFor('DescribeSubnets')).toBe(5);
    f.setLatency('AttachNetworkInterface', 0);
    expect(f.latencyFor('AttachNetworkInterface')).toBe(5);
  });
});
