/**
 * Entry point of the storage layer: one spec string picks the backend.
 *
 *   ./data/courtside.sqlite, /var/lib/courtside/db.sqlite, :memory:  -> SQLite
 *   mysql://user:pass@host:3306/courtside (or mariadb://...)          -> MySQL/MariaDB
 */
import { resolve } from 'node:path';
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

/** Opens (and migrates) the store named by spec. Throws StoreError with an operator-facing code. */
export async function openStore(spec: string): Promise<Store> {
  const p = parseSpec(spec);
  return p.kind === 'mysql' ? openMysqlStore(p.url) : openSqliteStore(p.path);
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
