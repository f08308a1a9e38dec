/**
 * `courtside export`: one session as a zip (samples.csv, strokes.csv,
 * summary.json, session.json), the same bytes as GET /api/sessions/:id/export,
 * straight from the database, so it works with the gateway stopped or running.
 * The zip is written to a temporary file beside the target and renamed into
 * place once complete and synced, so FILE is never a half-written zip.
 */
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { defaultDataDir } from '../gateway/options.js';
import { openStore } from '../gateway/store/index.js';
import { exportSession } from '../gateway/sessions/export.js';
import type { Store } from '../gateway/store/types.js';
import { parse, runCommand, UsageError } from './args.js';

export const EXPORT_HELP = `Usage: courtside export --session ID --out FILE.zip [options]

Writes a session as a zip: samples.csv (device,time,ax,ay,az,gx,gy,gz),
strokes.csv, summary.json and session.json.

Options:
  --session ID       the session to export (required)
  --out FILE         the zip to write (required); replaced only once complete
  --db SPEC          SQLite file path or mysql://user:pass@host:port/db
                     (default <data-dir>/courtside.sqlite)
  --data-dir DIR     data folder (default ${defaultDataDir()})
  -h, --help         this help
`;

function isMysql(spec: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(spec.trim());
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function exportCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { values } = parse(argv, {
      session: { type: 'string' },
      out: { type: 'string' },
      db: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(EXPORT_HELP);
      return 0;
    }
    const sessionId = values.session?.trim();
    if (!sessionId) throw new UsageError('--session is required (see --help)');
    if (!values.out?.trim()) throw new UsageError('--out is required (see --help)');
    if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
    const out = resolve(values.out);
    const db = values.db ?? join(values['data-dir'] ?? defaultDataDir(), 'courtside.sqlite');

    const folder = dirname(out);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
      process.stderr.write(`courtside: cannot write ${out}: folder ${folder} does not exist\n`);
      return 1;
    }
    // Opening a SQLite path creates the file: an export must not leave an empty database behind a typo.
    if (!isMysql(db) && db !== ':memory:' && !existsSync(db)) {
      process.stderr.write(`courtside: no database at ${resolve(db)} (give --db or --data-dir)\n`);
      return 1;
    }
    let store: Store;
    try {
      store = await openStore(db);
    } catch (err) {
      process.stderr.write(`courtside: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    try {
      if (!(await store.getSession(sessionId))) {
        process.stderr.write(`courtside: session ${sessionId} not found\n`);
        return 1;
      }
      const bytes = await writeAtomically(out, (stream) => exportSession(store, sessionId, stream));
      process.stdout.write(`exported session ${sessionId} to ${out} (${sizeText(bytes)})\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`courtside: export of session ${sessionId} failed: ${err instanceof Error ? err.message : String(err)}\n`);
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
 */
async function writeAtomically(out: string, write: (stream: Writable) => Promise<void>): Promise<number> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const onSignal = (signal: NodeJS.Signals) => {
    void rm(tmp, { force: true }).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
