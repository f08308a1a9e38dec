/**
 * Flag parsing for every `courtside` command: node's parseArgs in strict
 * mode, its errors turned into one line (with a did-you-mean for a mistyped
 * option) and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorPrefix, type CommandIO } from './io.js';

export class UsageError extends Error {
  readonly exitCode = 2;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The `-h, --help` switch every command has. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** What parse returns, named so the package's declarations can spell it. */
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>>;

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw usageError(err, argv, options);
  }
}

/** parseArgs messages are long and mention internals; keep the gist. */
function usageError(err: unknown, argv: readonly string[], options: Options): UsageError {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return unknownOption(unknown[1]!, argv, options);
  const missing = /Option '([^']+)' argument missing/.exec(msg);
  if (missing) return new UsageError(`option ${missing[1]!.split(',').pop()!.trim().replace(/ <value>$/, '')} needs a value`);
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(msg);
  if (ambiguous) return new UsageError(`option ${ambiguous[1]} got a value starting with '-'; write it as ${ambiguous[1]}=VALUE`);
  const noValue = /Option '([^']+)' does not take an argument/.exec(msg);
  if (noValue) return new UsageError(`option ${noValue[1]!.split(',').pop()!.trim()} takes no value`);
  const positional = /Unexpected argument '([^']+)'/.exec(msg);
  if (positional) return new UsageError(`unexpected argument '${positional[1]}' (see --help)`);
  return new UsageError(msg.split('\n')[0]!);
}

function unknownOption(reported: string, argv: readonly string[], options: Options): UsageError {
  let shown = reported;
  let typed = reported.replace(/^--?/, '');
  // `-port` is read as the short flags -p -o -r -t, and the complaint names one letter; the
  // user meant the word.
  if (!reported.startsWith('--')) {
    const word = argv.find((a) => /^-[^-]/.test(a) && a.length > 2 && a.slice(1).split('=')[0]!.includes(reported.slice(1)));
    if (word) {
      shown = word.split('=')[0]!;
      typed = shown.slice(1);
    }
  }
  const near = closest(typed, Object.keys(options));
  return new UsageError(`unknown option ${shown} ${near ? `(did you mean --${near}?)` : '(see --help)'}`);
}

/**
 * The candidate nearest to `typed`, if it is close enough to be a typo: one
 * edit for short words, two for longer ones.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const limit = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(typed.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/**
 * Levenshtein distance counting a swap of neighbours as one edit (--prot for
 * --port). Written here, not taken from a library: a dozen lines over option
 * names of a few characters, where a dependency would cost more than it saves.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** A whole number (no sign) in [min, max]. */
export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${readAs(value, n, false)}`);
  return n;
}

/**
 * The value as typed, and what it was read as when that differs (1e-400 is 0
 * as a number, 99999999999999999999 is 100000000000000000000): an error that
 * says "above 0, got '1e-400'" would contradict itself.
 */
function readAs(value: string, n: number, quoted: boolean): string {
  const typed = quoted ? `'${value}'` : value.trim();
  const underflow = n === 0 && /[1-9]/.test(value.replace(/e.*$/i, ''));
  const lost = !Number.isFinite(n) ? !Number.isNaN(n) : Number.isInteger(n) && !Number.isSafeInteger(n);
  return underflow || lost ? `${typed} (read as ${n})` : typed;
}

export interface NumberRange {
  /** Lowest value allowed. */
  min?: number;
  /** Values must be greater than this (for "any positive length"). */
  above?: number;
  max: number;
  integer?: boolean;
}

/** A number (decimals and exponents allowed) in a range. */
export function numberFlag(name: string, value: string | undefined, range: NumberRange): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const low = range.above !== undefined ? n > range.above : n >= (range.min ?? -Infinity);
  if (value.trim() === '' || !Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || !low || n > range.max) {
    const from = range.above !== undefined ? `above ${range.above} up to ${range.max}` : range.min !== undefined ? `from ${range.min} to ${range.max}` : `up to ${range.max}`;
    throw new UsageError(`--${name} must be ${range.integer ? 'an integer' : 'a number'} ${from}, got ${readAs(value, n, true)}`);
  }
  return n;
}

export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  const near = closest(value, choices);
  throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'${near ? ` (did you mean ${near}?)` : ''}`);
}

export interface RunOptions {
  /** What starts the error line; default `courtside <command>` (the dispatcher's), else `courtside`. */
  prefix?: string;
  /** Ends usage errors with "(see --help)" when they do not already point somewhere. */
  seeHelp?: boolean;
}

/** Runs a command body, turning a UsageError into one line on stderr and exit code 2. */
export async function runCommand(io: CommandIO, body: () => Promise<number>, opts: RunOptions = {}): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    let line = err.message.replace(/\s*\n\s*/g, ' ').trim();
    if (opts.seeHelp && !/\((see |did you mean )/.test(line)) line += ' (see --help)';
    io.stderr.write(`${opts.prefix ? `${opts.prefix}:` : errorPrefix(io)} ${line}\n`);
    return err.exitCode;
  }
}
