// Turns argv into what main.ts runs. Pure, so every help form is checked without a process.
// Help words may repeat and may come before or after the command (`vpcnet help --help`,
// `vpcnet --help demo`, `vpcnet help demo -h`): each form ends in one help text, never a loop.

export const HELP_WORDS: readonly string[] = ['help', '--help', '-h'];
export const VERSION_WORDS: readonly string[] = ['version', '--version', '-V'];
/** The subcommands main.ts dispatches to (version and help aside). */
export const COMMANDS = ['agent', 'status', 'demo', 'max-pods', 'emulator'] as const;
export type CommandName = (typeof COMMANDS)[number];

export type Route =
  | { kind: 'usage' }
  | { kind: 'version'; argv: string[] }
  | { kind: 'command'; name: CommandName; argv: string[] }
  | { kind: 'unknown'; name: string };

export function route(argv: readonly string[]): Route {
  let i = 0;
  while (i < argv.length && HELP_WORDS.includes(argv[i]!)) i++;
  const help = i > 0;
  const name = argv[i];
  if (name === undefined) return { kind: 'usage' };
  const rest = argv.slice(i + 1);
  // After `help <command>`, the command is asked for its own help: `--help` is added once.
  const argvOf = (): string[] => (help ? [...rest.filter((a) => a !== '--help' && a !== '-h'), '--help'] : [...rest]);
  if (VERSION_WORDS.includes(name)) return { kind: 'version', argv: argvOf() };
  if ((COMMANDS as readonly string[]).includes(name)) return { kind: 'command', name: name as CommandName, argv: argvOf() };
  return { kind: 'unknown', name };
}
