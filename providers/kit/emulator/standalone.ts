// What every `vpcnet emulator <cloud>` command shares: reading a scenario file, listening, and
// waiting for Ctrl-C. A user's mistake (missing file, bad JSON, a scenario the schema refuses,
// a port in use) is a USAGE error: one line and exit 2 (src/cli/main.ts), never a stack trace.
import { readFileSync } from 'node:fs';
import { isVpcnetError } from '../../../src/errors.ts';
import { helpText, parseCommand, usageError, type CommandSpec, type Parsed } from '../../../src/util/cli-args.ts';

/** The registry's `runStandaloneEmulator`: --help prints the spec's help, anything else runs. */
export function standaloneCommand(spec: CommandSpec, run: (p: Parsed) => Promise<void>): (argv: string[]) => Promise<void> {
  return async (argv) => {
    const parsed = parseCommand(spec, argv);
    if (parsed === 'help') return console.log(helpText(spec));
    await run(parsed);
  };
}

/** Reads and parses a JSON scenario; `parse` validates it (zod issues become a path list). */
export function readScenarioFile<T>(spec: CommandSpec, file: string, parse: (json: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw usageError(spec, `cannot read scenario file ${file}: ${reason}`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw usageError(spec, `scenario file ${file} is not valid JSON: ${(err as Error).message}`, err);
  }
  try {
    return parse(json);
  } catch (err) {
    if (!isVpcnetError(err)) throw err;
    throw usageError(spec, `scenario file ${file}: ${issueList(err.details.issues) ?? err.message}`, err);
  }
}

function issueList(issues: unknown): string | undefined {
  if (!Array.isArray(issues) || issues.length === 0) return undefined;
  return (issues as Array<{ path?: unknown[]; message?: string }>)
    .map((i) => `${(i.path ?? []).join('.') || '(root)'}: ${i.message ?? 'invalid'}`)
    .join('; ');
}

/** Applies a scenario; what the cloud would refuse in a user's file (an unknown subnet, size, type) is the user's to fix. */
export function applyOrExplain<T>(spec: CommandSpec, file: string | undefined, apply: () => T): T {
  try {
    return apply();
  } catch (err) {
    if (file && err instanceof Error) throw usageError(spec, `scenario file ${file}: ${err.message}`, err);
    throw err;
  }
}

/** Runs the emulator's start; a port in use or an address that cannot be bound is the user's to fix. */
export async function listenOrExplain(spec: CommandSpec, host: string, port: number, start: () => Promise<string>): Promise<string> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw usageError(spec, `port ${port} on ${host} is in use (choose another --port, or --port 0 for a free one)`, err);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') throw usageError(spec, `cannot listen on ${host}:${port} (${code})`, err);
    throw err;
  }
}

/** Resolves on SIGINT or SIGTERM: the emulator then stops. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
