// `npm run bench:scale -- --cloud C` starts C's run with the other arguments, for every cloud.
import { describe, expect, it } from '@jest/globals';
import { chooseScaleRun, dispatchScale, type ScaleCloud } from '../../bench/scale-dispatch.ts';

describe('bench:scale dispatch', () => {
  it.each([
    [[], 'aws', []],
    [['--nodes', '200'], 'aws', ['--nodes', '200']],
    [['--cloud', 'aws', '--nodes', '5'], 'aws', ['--nodes', '5']],
    [['--cloud', 'azure', '--nodes', '5', '--prefix'], 'azure', ['--nodes', '5', '--prefix']],
    [['--nodes', '5', '--cloud=azure'], 'azure', ['--nodes', '5']],
    [['--cloud', 'gcp', '--mode', 'route'], 'gcp', ['--mode', 'route']],
  ])('%j runs %s with %j', async (argv, cloud, rest) => {
    expect(chooseScaleRun(argv)).toEqual({ cloud, argv: rest });
    const called: [ScaleCloud, string[]][] = [];
    const run = (c: ScaleCloud) => async (a: string[]): Promise<void> => void called.push([c, a]);
    await dispatchScale(argv, { aws: run('aws'), azure: run('azure'), gcp: run('gcp') }, () => called.push(['aws', ['FAILED']]));
    expect(called).toEqual([[cloud, rest]]);
  });

  it.each([[['--cloud', 'mars']], [['--cloud']]])('%j is refused with one line', async (argv) => {
    const lines: string[] = [];
    const never = async (): Promise<void> => void lines.push('ran');
    await dispatchScale(argv, { aws: never, azure: never, gcp: never }, (l) => lines.push(l));
    expect(lines).toEqual([expect.stringMatching(/^--cloud (must be aws, azure or gcp|needs a value)/)]);
  });
});
