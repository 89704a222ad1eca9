// Network config decoding: hostile shapes get a spec error, never a crash, and the digest that
// tells a repeated ADD from a different one does not depend on key order.
import { describe, expect, it } from '@jest/globals';
import { MAX_CONFIG_DEPTH, parseNetConf } from '../../../src/cni/netconf.ts';
import { isVpcnetError } from '../../../src/errors.ts';

const nested = (depth: number): string => `{"cniVersion":"1.0.0","name":"vpcnet","type":"vpcnet","runtimeConfig":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

describe('parseNetConf', () => {
  it('refuses configs nested deeper than the limit with CNI_INVALID_CONFIG (found by the fuzz test: 5000 levels overflowed the stack)', () => {
    for (const depth of [MAX_CONFIG_DEPTH + 1, 5000, 100_000]) {
      let caught: unknown;
      try {
        parseNetConf(nested(depth));
      } catch (err) {
        caught = err;
      }
      expect(isVpcnetError(caught, 'CNI_INVALID_CONFIG')).toBe(true);
    }
  });

  it('accepts ordinary nesting', () => {
    expect(parseNetConf(nested(10)).name).toBe('vpcnet');
  });

  it('gives the same digest whatever order the keys come in', () => {
    const a = parseNetConf('{"cniVersion":"1.0.0","name":"vpcnet","type":"vpcnet","runtimeConfig":{"x":1,"y":[1,{"b":2,"a":1}]}}');
    const b = parseNetConf('{"runtimeConfig":{"y":[1,{"a":1,"b":2}],"x":1},"type":"vpcnet","name":"vpcnet","cniVersion":"1.0.0"}');
    const c = parseNetConf('{"cniVersion":"1.0.0","name":"vpcnet","type":"vpcnet","runtimeConfig":{"x":2}}');
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
  });
});
