// pino factory. Modules take a Logger and make child loggers with fixed messages and data in
// fields; tests pass silentLogger(). Secrets never reach a log line: redact known paths.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  name?: string;
  /** Where lines go; default stderr (stdout belongs to CLI output). */
  destination?: NodeJS.WritableStream;
}

const REDACT = ['*.password', '*.secret', '*.token', '*.authorization', '*.Authorization', '*.accessKeyId', '*.secretAccessKey', '*.sessionToken'];

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    { name: opts.name ?? 'vpcnet', level: opts.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
