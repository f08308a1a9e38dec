/**
 * `courtside export`: one session as a zip (samples.csv, strokes.csv,
 * summary.json, session.json), the same bytes as GET /api/sessions/:id/export,
 * straight from the database, so it works with the gateway stopped or running.
 * The zip is written to a temporary file beside the target and renamed into
 * place once complete and synced, so FILE is never a half-written zip.
 */
import { createWriteStream, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { defaultDataDir } from '../gateway/options.js';
import { exportSession } from '../gateway/sessions/export.js';
import type { Store } from '../gateway/store/types.js';
import { HELP_OPTION, parse, runCommand, UsageError } from './args.js';
import { DATABASE_FLAGS, DATABASE_HELP, openGatewayDatabase } from './database.js';
import { errorPrefix, signalExitCode, type CommandIO } from './io.js';

export const EXPORT_HELP = `Usage: courtside export --session ID --out FILE.zip [options]

Writes a session as a zip: samples.csv (device,time,ax,ay,az,gx,gy,gz),
strokes.csv, summary.json and session.json.

Options:
  --session ID       the session to export (required)
  --out FILE         the zip to write (required); replaced only once complete
${DATABASE_HELP(defaultDataDir())}  -h, --help         this help

The session ids: courtside sessions list.
`;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function exportCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      session: { type: 'string' },
      out: { type: 'string' },
      ...DATABASE_FLAGS,
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(EXPORT_HELP);
      return 0;
    }
    const sessionId = values.session?.trim();
    if (!sessionId) throw new UsageError('--session is required (see --help)');
    if (!values.out?.trim()) throw new UsageError('--out is required (see --help)');
    const out = resolve(io.cwd, values.out);
    const folder = dirname(out);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
      io.stderr.write(`${errorPrefix(io)} cannot write ${out}: folder ${folder} does not exist\n`);
      return 1;
    }
    let store: Store;
    try {
      store = (await openGatewayDatabase(values, io)).store;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.stderr.write(`${errorPrefix(io)} ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    try {
      if (!(await store.getSession(sessionId))) {
        io.stderr.write(`${errorPrefix(io)} session ${sessionId} not found (see courtside sessions list)\n`);
        return 1;
      }
      const bytes = await writeAtomically(io, out, (stream) => exportSession(store, sessionId, stream));
      io.stdout.write(`exported session ${sessionId} to ${out} (${sizeText(bytes)})\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`${errorPrefix(io)} export of session ${sessionId} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    } finally {
      await store.close();
    }
  });
}

/**
 * Runs `write` into a temporary file in the target's folder (same file
 * system, so the rename is atomic), syncs it and renames it over `out`.
 * On failure or Ctrl-C the temporary file is removed and `out` is untouched.
 * A stop ends the process, as the signal would have without us (a database
 * read cannot be cancelled halfway), once the temporary file is gone.
 */
async function writeAtomically(io: CommandIO, out: string, write: (stream: Writable) => Promise<void>): Promise<number> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const dispose = io.onStop((signal) => {
    void rm(tmp, { force: true }).finally(() => process.exit(signalExitCode(signal)));
  });
  try {
    const stream = createWriteStream(tmp, { flags: 'wx' });
    await write(stream);
    const fh = await open(tmp, 'r+');
    let size: number;
    try {
      await fh.sync();
      size = (await fh.stat()).size;
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
    return size;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    dispose();
  }
}
