/**
 * `courtside nvs generate`, taking the same arguments as
 * `nvs_partition_gen.py generate` so existing provisioning scripts port over
 * by swapping the program name. Encryption (encrypt/decrypt/generate-key) is
 * not offered.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { choiceFlag, closest, parse, runCommand, UsageError } from '../../../cli/args.js';
import type { CommandIO } from '../../../cli/io.js';
import { NvsError, parseNvsCsv } from './csv.js';
import { csvRowsToEntries, generateNvsPartition, parseNvsSize, type NvsEntry } from './generate.js';

export const NVS_USAGE = `Usage: courtside nvs generate <input.csv>... <output.bin> <size> [--version 1|2] [--outdir DIR]

Builds an NVS partition image byte-identical to ESP-IDF's nvs_partition_gen.py.

  <input.csv>   CSV with the header key,type,encoding,value (more than one is
                read as if concatenated); relative paths in \`file\` rows start
                at the current directory, as with the ESP-IDF tool
  <output.bin>  image to write (must end in .bin); written whole or not at all
  <size>        partition size in bytes, decimal or 0x hex; a multiple of 4096,
                at least 0x3000
  --version     2 (default): blobs split across pages; 1: pre-v4.0 format
  --outdir      directory for a relative <output.bin> (default: current)
  -h, --help    show this help
`;

interface GenerateArgs { inputs: string[]; output: string; size: string; version: 1 | 2; outdir: string | undefined }

function parseGenerateArgs(args: string[]): GenerateArgs {
  const { values, positionals } = parse(args, { version: { type: 'string' }, outdir: { type: 'string' } }, true);
  const version = choiceFlag('version', values.version, ['1', '2'] as const) ?? '2';
  if (positionals.length < 3) {
    throw new UsageError('expected <input.csv>... <output.bin> <size>; see courtside nvs --help');
  }
  const size = positionals.pop()!;
  const output = positionals.pop()!;
  return { inputs: positionals, output, size, version: Number(version) as 1 | 2, outdir: values.outdir };
}

/** Runs `courtside nvs ...` (argv after `nvs`); resolves to the exit code. */
export function nvsCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, () => nvs(argv, io), { prefix: 'courtside nvs' });
}

async function nvs(argv: string[], io: CommandIO): Promise<number> {
  const cwd = io.cwd;
  const complain = (msg: string, code: number): number => {
    io.stderr.write(`courtside nvs: ${msg.replace(/\s*\n\s*/g, ' ').trim()}\n`);
    return code;
  };

  // Help wins wherever it is, as with the ESP-IDF tool.
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout.write(NVS_USAGE);
    return 0;
  }
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr.write(NVS_USAGE);
    return 2;
  }
  if (command !== 'generate') {
    const near = closest(command, ['generate']);
    throw new UsageError(`unknown command '${command}'; ${near ? `did you mean ${near}? ` : ''}only 'generate' is supported (see courtside nvs --help)`);
  }

  let target: string;
  let image: Buffer;
  try {
    const args = parseGenerateArgs(rest);
    const size = parseNvsSize(args.size);
    // Checked up front, as the tool does, so a typo does not cost a generation.
    if (extname(args.output) !== '.bin') throw new UsageError(`output '${args.output}' must end in .bin`);
    const entries: NvsEntry[] = [];
    for (const input of args.inputs) {
      let text: string;
      try {
        text = readFileSync(isAbsolute(input) ? input : join(cwd, input), 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read '${input}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      entries.push(...csvRowsToEntries(parseNvsCsv(text, input), { baseDir: cwd, source: input }));
    }
    image = generateNvsPartition(entries, size, { version: args.version });
    const outdir = args.outdir === undefined ? cwd : isAbsolute(args.outdir) ? args.outdir : join(cwd, args.outdir);
    // Like the tool, an absolute output ignores --outdir.
    target = isAbsolute(args.output) ? args.output : join(outdir, args.output);
  } catch (e) {
    if (e instanceof NvsError) return complain(`${e.message} (${e.code})`, 2);
    throw e;
  }

  // A temp file in the same directory and a rename, so a reader never sees a
  // half-written image and a failed run leaves any previous image in place.
  const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.nvs-tmp`);
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(temp, image);
    renameSync(temp, target);
  } catch (e) {
    try { unlinkSync(temp); } catch { /* never created */ }
    return complain(`cannot write '${target}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 1);
  }
  io.stdout.write(`Created NVS binary (${image.length} bytes): ${target}\n`);
  return 0;
}
