/**
 * `courtside nvs generate`, taking the same arguments as
 * `nvs_partition_gen.py generate` so existing provisioning scripts port over
 * by swapping the program name. Encryption (encrypt/decrypt/generate-key) is
 * not offered.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, extname, isAbsolute, join } from 'node:path';
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

export interface NvsCommandIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** Stands in for process.cwd(): relative inputs, outputs and `file` rows. */
  cwd?: string;
}

class UsageError extends Error {}

interface GenerateArgs { inputs: string[]; output: string; size: string; version: 1 | 2; outdir: string | undefined }

function parseArgs(args: string[]): GenerateArgs {
  const positional: string[] = [];
  let version: 1 | 2 = 2;
  let outdir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^(--version|--outdir)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new UsageError(`${m[1]} needs a value`);
      if (m[1] === '--outdir') outdir = value;
      else if (value === '1' || value === '2') version = Number(value) as 1 | 2;
      else throw new UsageError(`--version must be 1 or 2 (got '${value}')`);
    } else if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option '${a}'`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length < 3) {
    throw new UsageError('expected <input.csv>... <output.bin> <size>; see courtside nvs --help');
  }
  const size = positional.pop()!;
  const output = positional.pop()!;
  return { inputs: positional, output, size, version, outdir };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs `courtside nvs ...` (argv after `nvs`); resolves to the exit code. */
export async function nvsCommand(argv: string[], io: NvsCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const err = io.err ?? ((t: string) => void process.stderr.write(t));
  const cwd = io.cwd ?? process.cwd();
  const complain = (msg: string, code: number): number => { err(`courtside nvs: ${oneLine(msg)}\n`); return code; };

  if (argv.includes('-h') || argv.includes('--help')) { out(NVS_USAGE); return 0; }
  const [command, ...rest] = argv;
  if (command === undefined) { err(NVS_USAGE); return 2; }
  if (command !== 'generate') {
    return complain(`unknown command '${command}'; only 'generate' is supported (see courtside nvs --help)`, 2);
  }

  let target: string;
  let image: Buffer;
  try {
    const args = parseArgs(rest);
    const size = parseNvsSize(args.size);
    // Checked up front, as the tool does, so a typo does not cost a generation.
    if (extname(args.output) !== '.bin') throw new UsageError(`output '${args.output}' must end in .bin`);
    const entries: NvsEntry[] = [];
    for (const input of args.inputs) {
      let text: string;
      try { text = readFileSync(isAbsolute(input) ? input : join(cwd, input), 'utf8'); } catch (e) {
        throw new UsageError(`cannot read '${input}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      entries.push(...csvRowsToEntries(parseNvsCsv(text, input), { baseDir: cwd, source: input }));
    }
    image = generateNvsPartition(entries, size, { version: args.version });
    const outdir = args.outdir === undefined ? cwd : isAbsolute(args.outdir) ? args.outdir : join(cwd, args.outdir);
    // Like the tool, an absolute output ignores --outdir.
    target = isAbsolute(args.output) ? args.output : join(outdir, args.output);
  } catch (e) {
    if (e instanceof UsageError) return complain(e.message, 2);
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
  out(`Created NVS binary (${image.length} bytes): ${target}\n`);
  return 0;
}
