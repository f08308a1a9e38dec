/**
 * The storing floor of the fan-out bench (servers/bare-relay.ts --store): every
 * frame a board sends reaches the subscriber and is in the SQLite file, byte
 * for byte, read back by Python's sqlite3 (not the code that wrote it), with
 * the journal mode and durability the bench claims for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { ROOT } from '../support/cli.js';

const run = promisify(execFile);

test('bare-store relays every frame and stores its bytes in a WAL SQLite file', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-bare-store-'));
  const file = join(dir, 'frames.sqlite');
  const server = spawn(process.execPath, ['--import', 'tsx', 'test/bench/servers/bare-relay.ts', '--store', file], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((ok, ko) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => { out += d.toString(); const m = /READY (\d+)/.exec(out); if (m) ok(Number(m[1])); });
      server.once('exit', (c) => ko(new Error(`exited ${c}`)));
    });
    const open = (path: string) => new Promise<WebSocket>((ok, ko) => { const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`); ws.once('open', () => ok(ws)); ws.once('error', ko); });
    const sub = await open('/sub');
    const got: Buffer[] = [];
    sub.on('message', (d: Buffer) => got.push(Buffer.from(d)));
    const boards = [await open('/board/a'), await open('/board/b')];
    const sent: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const body = i % 2 ? Buffer.from([i, 0, 255, 7, i]) : Buffer.from(`{"type":"batch_sensor_data","seq":${i},"samples":[[0.5,1,2,3,4,5]]}`);
      sent.push(body);
      boards[i % 2]!.send(body, { binary: i % 2 === 1 });
    }
    for (let t = 0; t < 100 && got.length < sent.length; t++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, sent.length, 'every frame relayed');
    await new Promise((r) => setTimeout(r, 200));
    const py = `import sqlite3,sys,json
c=sqlite3.connect(sys.argv[1])
print(json.dumps({"mode":c.execute("PRAGMA journal_mode").fetchone()[0],"rows":[r[0].hex() if isinstance(r[0],bytes) else r[0].encode().hex() for r in c.execute("SELECT body FROM frames ORDER BY id")]}))`;
    const { stdout } = await run('python3', ['-c', py, file]);
    const stored = JSON.parse(stdout) as { mode: string; rows: string[] };
    assert.equal(stored.mode, 'wal');
    assert.deepEqual(stored.rows.sort(), sent.map((b) => b.toString('hex')).sort());
    for (const ws of [...boards, sub]) ws.close();
  } finally {
    server.stdin.end();
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
