/**
 * TLS as a setting: `tls` in settings.json through get_settings and
 * set_settings, a restart that reads it (plain http:// with false, HTTPS
 * with true), `--tls` and `--no-tls` over the file, and the desktop app's
 * default (on unless the file says false).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_TOKEN, startTestGateway, TestClient } from '../support/gateway.js';
import { opensslFingerprint, pinnedRequest, pinnedWs, rawHttp } from '../support/tls.js';
import { startGateway } from '../../main/gateway/index.js';
import { launchOptions } from '../../main/gateway/launch.js';
import { silentLogger } from '../../main/gateway/log.js';
import { desktopGatewayOptions } from '../../main/electron/compose.js';
import { serveCommand } from '../../main/cli/serve.js';
import { captureIO, runInProcess } from '../support/cli.js';

const OFF = { COURTSIDE_DISCOVERY: 'off' };
const local = { host: '127.0.0.1', port: 0, operatorToken: OPERATOR_TOKEN, logger: silentLogger, statusLogIntervalMs: 0, env: OFF };

describe('tls in the settings file', { timeout: 60_000 }, () => {
  test('set_settings saves tls, get_settings gives it back with what runs now, and a bad value is refused', async () => {
    const gw = await startTestGateway({ tls: true });
    const op = await TestClient.connect(`wss://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(gw.fingerprint!));
    try {
      const saved = await op.ask({ type: 'set_settings', id: 's1', settings: { port: 8765, tls: false } }, (f) => f.id === 's1');
      assert.equal(saved.type, 'settings', JSON.stringify(saved));
      assert.deepEqual(saved.saved, { port: 8765, tls: false });
      assert.equal((saved.running as { tls: boolean }).tls, true);
      assert.ok((saved.restart_required as string[]).includes('tls'));
      assert.deepEqual(JSON.parse(readFileSync(join(gw.dataDir, 'settings.json'), 'utf8')), { port: 8765, tls: false });
      const got = await op.ask({ type: 'get_settings', id: 's2' }, (f) => f.id === 's2');
      assert.deepEqual(got.saved, { port: 8765, tls: false });
      const bad = await op.ask({ type: 'set_settings', id: 's3', settings: { tls: 'yes' } }, (f) => f.id === 's3');
      assert.equal(bad.type, 'error');
      assert.equal(bad.code, 'BAD_FRAME');
      assert.match(String(bad.message), /tls/);
      // The file is as it was: a refused request writes nothing.
      assert.deepEqual(JSON.parse(readFileSync(join(gw.dataDir, 'settings.json'), 'utf8')), { port: 8765, tls: false });
      // Saved the same as running: nothing waits for a restart.
      const same = await op.ask({ type: 'set_settings', id: 's4', settings: { tls: true } }, (f) => f.id === 's4');
      assert.ok(!(same.restart_required as string[]).includes('tls'), JSON.stringify(same.restart_required));
    } finally {
      await op.close();
      await gw.stop();
    }
  });

  test('a restart with tls false in the file serves plain http:// and ws://; with true, HTTPS and nothing with a token in clear text', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-tls-setting-'));
    try {
      writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ tls: false, db: ':memory:' }));
      let gw = await startGateway({ ...launchOptions({ dataDir }), ...local });
      try {
        assert.equal(gw.fingerprint, null);
        assert.match(gw.url, /^ws:\/\//);
        const r = await fetch(`http://127.0.0.1:${gw.port}/api/status`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
        assert.equal(r.status, 200);
        assert.ok(!existsSync(join(dataDir, 'tls-cert.pem')), 'no certificate is made');
      } finally {
        await gw.close();
      }
      writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ tls: true, db: ':memory:' }));
      gw = await startGateway({ ...launchOptions({ dataDir }), ...local });
      try {
        const fp = opensslFingerprint(join(dataDir, 'tls-cert.pem'));
        assert.equal(gw.fingerprint, fp);
        assert.equal((await pinnedRequest(`https://127.0.0.1:${gw.port}/api/status`, fp, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).status, 200);
        const plain = await rawHttp(gw.port, `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\nConnection: close\r\n\r\n`);
        assert.match(plain, /^HTTP\/1\.1 4\d\d /);
        assert.ok(!plain.includes('"operators"'), 'the status is not served over plain http');
      } finally {
        await gw.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('--tls and --no-tls win over the file; both at once is a usage error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-tls-flag-'));
    const serve = async (file: object, flags: string[]): Promise<string> => {
      writeFileSync(join(dataDir, 'settings.json'), JSON.stringify(file));
      const c = captureIO({ env: { ...process.env, ...OFF } });
      const run = serveCommand([...flags, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', ':memory:', '--log-level', 'error'], c.io);
      try {
        const [, url] = await c.waitFor(/operator: +(\S+)\n/);
        return url!;
      } finally {
        c.stop('SIGTERM');
        assert.equal(await run, 0, c.stderr());
      }
    };
    try {
      assert.match(await serve({ tls: true }, ['--no-tls']), /^http:\/\/127\.0\.0\.1:\d+\/\?token=[^&]+$/);
      assert.match(await serve({ tls: false }, ['--tls']), /^https:\/\/127\.0\.0\.1:\d+\/\?token=[^&]+&sha256=[0-9a-f]{64}$/);
      assert.match(await serve({ tls: true }, []), /^https:\/\//, 'the file alone turns it on');
      assert.match(await serve({}, []), /^http:\/\//, 'courtside serve is off by default');
      for (const args of [['--tls', '--no-tls'], ['--no-tls', '--tls-cert', 'a.pem', '--tls-key', 'a.key']]) {
        const r = await runInProcess(['serve', '--data-dir', dataDir, ...args]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /^courtside(?: serve)?: --no-tls goes with neither --tls nor --tls-cert\n$/);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the desktop app: TLS on by default, off when the file says false', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-desktop-tls-'));
    try {
      assert.equal(desktopGatewayOptions(dataDir).tls, true);
      writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ tls: false, db: ':memory:' }));
      const o = desktopGatewayOptions(dataDir);
      assert.equal(o.tls, false);
      // What the app would then serve: plain http:// (on loopback here, discovery off).
      const gw = await startGateway({ ...o, ...local });
      try {
        assert.match(gw.operatorUrl, /^http:\/\//);
        assert.equal((await fetch(`http://127.0.0.1:${gw.port}/api/health`)).status, 200);
      } finally {
        await gw.close();
      }
      writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ port: 9000 }));
      assert.equal(desktopGatewayOptions(dataDir).tls, true, 'a file without tls keeps the default');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
