// A small layer over node:util parseArgs: every command declares its options once, and gets
// `--help` text and one-line usage errors (code USAGE, exit 2 in main.ts) from that list.
import { parseArgs } from 'node:util';
import { VpcnetError } from '../errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in the help, e.g. 'N' or 'FILE'. */
  value?: string;
  description: string;
  /** Shown in the help; the command applies it itself. */
  default?: string;
}

export interface CommandSpec {
  /** As typed: 'vpcnet emulator aws'. */
  name: string;
  summary: string;
  /** Positional part of the synopsis, e.g. '<cloud>'. */
  args?: string;
  options: Record<string, OptionSpec>;
  /** Extra paragraphs after the option list. */
  notes?: string;
  /** How many positionals the command takes (default 0). */
  maxPositionals?: number;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function helpText(spec: CommandSpec): string {
  const options = { ...spec.options, help: HELP };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, `${o.description}${o.default !== undefined ? ` (default ${o.default})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  const lines = [
    `${spec.name} - ${spec.summary}`,
    '',
    `Usage: ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`,
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
  ];
  if (spec.notes) lines.push('', spec.notes);
  return lines.join('\n');
}

/** The synopsis and where the options are: what follows a usage error. */
export function shortUsage(spec: CommandSpec): string {
  return `Usage: ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]\nRun "${spec.name} --help" for the options.`;
}

/** A user's mistake: main.ts prints the message, then the command's usage, and exits 2. */
export function usageError(spec: CommandSpec | undefined, message: string, cause?: unknown): VpcnetError {
  return new VpcnetError('USAGE', message, {
    ...(cause === undefined ? {} : { cause }),
    details: { command: spec?.name ?? 'vpcnet', usage: spec ? shortUsage(spec) : undefined },
  });
}

/** Parses argv against the spec; returns 'help' when --help/-h is given. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed | 'help' {
  const options: Record<string, OptionSpec> = { ...spec.options, help: HELP };
  const { tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Parsed['values'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    const o = options[t.name];
    if (!o) throw usageError(spec, `unknown option ${t.rawName}`);
    if (t.name === 'help') return 'help';
    if (o.type === 'boolean') {
      if (t.inlineValue) throw usageError(spec, `option ${t.rawName} takes no value`);
      values[t.name] = true;
    } else {
      // parseArgs (strict: false) leaves a missing value undefined, or takes the next option.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && isOptionLike(t.value))) {
        throw usageError(spec, `option ${t.rawName} needs a value${o.value ? ` (${o.value})` : ''}`);
      }
      values[t.name] = t.value;
    }
  }
  if (positionals.length > (spec.maxPositionals ?? 0)) throw usageError(spec, `unexpected argument "${positionals[spec.maxPositionals ?? 0]}"`);
  return { values, positionals };
}

function isOptionLike(text: string): boolean {
  return /^--?[A-Za-z]/.test(text);
}

export function stringValue(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number in [min, max], or the fallback when the option is absent. */
export function intValue(spec: CommandSpec, p: Parsed, name: string, range: { min: number; max: number }, fallback: number): number;
export function intValue(spec: CommandSpec, p: Parsed, name: string, range: { min: number; max: number }): number | undefined;
export function intValue(spec: CommandSpec, p: Parsed, name: string, range: { min: number; max: number }, fallback?: number): number | undefined {
  const text = stringValue(p, name);
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw usageError(spec, `--${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`);
  }
  return n;
}

/** A finite number >= min (fractions allowed), or the fallback. */
export function numberValue(spec: CommandSpec, p: Parsed, name: string, min: number, fallback: number, exclusiveMin = false): number {
  const text = stringValue(p, name);
  if (text === undefined) return fallback;
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || n < min || (exclusiveMin && n === min)) {
    throw usageError(spec, `--${name} must be a number ${exclusiveMin ? 'above' : 'of at least'} ${min}, got "${text}"`);
  }
  return n;
}
