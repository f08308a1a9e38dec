/**
 * The Node WebSocket module's options and its validation middleware on an
 * embedded gateway: `maxConnections`, `message.maxRetries` (a failing handler
 * run again on the gateway's clock), `middleware: ['validation']` and a
 * configured validation (allowed types, sizes, sanitized text), refusals as
 * envelope errors with the frame's id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createGateway, validationMiddleware, type EmbeddedGateway } from '../../main/gateway/index.js';
import { silentLogger } from '../../main/gateway/log.js';
import { ManualClock } from '../../main/shared/clock.js';
import { OPERATOR_TOKEN, TestClient } from '../support/gateway.js';

describe('embedding with the Node WebSocket module\'s options', () => {
  let server: Server;
  let gw: EmbeddedGateway;
  let url: string;
  let dataDir: string;
  const clock = new ManualClock(Date.now());
  let flaky = 0;
  const texts: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'courtside-embed-opts-'));
    server = createServer();
    gw = createGateway({
      server,
      dataDir,
      operatorToken: OPERATOR_TOKEN,
      logger: silentLogger,
      statusLogIntervalMs: 0,
      parts: [],
      clock,
      maxConnections: 3,
      heartbeat: { interval: 0 },
      message: { timeout: 30_000, maxRetries: 2 },
      middleware: [validationMiddleware({ allowedTypes: ['init', 'ping', 'text', 'flaky'], maxContentLength: 100, enableSanitization: true })],
    });
    gw.registerHandler('text', (m) => {
      texts.push((m.content as { text: string }).text);
      return { type: 'text', content: { ok: true } };
    });
    gw.registerHandler('flaky', () => {
      if (++flaky < 3) throw new Error(`attempt ${flaky} failed`);
      return { type: 'flaky_done', content: { attempts: flaky } };
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await gw.start();
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  });
  after(async () => {
    await gw.stop();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('validation: a type not allowed and content too long are BAD_FRAME with the id; text is sanitized', async () => {
    const c = await TestClient.connect(url);
    await c.next('system');
    const notAllowed = await c.ask({ id: 'v1', type: 'custom' }, 'error');
    assert.equal(notAllowed.id, 'v1');
    assert.deepEqual(notAllowed.content, { code: 'BAD_FRAME', error: "type 'custom' is not allowed here", originalMessageId: 'v1' });
    const long = await c.ask({ id: 'v2', type: 'text', content: { text: 'x'.repeat(200) } }, 'error');
    assert.equal((long.content as { code: string }).code, 'BAD_FRAME');
    const size = Buffer.byteLength(JSON.stringify({ text: 'x'.repeat(200) }));
    assert.equal((long.content as { error: string }).error, `content of ${size} bytes is over the 100 allowed`);
    assert.equal((await c.ask({ id: 'v3', type: 'text', content: { text: '<b>hi</b> & "you"' } }, 'text')).id, 'v3');
    assert.deepEqual(texts, ['&lt;b&gt;hi&lt;/b&gt; &amp; &quot;you&quot;']);
    await c.close();
  });

  test('message.maxRetries: a handler that fails twice is run again after 1 s and 2 s, then answers', async () => {
    const c = await TestClient.connect(url);
    await c.next('system');
    c.send({ id: 'f1', type: 'flaky' });
    await waitUntil(() => flaky === 1);
    clock.advance(1000);
    await waitUntil(() => flaky === 2);
    await c.nothing('flaky_done', 50);
    clock.advance(2000);
    const r = await c.next('flaky_done');
    assert.equal(r.id, 'f1');
    assert.deepEqual(r.content, { attempts: 3 });
    await c.close();
  });

  test('maxConnections: past it the upgrade is refused with 503', async () => {
    await waitUntil(() => gw.getMetrics().connections.activeConnections === 0);
    const open = [await TestClient.connect(url), await TestClient.connect(url), await TestClient.connect(url)];
    await assert.rejects(TestClient.connect(url), /HTTP 503/);
    for (const c of open) await c.close();
  });
});

describe('embedding on a request handler (an Express app is one)', () => {
  test('createGateway({ app }) makes the server; the app keeps its routes, the gateway its sockets and /api', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-embed-app-'));
    // What an Express app is to node:http: a (req, res) function; this one mounts the gateway's HTTP side like app.use(gw.http).
    const app = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      if (req.url === '/app') return void res.end('the app');
      gw.http(req, res, () => res.writeHead(404).end());
    };
    const gw = createGateway({ app, dataDir, operatorToken: OPERATOR_TOKEN, logger: silentLogger, statusLogIntervalMs: 0, parts: [] });
    await new Promise<void>((r) => gw.server.listen(0, '127.0.0.1', r));
    await gw.start();
    const port = (gw.server.address() as AddressInfo).port;
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/app`)).text(), 'the app');
      const h = await fetch(`http://127.0.0.1:${port}/api/websocket/health?token=${OPERATOR_TOKEN}`);
      assert.equal(((await h.json()) as { status: string }).status, 'healthy');
      const c = await TestClient.connect(`ws://127.0.0.1:${port}/ws`);
      await c.next('system');
      assert.equal((await c.ask({ id: 'p', type: 'ping' }, 'pong')).id, 'p');
      await c.close();
    } finally {
      await gw.stop();
      await new Promise<void>((r) => gw.server.close(() => r()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}
