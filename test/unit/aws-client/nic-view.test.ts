// When the AWS provider asks EC2 again: the NIC view against metadata, on a fake clock.
import { describe, expect, it } from '@jest/globals';
import { NicView } from '../../../providers/aws/client/nic-view.ts';
import type { CloudNic } from '../../../providers/provider.ts';
import { FakeClock } from '../../../src/util/clock.ts';

const NIC: CloudNic = {
  id: 'eni-1',
  deviceIndex: 0,
  mac: '02:00:00:00:00:01',
  subnetId: 'subnet-1',
  subnetCidr: '10.0.0.0/24',
  primaryIp: '10.0.0.10',
  securityGroups: ['sg-1'],
  blocks: [{ kind: 'ip', cidr: '10.0.0.11/32' }],
};
const meta = (ips: string[], prefixes: string[] = []) => [{ mac: NIC.mac, localIpv4s: ['10.0.0.10', ...ips], ipv4Prefixes: prefixes }];

function setup(): { clock: FakeClock; view: NicView } {
  const clock = new FakeClock(0);
  const view = new NicView({ clock, random: () => 0.5, driftCooldownMs: 30_000, fullCheckMs: 3_600_000 });
  view.set([NIC], new Map([['eni-1', 'att-1']]));
  return { clock, view };
}

describe('NIC view: when to describe EC2 again', () => {
  it('answers from the view while metadata agrees, and after our own changes', () => {
    const { view } = setup();
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: false });
    view.addBlocks('eni-1', [{ kind: 'prefix', cidr: '10.0.0.32/28' }]);
    expect(view.decide(meta(['10.0.0.11'], ['10.0.0.32/28']))).toEqual({ describe: false });
    view.removeBlocks('eni-1', ['10.0.0.11/32']);
    expect(view.get()?.[0]?.blocks).toEqual([{ kind: 'prefix', cidr: '10.0.0.32/28' }]);
  });

  it('drift shorter than the cooldown is metadata lag; longer drift describes, and unconfirmed drift waits twice as long next time', async () => {
    const { clock, view } = setup();
    expect(view.decide(meta([]))).toEqual({ describe: false });
    await clock.advance(29_999);
    expect(view.decide(meta([]))).toEqual({ describe: false });
    await clock.advance(1);
    expect(view.decide(meta([]))).toEqual({ describe: true, why: 'drift' });
    // EC2 still has the address: metadata was wrong, not late.
    view.set([NIC], new Map(), false);
    expect(view.decide(meta([]))).toEqual({ describe: false });
    await clock.advance(59_999);
    expect(view.decide(meta([]))).toEqual({ describe: false });
    await clock.advance(1);
    expect(view.decide(meta([]))).toEqual({ describe: true, why: 'drift' });
  });

  it('describes on the jittered full check and after an ambiguous failure, never from metadata alone', async () => {
    const { clock, view } = setup();
    view.markStale();
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: true, why: 'stale' });
    view.set([NIC], new Map());
    await clock.advance(3_600_000); // random 0.5: exactly the interval
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: true, why: 'periodic' });
    view.set([NIC], new Map());
    // Metadata shows an extra address: the view never takes it.
    view.decide(meta(['10.0.0.11', '10.0.0.99']));
    expect(view.get()?.[0]?.blocks.map((b) => b.cidr)).toEqual(['10.0.0.11/32']);
  });

  it('a change of our own that metadata then shows postpones the full check by a jittered interval; metadata agreeing alone does not', async () => {
    const { clock, view } = setup();
    // Metadata agreeing with an unchanged view: the hourly check stays where it was.
    await clock.advance(1_800_000);
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: false });
    await clock.advance(600_000); // t = 40 min
    view.addBlocks('eni-1', [{ kind: 'prefix', cidr: '10.0.0.32/28' }]);
    // Metadata lags our assign: not yet confirmed.
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: false });
    await clock.advance(10_000);
    expect(view.decide(meta(['10.0.0.11'], ['10.0.0.32/28']))).toEqual({ describe: false });
    // t = 60 min: the check would have been due; the confirmed change moved it to t = 40 min 10 s + 1 h.
    await clock.advance(1_190_000);
    expect(view.decide(meta(['10.0.0.11'], ['10.0.0.32/28']))).toEqual({ describe: false });
    await clock.advance(2_409_999);
    expect(view.decide(meta(['10.0.0.11'], ['10.0.0.32/28']))).toEqual({ describe: false });
    await clock.advance(1);
    expect(view.decide(meta(['10.0.0.11'], ['10.0.0.32/28']))).toEqual({ describe: true, why: 'periodic' });
  });

  it('an unconfirmed change does not postpone the full check', async () => {
    const { clock, view } = setup();
    await clock.advance(3_590_000);
    view.addBlocks('eni-1', [{ kind: 'prefix', cidr: '10.0.0.32/28' }]);
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: false });
    await clock.advance(10_000);
    expect(view.decide(meta(['10.0.0.11']))).toEqual({ describe: true, why: 'periodic' });
  });

  it('a pool that keeps changing is still checked fullCheckMaxMs (2 h, jittered 75-100 %) after the last listing', async () => {
    const { clock, view } = setup();
    const prefixes: string[] = [];
    for (let i = 0; i < 6; i++) {
      await clock.advance(1_000_000); // a confirmed change every ~17 min
      const cidr = `10.0.${i + 1}.0/28`;
      prefixes.push(cidr);
      view.addBlocks('eni-1', [{ kind: 'prefix', cidr }]);
      expect(view.decide(meta(['10.0.0.11'], prefixes))).toEqual({ describe: false });
    }
    // random 0.5: 87.5 % of 2 h = 6 300 000 ms.
    await clock.advance(6_300_000 - 6_000_000 - 1);
    expect(view.decide(meta(['10.0.0.11'], prefixes))).toEqual({ describe: false });
    await clock.advance(1);
    expect(view.decide(meta(['10.0.0.11'], prefixes))).toEqual({ describe: true, why: 'periodic' });
  });
});
