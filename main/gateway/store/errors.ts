/**
 * Store failures an operator may see. The code is stable (logs, exit reasons,
 * docs can key on it); the message is one line and never holds a password.
 */
export type StoreErrorCode =
  /** The spec/URL cannot be understood (bad scheme, no database name, ...). */
  | 'STORE_BAD_URL'
  /** The MySQL server cannot be reached, or the connection dropped. */
  | 'STORE_CONNECT_FAILED'
  /** The MySQL server refused the user/password or the database. */
  | 'STORE_ACCESS_DENIED'
  /** The SQLite file cannot be created or opened (permissions, not a database). */
  | 'STORE_OPEN_FAILED'
  /** Applying a migration failed, or the migration lock was not obtained. */
  | 'STORE_MIGRATION_FAILED'
  /** The database was migrated by a newer gateway than this one. */
  | 'STORE_SCHEMA_TOO_NEW'
  /** The store was closed; no further calls are accepted. */
  | 'STORE_CLOSED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    // Keep it to one line: messages land in single-line log records.
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

/** First line of an unknown thrown value, for embedding in a StoreError message. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'unknown error');
}
