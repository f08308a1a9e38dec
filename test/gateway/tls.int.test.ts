/**
 * `serve --tls`: the certificate (made with openssl, checked by openssl),
 * every endpoint over WSS and HTTPS with the right fingerprint and refused
 * with a wrong one, plain HTTP on the same port (health, redirects, tokens
 * refused), and a proxy on the loopback wire that never sees a token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { captureProxy, opensslFingerprint, opensslNames, opensslSelfSigned, pinnedRequest, pinnedWs, rawHttp } from '../support/tls.js';
import { FingerprintMismatchError } from '../../main/simulator/pinned-tls.js';
import { VirtualBoard } from '../../main/simulator/board.js';
import { startDemoFleet } from '../../main/cli/demo.js';
import { CERT_FILE, KEY_FILE, RENEW_BEFORE_MS, selfSignedTls } from '../../main/gateway/tls/cert.js';
import { gatewayIdFor } from '../../main/gateway/discovery/part.js';
import { GatewayError, startGateway } from '../../main/gateway/index.js';
import { silentLogger } from '../../main/gateway/log.js';
import { ManualClock } from '../../main/shared/clock.js';
import { execFileSync } from 'node:child_process';
import { parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import { startBoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir } from '../usb/fixtures.js';

const WRONG = 'ab'.repeat(32);
const wssBase = (gw: TestGateway, port = gw.port) => `wss://127.0.0.1:${port}`;

async function refused(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

describe('serve --tls', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let fp: string;
  const tokens: Record<string, string> = {};

  before(async () => {
    gw = await startTestGateway({ tls: true, deviceAuth: 'token' });
    fp = gw.fingerprint!;
    for (const id of ['racket-1', 'user:p1', 'room-a', 'sniffed-1']) tokens[id] = await gw.core.tokens.mint(id, 'test');
  });
  after(() => gw?.stop());

  test('the certificate is made in the data folder (key 0600), names this machine, and has the fingerprint openssl computes', () => {
    const certFile = join(gw.dataDir, CERT_FILE);
    assert.equal(statSync(join(gw.dataDir, KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(fp, opensslFingerprint(certFile));
    const names = opensslNames(certFile);
    for (const n of ['IP Address:127.0.0.1', 'DNS:localhost', `DNS:courtside-${gatewayIdFor(gw.dataDir)}.local`]) assert.ok(names.includes(n), `${n} in ${names}`);
    assert.ok(gw.url.startsWith('wss://') && gw.operatorUrl.startsWith('https://'), gw.operatorUrl);
    assert.ok(gw.operatorUrl.endsWith(`&sha256=${fp}`));
    const urls = gw.core.urls();
    assert.ok(urls.board.every((u) => u.startsWith('wss://')) && urls.operator.every((u) => u.startsWith('https://') && u.endsWith(`&sha256=${fp}`)));
  });

  test('it is kept across restarts, and renewed with the same key once fewer than 30 days are left', () => {
    const req = { dataDir: gw.dataDir, dnsNames: ['localhost'], addresses: ['127.0.0.1'] };
    const x = new X509Certificate(gw.options.tls!.cert);
    const end = Date.parse(x.validTo);
    const kept = selfSignedTls({ ...req, now: end - RENEW_BEFORE_MS - 86_400_000 });
    assert.equal(kept.renewed, false);
    assert.equal(kept.tls.fingerprint, fp);
    const renewed = selfSignedTls({ ...req, now: end - 10 * 86_400_000 });
    assert.equal(renewed.renewed, true);
    assert.notEqual(renewed.tls.fingerprint, fp);
    assert.equal(renewed.tls.fingerprint, opensslFingerprint(join(gw.dataDir, CERT_FILE)));
    const pub = (c: string) => new X509Certificate(c).publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
    assert.equal(pub(renewed.tls.cert), pub(gw.options.tls!.cert), 'the key is kept');
    // The running gateway keeps serving what it started with until its own daily check.
  });

  test('every WebSocket endpoint answers over wss:// with the right fingerprint', async () => {
    const board = await TestClient.connect(`${wssBase(gw)}/ws/esp32/racket-1/?token=${tokens['racket-1']}`, pinnedWs(fp));
    assert.equal((await board.next('connection_established')).type, 'connection_established');
    board.send({ type: 'batch_sensor_data', seq: 1, start_ms: 1000, rate_hz: 100, samples: [[0, 0, 1, 0, 0, 0]] });
    assert.equal((await board.next('data_ack')).seq, 1);
    const user = await TestClient.connect(`${wssBase(gw)}/ws/miniprogram/p1/?token=${tokens['user:p1']}`, pinnedWs(fp));
    assert.equal((await user.next('connection_established')).user_id, 'p1');
    const room = await TestClient.connect(`${wssBase(gw)}/?token=${tokens['room-a']}`, pinnedWs(fp));
    room.send({ device_id: 'room-a', identity: 'mobile_user' });
    await room.next('connection');
    await room.next('room');
    const op = await TestClient.connect(`${wssBase(gw)}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(fp));
    assert.equal((await op.ask({ type: 'get_system_status', id: 'r1' }, 'system_status')).type, 'system_status');
    for (const c of [board, user, room, op]) await c.close();
  });

  test('a wrong fingerprint is refused on every endpoint, and nothing is opened', async () => {
    for (const path of ['/ws/esp32/racket-1/', '/ws/miniprogram/p1/', '/', `/ws/admin/?token=${OPERATOR_TOKEN}`]) {
      const err = await refused(TestClient.connect(`${wssBase(gw)}${path}`, pinnedWs(WRONG)));
      assert.ok(err instanceof FingerprintMismatchError, `${path}: ${String(err)}`);
      assert.match(err.message, new RegExp(fp));
    }
    assert.equal(gw.core.operators.count(), 0);
    assert.equal(gw.core.boards.onlineCount(), 0);
  });

  test('a gateway with another certificate gets not one byte of the request (the token is never sent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courtside-impostor-'));
    const own = opensslSelfSigned(dir, 'impostor');
    const { readFileSync } = await import('node:fs');
    let received = 0;
    const impostor = createTlsServer({ cert: readFileSync(own.certFile), key: readFileSync(own.keyFile) }, (s) => s.on('data', (d: Buffer) => (received += d.length)));
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const port = (impostor.address() as { port: number }).port;
    try {
      const board = new VirtualBoard({ url: `wss://127.0.0.1:${port}`, token: tokens['racket-1'], fingerprint: fp, reconnect: false });
      const failed = new Promise<Error>((r) => board.once('error', r));
      void board.start();
      const e = await failed;
      assert.ok(e instanceof FingerprintMismatchError, String(e));
      assert.equal((await refused(pinnedRequest(`https://127.0.0.1:${port}/api/status`, fp, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } }))).name, 'FingerprintMismatchError');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(received, 0);
      await board.stop();
    } finally {
      impostor.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('HTTPS: the API, metrics and health with the right fingerprint; a wrong one is refused', async () => {
    const auth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
    const st = await pinnedRequest(`https://127.0.0.1:${gw.port}/api/status`, fp, { headers: auth });
    assert.equal(st.status, 200, st.body);
    const status = JSON.parse(st.body) as { urls: { operator: string[] } };
    assert.ok(status.urls.operator.every((u) => u.startsWith('https://')));
    assert.equal((await pinnedRequest(`https://127.0.0.1:${gw.port}/metrics`, fp, { headers: auth })).status, 200);
    assert.equal((await pinnedRequest(`https://127.0.0.1:${gw.port}/api/health`, fp)).status, 200);
    assert.equal((await pinnedRequest(`https://127.0.0.1:${gw.port}/api/status`, fp)).status, 401);
    const err = await refused(pinnedRequest(`https://127.0.0.1:${gw.port}/api/status`, WRONG, { headers: auth }));
    assert.ok(err instanceof FingerprintMismatchError, String(err));
  });

  test('plain HTTP on the same port: health answers, the rest is redirected, and a request with a token is refused without an echo', async () => {
    const health = await rawHttp(gw.port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(health, /^HTTP\/1\.1 200 /);
    assert.match(health, /"status"/);
    const page = await rawHttp(gw.port, `GET /sessions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nConnection: close\r\n\r\n`);
    assert.match(page, /^HTTP\/1\.1 308 /);
    assert.match(page, new RegExp(`\r\nlocation: https://127\\.0\\.0\\.1:${gw.port}/sessions\\?x=1\r\n`, 'i'));
    const requests = [
      `GET /api/status?token=${OPERATOR_TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      `GET /?token=${OPERATOR_TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\nConnection: close\r\n\r\n`,
      `POST /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    ];
    for (const r of requests) {
      const res = await rawHttp(gw.port, r);
      assert.match(res, /^HTTP\/1\.1 403 /, res);
      assert.match(res, /TLS_REQUIRED/);
      assert.ok(!res.includes(OPERATOR_TOKEN), res);
      assert.ok(!/\r\nlocation:/i.test(res), res);
    }
    for (const path of [`/ws/admin/?token=${OPERATOR_TOKEN}`, `/ws/esp32/racket-1/?token=${tokens['racket-1']}`, '/']) {
      const res = await rawHttp(gw.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      assert.match(res, /^HTTP\/1\.1 426 /, res);
      assert.ok(!res.includes(OPERATOR_TOKEN) && !res.includes(tokens['racket-1']!), res);
    }
    assert.equal(gw.core.operators.count(), 0);
    assert.equal(gw.core.boards.onlineCount(), 0);
  });

  test('the tokens never cross the loopback wire in clear text (a capturing proxy; the same proxy sees them without TLS)', async () => {
    const secrets = [OPERATOR_TOKEN, tokens['sniffed-1']!];
    const run = async (g: { port: number }, scheme: 'wss' | 'ws', fingerprint: string | null) => {
      const proxy = await captureProxy(g.port);
      const opts = fingerprint ? pinnedWs(fingerprint) : {};
      const op = await TestClient.connect(`${scheme}://127.0.0.1:${proxy.port}/ws/admin/?token=${OPERATOR_TOKEN}`, opts);
      await op.ask({ type: 'get_system_status', id: 'r1' }, 'system_status');
      const board = new VirtualBoard({ url: `${scheme}://127.0.0.1:${proxy.port}`, deviceCode: 'sniffed-1', token: tokens['sniffed-1'], ...(fingerprint ? { fingerprint } : {}), reconnect: false, batchMs: 20, streamAlways: true });
      await board.start();
      await new Promise<void>((r) => board.once('ack', () => r()));
      if (fingerprint) assert.equal((await pinnedRequest(`https://127.0.0.1:${proxy.port}/api/status`, fingerprint, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).status, 200);
      await board.stop();
      await op.close();
      await proxy.close();
      return Buffer.concat([proxy.up(), proxy.down()]);
    };
    const wire = await run(gw, 'wss', fp);
    assert.ok(wire.length > 2000, `captured ${wire.length} bytes`);
    for (const s of secrets) assert.equal(wire.indexOf(s), -1, 'a token in clear text on the wire');
    assert.equal(wire.indexOf('racket'), -1);
    assert.equal(wire.indexOf('get_system_status'), -1);
    // The control: the capture does see a token when the gateway speaks plain ws:// (so its silence above means something).
    const plain = await startTestGateway({ deviceAuth: 'token' });
    try {
      tokens['sniffed-1'] = await plain.core.tokens.mint('sniffed-1', 'test');
      secrets[1] = tokens['sniffed-1'];
      const clear = await run(plain, 'ws', null);
      for (const s of secrets) assert.notEqual(clear.indexOf(s), -1, 'the control capture sees the token');
    } finally {
      await plain.stop();
    }
  });

  test('simulated and --demo boards connect over wss:// pinning the fingerprint; a wrong one never connects', async () => {
    const good = new VirtualBoard({ url: gw.url, deviceCode: 'racket-1', token: tokens['racket-1'], fingerprint: fp, reconnect: false, streamAlways: true, batchMs: 20 });
    await good.start();
    await new Promise<void>((r) => good.once('ack', () => r()));
    await good.stop();
    const bad = new VirtualBoard({ url: gw.url, deviceCode: 'racket-1', token: tokens['racket-1'], fingerprint: WRONG, reconnect: false });
    const failed = new Promise<Error>((r) => bad.once('error', r));
    void bad.start();
    const e = await failed;
    assert.ok(e instanceof FingerprintMismatchError, String(e));
    assert.equal(bad.connected, false);
    await bad.stop();
    const stop = await startDemoFleet(gw, 3);
    try {
      const until = Date.now() + 10_000;
      while (gw.core.boards.onlineCount() < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(gw.core.boards.onlineCount(), 3);
    } finally {
      await stop();
    }
  });
});

describe('--tls-cert and --tls-key: the operator\'s own certificate', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-own-cert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('it is served as given, and pinned by its fingerprint', async () => {
    const own = opensslSelfSigned(dir, 'own');
    const gw = await startTestGateway({ tls: own });
    try {
      assert.equal(gw.fingerprint, opensslFingerprint(own.certFile));
      assert.equal(gw.options.tls!.source, 'files');
      const op = await TestClient.connect(`wss://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(gw.fingerprint!));
      await op.close();
    } finally {
      await gw.stop();
    }
  });

  test('a key that is not the certificate\'s, or a missing file, stops the start with a clear error', async () => {
    const a = opensslSelfSigned(dir, 'a');
    const b = opensslSelfSigned(dir, 'b');
    const start = (tls: { certFile: string; keyFile: string }) => startGateway({ host: '127.0.0.1', port: 0, dataDir: dir, logger: silentLogger, db: ':memory:', tls, parts: [] });
    const mismatch = await refused(start({ certFile: a.certFile, keyFile: b.keyFile }));
    assert.ok(mismatch instanceof GatewayError && mismatch.code === 'TLS_FILES_INVALID', String(mismatch));
    const missing = await refused(start({ certFile: join(dir, 'nope.crt'), keyFile: a.keyFile }));
    assert.ok(missing instanceof GatewayError && missing.code === 'TLS_FILES_UNREADABLE', String(missing));
  });
});

describe('USB provisioning by a TLS gateway', { timeout: 60_000 }, () => {
  test('the board\'s NVS config carries the gateway\'s fingerprint (unless the operator gave one), and the board then connects over wss:// pinning it', async () => {
    const dir = tempDir();
    const fw = firmware();
    const peers = [await startBoardPeer({ dir, name: 'board-a', flash: fw.merged }), await startBoardPeer({ dir, name: 'board-b', flash: fw.merged })];
    const gw = await startTestGateway({ tls: true, usb: { extraPorts: [join(dir, 'board-*')], portPollMs: 0, connect: { baud: 921600, connectAttempts: 2 } } });
    const op = await TestClient.connect(`wss://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(gw.fingerprint!));
    try {
      await op.ask({ type: 'subscribe', topics: ['usb'] }, 'subscribed');
      const nvs = (i: number) => Object.fromEntries(parseNvsPartition(peers[i]!.flash.subarray(0x9000, 0xf000)).entries.map((e) => [e.key, e.value]));
      const provision = async (i: number, extra: Record<string, string>) => {
        const body = JSON.stringify({ port: peers[i]!.path, config: { wifi_ssid: 'Court-5', gw_host: '127.0.0.1', gw_port: gw.port, device_id: `racket-${i}`, ...extra } });
        const r = await pinnedRequest(`https://127.0.0.1:${gw.port}/api/usb/provision`, gw.fingerprint!, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' }, body });
        assert.equal(r.status, 202, r.body);
        const job = (JSON.parse(r.body) as { job: { id: string } }).job;
        const done = await op.next((f) => f.type === 'event' && f.event === 'provision_done' && f.job_id === job.id, 20_000);
        assert.equal(done.ok, true, JSON.stringify(done.error));
      };
      await provision(0, {});
      const cfg = nvs(0);
      assert.equal(cfg.gw_sha256, gw.fingerprint);
      assert.equal(cfg.gw_sha256, opensslFingerprint(join(gw.dataDir, CERT_FILE)));
      await provision(1, { gw_sha256: WRONG });
      assert.equal(nvs(1).gw_sha256, WRONG);
      // What firmware does with it: wss:// to gw_host:gw_port, accepting only that certificate.
      const board = new VirtualBoard({ url: `wss://${String(cfg.gw_host)}:${Number(cfg.gw_port)}`, deviceCode: String(cfg.device_id), fingerprint: String(cfg.gw_sha256), reconnect: false });
      await board.start();
      await board.stop();
    } finally {
      await op.close();
      await gw.stop();
      for (const p of peers) await p.stop();
    }
  });
});

describe('renewal while running', { timeout: 60_000 }, () => {
  test('the daily check replaces a certificate in its last 30 days; new connections get the new one, and the URLs carry it', async () => {
    const clock = new ManualClock(Date.now());
    const gw = await startTestGateway({ tls: true, clock, heartbeatIntervalMs: 3_600_000 });
    try {
      const first = gw.fingerprint!;
      // What the folder holds after 800 days: the same key, a certificate with 10 days left (made by openssl).
      const certFile = join(gw.dataDir, CERT_FILE);
      execFileSync('openssl', ['req', '-x509', '-new', '-key', join(gw.dataDir, KEY_FILE), '-days', '10', '-subj', '/CN=old', '-out', certFile], { stdio: 'ignore' });
      const old = opensslFingerprint(certFile);
      clock.advance(24 * 3600 * 1000 + 1);
      const renewed = gw.options.tls!.fingerprint;
      assert.notEqual(renewed, first);
      assert.notEqual(renewed, old);
      assert.equal(renewed, opensslFingerprint(certFile));
      assert.ok(gw.core.urls().operator.every((u) => u.endsWith(`&sha256=${renewed}`)));
      const op = await TestClient.connect(`wss://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(renewed));
      await op.close();
      assert.ok((await refused(TestClient.connect(`wss://127.0.0.1:${gw.port}/ws/admin/?token=${OPERATOR_TOKEN}`, pinnedWs(first)))) instanceof FingerprintMismatchError);
    } finally {
      await gw.stop();
    }
  });
});
