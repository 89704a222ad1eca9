import { describe, expect, it } from '@jest/globals';
import { classifyCode, classifyHttpStatus, classifyTransport, isAmbiguous, isRetryableClass } from '../../../providers/kit/classify.ts';
import { isAmbiguous as poolIsAmbiguous } from '../../../src/ipam/conditions.ts';
import { ERROR_CODES } from '../../../src/errors.ts';

describe('error classification', () => {
  it('gives the pool and the providers one answer for "the call may have happened"', () => {
    for (const code of ERROR_CODES) expect(poolIsAmbiguous(code)).toBe(isAmbiguous(code));
    expect(ERROR_CODES.filter(isAmbiguous).sort()).toEqual(['CLOUD_TIMEOUT', 'CLOUD_UNAVAILABLE', 'INTERNAL']);
  });

  it('classifies codes, HTTP statuses and transport failures', () => {
    expect(classifyCode('CLOUD_THROTTLED')).toBe('throttled');
    expect(classifyCode('CLOUD_NOT_FOUND')).toBe('not-found');
    expect(classifyCode('METADATA_UNREACHABLE')).toBe('transient');
    expect(classifyCode('SUBNET_FULL')).toBe('permanent');
    expect(classifyHttpStatus(429)).toBe('throttled');
    expect(classifyHttpStatus(503)).toBe('ambiguous');
    expect(classifyHttpStatus(408)).toBe('ambiguous');
    expect(classifyHttpStatus(501)).toBe('permanent');
    expect(classifyHttpStatus(412)).toBe('permanent');
    expect(classifyHttpStatus(404)).toBe('not-found');
    expect(classifyTransport('ECONNREFUSED')).toBe('transient');
    expect(classifyTransport('ECONNRESET')).toBe('ambiguous');
    expect(classifyTransport('EWHATEVER')).toBeUndefined();
  });

  it('retries ambiguous failures only for idempotent calls', () => {
    expect(isRetryableClass('ambiguous', true)).toBe(true);
    expect(isRetryableClass('ambiguous', false)).toBe(false);
    expect(isRetryableClass('throttled', false)).toBe(true);
    expect(isRetryableClass('permanent')).toBe(false);
    expect(isRetryableClass('not-found')).toBe(false);
  });
});
