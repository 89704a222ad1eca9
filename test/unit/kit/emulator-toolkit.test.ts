import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { serveCommonAdmin } from '../../../providers/kit/emulator/admin.ts';
import { ServerBuckets } from '../../../providers/kit/emulator/buckets.ts';
import { FaultTable } from '../../../providers/kit/emulator/faults.ts';
import { EmulatorHttp, readBody, sendJson } from '../../../providers/kit/emulator/http-server.ts';
import { LaggedView } from '../../../providers/kit/emulator/lag.ts';
import { FakeClock } from '../../../src/util/clock.ts';

const armDefaults = { code: 'InternalServerError', statusOf: (c: string): number => (c === 'TooManyRequests' ? 429 : 500) };

describe('FaultTable', () => {
  it('fires per operation, counts down, and uses the cloud’s default status and Retry-After', () => {
    const f = new FaultTable(() => 0, armDefaults);
    f.add({ action: 'NetworkInterfaces_CreateOrUpdate', code: 'TooManyRequests', count: 2, retryAfterSeconds: 7 });
    f.add({ action: '*', when: 'after' });
    expect(f.take('NetworkInterfaces_Get', 'before')).toBeUndefined();
    expect(f.take('NetworkInterfaces_CreateOrUpdate', 'before')).toEqual({ kind: 'error', code: 'TooManyRequests', message: 'Injected fault (TooManyRequests).', status: 429, retryAfterSeconds: 7 });
    f.take('NetworkInterfaces_CreateOrUpdate', 'before');
    expect(f.take('NetworkInterfaces_CreateOrUpdate', 'before')).toBeUndefined();
    expect(f.take('NetworkInterfaces_Get', 'after')?.status).toBe(500);
    f.setLatency('*', 40);
    f.setLatency('x', 5);
    expect([f.latencyFor('x'), f.latencyFor('y')]).toEqual([5, 40]);
  });

  it('honours probability with the injected random source', () => {
    let r = 0;
    const draws = [0.1, 0.9, 0.2];
    const f = new FaultTable(() => draws[r++ % 3] as number, armDefaults);
    f.add({ action: 'op', probability: 0.5 });
    expect([f.take('op', 'before'), f.take('op', 'before'), f.take('op', 'before')].map((h) => h !== undefined)).toEqual([true, false, true]);
  });
});

describe('ServerBuckets', () => {
  it('throttles once a category is drained, refills on the clock, scaled by speed', async () => {
    const clock = new FakeClock(0);
    const b = new ServerBuckets(clock, { write: { capacity: 2, refillPerSecond: 1 }, read: { capacity: 100, refillPerSecond: 10 } }, { speed: 10 });
    expect([b.admit('put', 'write'), b.admit('put', 'write'), b.admit('put', 'write'), b.admit('get', 'read')]).toEqual([true, true, false, true]);
    await clock.advance(100); // 1 token/s x speed 10 = one token per 100 ms
    expect(b.admit('put', 'write')).toBe(true);
    expect(b.snapshot()).toMatchObject({ throttled: { put: 1 }, admitted: { put: 3, get: 1 }, tokens: { write: 0, read: 100 } }); // read refilled to capacity meanwhile
    b.enabled = false;
    expect(b.admit('put', 'write')).toBe(true);
  });
});

describe('LaggedView', () => {
  it('answers from the state as it was lagMs ago', async () => {
    const clock = new FakeClock(0);
    const v = new LaggedView(clock, 'boot', 1000);
    await clock.advance(10);
    v.record('nic attached');
    expect(v.current()).toBe('boot');
    await clock.advance(999);
    expect(v.current()).toBe('boot');
    await clock.advance(1);
    expect(v.current()).toBe('nic attached');
    v.setLag(0);
    v.record('ip added');
    expect(v.current()).toBe('ip added');
  });
});

describe('EmulatorHttp and the shared admin routes', () => {
  it('serves JSON, answers a failing handler with 500 and an oversized body with 413, and the common admin routes', async () => {
    const http = new EmulatorHttp('test emulator', pino({ level: 'silent' }));
    const faults = new FaultTable(() => 0, armDefaults);
    const throttling = { enabled: true };
    let lag = 0;
    const target = { faults, throttling, setMetadataLag: (ms: number) => (lag = ms), stats: () => ({ calls: 1 }) };
    const base = await http.listen({}, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/boom') throw new Error('bug');
      if (url.pathname === '/echo') return sendJson(res, 200, { got: (await readBody(req)).length });
      if (await serveCommonAdmin(target, `${req.method} ${url.pathname}`, req, res)) return;
      sendJson(res, 404, {});
    });
    try {
      expect((await fetch(`${base}/boom`)).status).toBe(500);
      expect((await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat((1 << 20) + 1) })).status).toBe(413);
      expect(await (await fetch(`${base}/echo`, { method: 'POST', body: 'abc' })).json()).toEqual({ got: 3 });
      const added = await fetch(`${base}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ action: 'op', code: 'TooManyRequests' }) });
      expect(await added.json()).toEqual({ id: 1 });
      expect((await fetch(`${base}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ action: 'op', bogus: 1 }) })).status).toBe(500);
      await fetch(`${base}/_emulator/throttling`, { method: 'POST', body: JSON.stringify({ enabled: false }) });
      await fetch(`${base}/_emulator/metadata-lag`, { method: 'POST', body: JSON.stringify({ ms: 250 }) });
      expect(await (await fetch(`${base}/_emulator/stats`)).json()).toEqual({ calls: 1 });
      expect([faults.list().length, throttling.enabled, lag]).toEqual([1, false, 250]);
    } finally {
      await http.stop();
    }
  });
});
