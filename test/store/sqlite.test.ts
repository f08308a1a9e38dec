import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { describeStoreSpec, openStore } from '../../main/gateway/store/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../main/gateway/store/migrations.js';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import { storeContract } from './contract.js';
import { sessionsContract } from './contract-sessions.js';
import { correctionsContract } from './contract-corrections.js';

const dir = mkdtempSync(join(tmpdir(), 'courtside-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Nested folders that do not exist yet: opening must create them.
const file = join(dir, 'nested', 'deeper', 'courtside.sqlite');
storeContract('sqlite', () => openSqliteStore(file));
sessionsContract('sqlite', () => openSqliteStore(join(dir, 'sessions.sqlite')));
correctionsContract('sqlite', () => openSqliteStore(join(dir, 'corrections.sqlite')));

const isCode = (code: string) => (e: unknown) => (e as { code?: unknown }).code === code;

describe('sqlite backend', () => {
  test('creates the parent folders and leaves the file in WAL mode', async () => {
    const s = await openSqliteStore(file);
    await s.close();
    assert.ok(existsSync(file));
    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      const versions = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    } finally {
      raw.close();
    }
  });

  test(':memory: opens a working, migrated store', async () => {
    const s = await openSqliteStore(':memory:');
    try {
      assert.equal(s.kind, 'sqlite');
      assert.equal(s.description, 'sqlite::memory:');
      assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
      assert.equal(await s.createRoom('r', new Date(1)), true);
      assert.equal(await s.roomExists('r'), true);
    } finally {
      await s.close();
    }
  });

  test('openStore takes a path to SQLite; description is the absolute path', async () => {
    const s = await openStore(join(dir, 'via-open-store.sqlite'));
    try {
      assert.equal(s.kind, 'sqlite');
      assert.equal(s.description, `sqlite:${join(dir, 'via-open-store.sqlite')}`);
    } finally {
      await s.close();
    }
    assert.equal(describeStoreSpec('data/x.sqlite'), `sqlite:${resolve('data/x.sqlite')}`);
  });

  test('a file that is not a database fails with STORE_OPEN_FAILED naming the file', async () => {
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database, just text long enough to have a header'.repeat(20));
    await assert.rejects(openSqliteStore(junk), (e: unknown) => isCode('STORE_OPEN_FAILED')(e) && String((e as Error).message).includes(junk));
  });

  test('a folder that cannot be created fails with STORE_OPEN_FAILED', async () => {
    const plainFile = join(dir, 'plain-file');
    writeFileSync(plainFile, 'x');
    await assert.rejects(openSqliteStore(join(plainFile, 'sub', 'db.sqlite')), isCode('STORE_OPEN_FAILED'));
  });

  test('a database migrated by a newer gateway is refused with STORE_SCHEMA_TOO_NEW', async () => {
    const newer = join(dir, 'newer.sqlite');
    await (await openSqliteStore(newer)).close();
    const raw = new Database(newer);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'future', Date.now());
    raw.close();
    await assert.rejects(openSqliteStore(newer), isCode('STORE_SCHEMA_TOO_NEW'));
  });

  test('two processes migrating the same new file at once both succeed, once', async () => {
    const shared = join(dir, 'race', 'shared.sqlite');
    const sqliteModule = fileURLToPath(new URL('../../main/gateway/store/sqlite.ts', import.meta.url));
    const script = `import { openSqliteStore } from ${JSON.stringify(sqliteModule)};
      const s = await openSqliteStore(${JSON.stringify(shared)});
      await s.enqueueCommand({ commandId: String(process.pid), deviceId: 'd', command: 'c', params: null, createdAt: new Date() });
      console.log(await s.schemaVersion());
      await s.close();`;
    const runOne = () => new Promise<string>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => { out += b; });
      child.stderr.on('data', (b: Buffer) => { err += b; });
      child.on('error', fail);
      child.on('exit', (code) => (code === 0 ? done(out.trim()) : fail(new Error(`child exited ${code}: ${err}`))));
    });
    const outputs = await Promise.all([runOne(), runOne()]);
    assert.deepEqual(outputs, [String(LATEST_SCHEMA_VERSION), String(LATEST_SCHEMA_VERSION)]);
    const raw = new Database(shared, { readonly: true });
    try {
      assert.equal(raw.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get(), MIGRATIONS.length);
      assert.equal(raw.prepare('SELECT COUNT(*) FROM commands').pluck().get(), 2);
    } finally {
      raw.close();
    }
  });
});
