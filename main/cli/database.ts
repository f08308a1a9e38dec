/**
 * The database of the commands that read what a gateway stored (export,
 * sessions), found the way `courtside serve` finds it: --db, else the `db`
 * of the data folder's settings.json, else <data-dir>/courtside.sqlite, the
 * data folder being --data-dir, else COURTSIDE_DATA_DIR, else the user's.
 * Every failure says which folder and database were looked at.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultDataDir } from '../gateway/options.js';
import { optionsFromSettings, readSettings } from '../gateway/settings.js';
import { openStore } from '../gateway/store/index.js';
import type { Store } from '../gateway/store/types.js';
import { UsageError } from './args.js';
import type { CommandIO } from './io.js';

export const DATABASE_FLAGS = { db: { type: 'string' }, 'data-dir': { type: 'string' } } as const;

export const DATABASE_HELP = (dataDir: string) => `  --db SPEC          SQLite file path or mysql://user:pass@host:port/db
                     (default: settings.json's, else <data-dir>/courtside.sqlite, as serve)
  --data-dir DIR     data folder (default ${dataDir})
`;

function isUrl(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec.trim());
}

/** A password in a database URL is not printed. */
export function safeSpec(spec: string): string {
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}

export interface FoundDatabase {
  store: Store;
  dataDir: string;
  spec: string;
}

/** Opens the database; a missing one is a one-line error naming where it looked (never an empty file made). */
export async function openGatewayDatabase(values: { db?: string; 'data-dir'?: string }, io: CommandIO): Promise<FoundDatabase> {
  if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
  const dataDir = values['data-dir'] === undefined ? defaultDataDir(io.env) : resolve(io.cwd, values['data-dir']);
  let spec = values.db?.trim();
  let from = '--db';
  if (spec === undefined) {
    let saved: string | undefined;
    try {
      saved = optionsFromSettings(readSettings(dataDir)).db;
    } catch (err) {
      throw new Error(`${join(dataDir, 'settings.json')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    spec = saved ?? join(dataDir, 'courtside.sqlite');
    from = saved ? `settings.json in ${dataDir}` : `data folder ${dataDir}`;
  }
  if (!isUrl(spec) && spec !== ':memory:') {
    spec = resolve(io.cwd, spec); // as serve opens it
    if (!existsSync(spec)) throw new Error(`no database at ${spec} (looked in the ${from}; give --db or --data-dir)`);
  }
  try {
    return { store: await openStore(spec), dataDir, spec };
  } catch (err) {
    throw new Error(`cannot open ${safeSpec(spec)} (from the ${from}): ${err instanceof Error ? err.message : String(err)}`);
  }
}
