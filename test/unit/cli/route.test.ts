// How argv becomes a command: help words in any number and order end in one help request.
import { describe, expect, it } from '@jest/globals';
import { route } from '../../../src/cli/route.ts';

describe('route', () => {
  it.each([[[]], [['help']], [['--help']], [['-h']], [['help', '--help']], [['--help', '--help']], [['help', '-h']], [['help', 'help', 'help']]])(
    '%j is the top-level usage',
    (argv) => expect(route(argv)).toEqual({ kind: 'usage' }),
  );

  it.each([
    [['help', 'demo'], ['--help']],
    [['--help', 'demo'], ['--help']],
    [['help', 'demo', '--help'], ['--help']],
    [['help', 'demo', '-h', '--help'], ['--help']],
    [['demo', '--help', '--help'], ['--help', '--help']],
  ])('%j asks the command for its help once', (argv, rest) => {
    expect(route(argv)).toEqual({ kind: 'command', name: 'demo', argv: rest });
  });

  it('passes a command its arguments untouched', () => {
    expect(route(['emulator', 'aws', '--port', '0'])).toEqual({ kind: 'command', name: 'emulator', argv: ['aws', '--port', '0'] });
  });

  it.each([[['version', '--help']], [['help', 'version']], [['--version', '-h']]])('%j is the help of version', (argv) => {
    expect(route(argv)).toMatchObject({ kind: 'version', argv: [expect.stringMatching(/^(--help|-h)$/)] });
  });

  it('an unknown command stays unknown, also after help', () => {
    expect(route(['help', 'frob'])).toEqual({ kind: 'unknown', name: 'frob' });
  });
});
