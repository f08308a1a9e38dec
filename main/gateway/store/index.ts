/**
 * Entry point of the storage layer: one spec string picks the backend.
 *
 *   ./data/courtside.sqlite, /var/lib/courtside/db.sqlite, :memory:  -> SQLite
 *   mysql://user:pass@host:3306/courtside (or mariadb://...)          -> MySQL/MariaDB
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError } from './errors.js';
import { describeMysqlTarget, maskUrlPassword, openMysqlStore, parseMysqlUrl } from './mysql.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type * from './types.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { openMysqlStore } from './mysql.js';
export { openSqliteStore } from './sqlite.js';

type ParsedSpec = { kind: 'sqlite'; path: string } | { kind: 'mysql'; url: string };

function parseSpec(spec: string): ParsedSpec {
  const s = spec.trim();
  if (!s) throw new StoreError('STORE_BAD_URL', 'empty store spec: give a SQLite file path or a mysql:// URL');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s)?.[1]?.toLowerCase();
  if (scheme === 'mysql' || scheme === 'mariadb') return { kind: 'mysql', url: s };
  if (scheme !== undefined) {
    throw new StoreError('STORE_BAD_URL',
      `unsupported store URL scheme '${scheme}:' in ${maskUrlPassword(s)} (use a SQLite file path, mysql:// or mariadb://)`);
  }
  return { kind: 'sqlite', path: s };
}

/**
 * The database file readable by its owner only (0600), made so before SQLite opens it: SQLite
 * gives the -wal and -shm files it creates the main file's mode, so they follow. A file of ours
 * an earlier version left 0644 is tightened; one owned by another user (a deliberately shared
 * file) is left as it is. The folder a new file goes in is made 0700.
 */
function privateSqliteFile(path: string): void {
  if (path === ':memory:' || path === '') return;
  const file = resolve(path);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
    const st = statSync(file);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if (mine && st.isFile() && (st.mode & 0o077) !== 0) chmodSync(file, st.mode & 0o600);
  } catch {
    // Not ours to fix (read-only folder, another owner): SQLite's own open reports what matters.
  }
}

/** Opens (and migrates) the store named by spec. Throws StoreError with an operator-facing code. */
export async function openStore(spec: string): Promise<Store> {
  const p = parseSpec(spec);
  if (p.kind === 'mysql') return openMysqlStore(p.url);
  privateSqliteFile(p.path);
  return openSqliteStore(p.path);
}

/** The spec as an operator may see it: password masked, SQLite path made absolute. Never throws. */
export function describeStoreSpec(spec: string): string {
  try {
    const p = parseSpec(spec);
    if (p.kind === 'mysql') return describeMysqlTarget(parseMysqlUrl(p.url));
    return p.path === ':memory:' ? 'sqlite::memory:' : `sqlite:${resolve(p.path)}`;
  } catch {
    return maskUrlPassword(spec.trim());
  }
}
