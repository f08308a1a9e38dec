/**
 * What the gateway leaves on disk is its owner's alone (data folder 0700;
 * the SQLite file and its -wal and -shm 0600, also for a folder and file an
 * earlier version left 0755 / 0644), the operator API and UI answer only to
 * the gateway's own names and addresses (DNS rebinding), and no page may
 * frame the UI (`frame-ancestors 'none'`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startGateway } from '../../main/gateway/index.js';
import { silentLogger } from '../../main/gateway/log.js';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';

const mode = (p: string) => statSync(p).mode & 0o777;

/** A raw GET with the Host header as given (fetch will not send a foreign Host). */
function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { authorization: `Bearer ${OPERATOR_TOKEN}`, ...headers, host };
    const req = request({ host: '127.0.0.1', port, path, headers: h }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('file modes', () => {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  test('a new data folder is 0700, the SQLite file and its -wal and -shm 0600, with the usual umask 022', async () => {
    const root = mkdtempSync(join(tmpdir(), 'courtside-modes-'));
    roots.push(root);
    const dataDir = join(root, 'data');
    const old = process.umask(0o022);
    try {
      const gw = await startGateway({ host: '127.0.0.1', port: 0, dataDir, logger: silentLogger, statusLogIntervalMs: 0, parts: [] });
      const db = join(dataDir, 'courtside.sqlite');
      // A write so the WAL and shared-memory files exist.
      await gw.store.createRoom('MODES1', new Date());
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(db), 0o600);
      for (const side of ['-wal', '-shm']) {
        assert.ok(existsSync(db + side), `${side} exists while open`);
        assert.equal(mode(db + side), 0o600, side);
      }
      assert.equal(mode(join(dataDir, 'operator-token')), 0o600);
      await gw.close();
    } finally {
      process.umask(old);
    }
  });

  test('a data folder and database an earlier version left 0755 / 0644 are tightened; a foreign folder is not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'courtside-modes-'));
    roots.push(root);
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const first = await startGateway({ host: '127.0.0.1', port: 0, dataDir, logger: silentLogger, statusLogIntervalMs: 0, parts: [] });
    await first.close();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'courtside.sqlite'), 0o644);
    const again = await startGateway({ host: '127.0.0.1', port: 0, dataDir, logger: silentLogger, statusLogIntervalMs: 0, parts: [] });
    assert.equal(mode(dataDir), 0o700);
    assert.equal(mode(join(dataDir, 'courtside.sqlite')), 0o600);
    assert.equal(again.operatorToken, first.operatorToken, 'the same folder, still usable');
    await again.close();

    // A folder that is not a Courtside data folder (nothing of ours in it) keeps its mode.
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    writeFileSync(join(shared, 'notes.txt'), 'mine\n');
    const third = await startGateway({ host: '127.0.0.1', port: 0, dataDir: shared, operatorToken: OPERATOR_TOKEN, db: ':memory:', logger: silentLogger, statusLogIntervalMs: 0, parts: [] });
    assert.equal(mode(shared), 0o755);
    await third.close();
  });
});

describe('Host header and framing', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ allowedOrigins: ['http://console.example:8080'], allowedHosts: ['gateway.lan'], heartbeatIntervalMs: 0 });
  });
  after(async () => {
    await gw.stop();
  });

  test('the operator API refuses a foreign Host with 403 FORBIDDEN_HOST, even with the right token', async () => {
    for (const host of ['attacker.example', `attacker.example:${gw.port}`, 'localhost.attacker.example', '10.0.0.1.nip.io']) {
      const r = await get(gw.port, '/api/status', host);
      assert.equal(r.status, 403, host);
      assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'FORBIDDEN_HOST', host);
    }
    // /metrics is the operator's too.
    assert.equal((await get(gw.port, '/metrics', 'attacker.example')).status, 403);
    // The gateway's own names and addresses, and the allowed ones, pass.
    const me = hostname().toLowerCase();
    const own = [`127.0.0.1:${gw.port}`, '127.0.0.1', `localhost:${gw.port}`, 'LOCALHOST.', `[::1]:${gw.port}`, `${me}:${gw.port}`, `${me.split('.')[0]}.local`, 'gateway.lan', 'console.example'];
    for (const host of own) assert.equal((await get(gw.port, '/api/status', host)).status, 200, host);
  });

  test('the UI is refused under a foreign Host; /api/health stays open', async () => {
    assert.equal((await get(gw.port, '/', 'attacker.example')).status, 403);
    assert.equal((await get(gw.port, '/', `127.0.0.1:${gw.port}`)).status, 200);
    assert.equal((await get(gw.port, '/api/health', 'attacker.example')).status, 200);
  });

  test('the operator socket is refused (403) under a foreign Host', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, { headers: { host: 'attacker.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => (ws.terminate(), resolve(101)));
      ws.once('error', reject);
    });
    assert.equal(status, 403);
  });

  test('every page carries frame-ancestors \'none\' in its CSP', async () => {
    for (const path of ['/', '/no-such-page']) {
      const r = await get(gw.port, path, `127.0.0.1:${gw.port}`);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /(^|;\s*)frame-ancestors 'none'(;|$)/, path);
    }
  });
});

describe('--allow-host *', () => {
  test('turns the Host check off', async () => {
    const gw = await startTestGateway({ allowedHosts: ['*'], heartbeatIntervalMs: 0 });
    try {
      assert.equal((await get(gw.port, '/api/status', 'proxy.example')).status, 200);
    } finally {
      await gw.stop();
    }
  });
});
