/**
 * Flag parsing for every `courtside` subcommand: node's parseArgs in strict
 * mode, with its errors turned into one line and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly exitCode = 2;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    // parseArgs messages are long and mention internals; keep the gist.
    const msg = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]} (see --help)`);
    const missing = /Option '([^']+)' argument missing/.exec(msg);
    if (missing) throw new UsageError(`option ${missing[1]!.split(',').pop()!.trim().replace(/ <value>$/, '')} needs a value`);
    const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(msg);
    if (ambiguous) throw new UsageError(`option ${ambiguous[1]} got a value starting with '-'; write it as ${ambiguous[1]}=VALUE`);
    const positional = /Unexpected argument '([^']+)'/.exec(msg);
    if (positional) throw new UsageError(`unexpected argument '${positional[1]}' (see --help)`);
    throw new UsageError(msg.split('\n')[0]!);
  }
}

export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`);
  return value as T;
}

/** Runs a subcommand body, mapping UsageError to one stderr line and exit 2. */
export async function runCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`courtside: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
