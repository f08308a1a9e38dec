/**
 * The embedding API: a gateway made on a plain http.Server the test creates
 * (the application keeps its own routes), driven with real ws clients:
 * handlers on /ws and on the board endpoint, middleware in both phases with
 * `next`, the typed events, getHealth()/getMetrics() and their HTTP routes,
 * and the monitoring plugin's alerts reaching an operator's socket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createGateway, monitoringPlugin, type Alert, type ConnectionInfo, type EmbeddedGateway } from '../../main/gateway/index.js';
import { silentLogger } from '../../main/gateway/log.js';
import { ManualClock } from '../../main/shared/clock.js';
import { OPERATOR_TOKEN, TestClient } from '../support/gateway.js';

describe('embedding: createGateway on an application\'s http.Server', () => {
  let server: Server;
  let gw: EmbeddedGateway;
  let base: string;
  let dataDir: string;
  const clock = new ManualClock(Date.now());
  const events: string[] = [];
  const alerts: Alert[] = [];
  const removed: (ConnectionInfo & { code: number })[] = [];
  const errorsSeen: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'courtside-embed-'));
    // The application's own server, with its own route.
    server = createServer((req, res) => {
      if (req.url === '/hello') return void res.end('app says hello');
      gw.http(req, res, () => res.writeHead(404).end('app: not found'));
    });
    gw = createGateway({ server, path: '/realtime', dataDir, operatorToken: OPERATOR_TOKEN, logger: silentLogger, statusLogIntervalMs: 0, parts: [], clock });
    gw.registerHandler('text', async (m) => ({ type: 'text', content: { text: `Echo: ${(m.content as { text: string }).text}` } }));
    gw.registerHandler('slow', () => {
      clock.advance(6000);
      return { type: 'slow_done', content: {} };
    });
    gw.registerHandler('firmware_hello', (m, c) => ({ type: 'firmware_hello_ack', device: c.path, n: m.n }), { endpoint: 'board' });
    gw.use({
      type: 'connection',
      handler: async (c, req, next) => {
        if (req.headers['x-banned'] === '1') return false;
        await next();
        return { tenant: 'club-7' };
      },
    });
    gw.use({
      type: 'message',
      handler: async (m, c, next) => {
        if (m.type === 'forbidden') return;
        events.push(`before ${m.type}`);
        const r = await next();
        events.push(`after ${m.type}`);
        return r;
      },
    });
    gw.use(monitoringPlugin({ alertThresholds: { errorRate: 0.5, responseTime: 5000, connectionCount: 3 }, intervalMs: 5000 }));
    gw.on('connection:added', (c) => events.push(`added ${c.endpoint} ${String(c.metadata.tenant)}`));
    gw.on('connection:removed', (c) => removed.push(c));
    gw.on('message:received', ({ message }) => events.push(`received ${message.type}`));
    gw.on('message:sent', ({ message }) => events.push(`sent ${String(message.type)}`));
    gw.on('alert', (a) => alerts.push(a));
    gw.on('error', ({ error, connection }) => errorsSeen.push(`${connection?.endpoint ?? '-'} ${error.message}`));
    gw.registerHandler('fails', () => {
      throw new Error('the application could not do it');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await gw.start();
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await gw.stop();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the application keeps its routes; the gateway answers its own on the same port', async () => {
    assert.equal(await (await fetch(`http://${base}/hello`)).text(), 'app says hello');
    assert.equal((await fetch(`http://${base}/nothing`)).status, 404);
    const h = await fetch(`http://${base}/api/websocket/health`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    assert.equal(h.status, 200);
    const health = (await h.json()) as Record<string, unknown>;
    assert.equal(health.status, 'healthy');
    assert.deepEqual(Object.keys(health).sort(), ['connections', 'memory', 'status', 'timestamp', 'uptime']);
    assert.equal((await fetch(`http://${base}/api/websocket/metrics`)).status, 401);
  });

  test('a registered handler answers on the chosen path; middleware wraps it; events see the traffic', async () => {
    events.length = 0;
    const c = await TestClient.connect(`ws://${base}/realtime`);
    await c.next('system');
    const r = await c.ask({ id: 'a1', type: 'text', content: { text: 'hi' } }, 'text');
    assert.deepEqual(r.content, { text: 'Echo: hi' });
    assert.equal(r.id, 'a1');
    // A frame the middleware does not pass on is dropped: no answer, no error.
    c.send({ id: 'f1', type: 'forbidden' });
    await c.nothing(undefined, 150);
    assert.deepEqual(events, ['added ws club-7', 'sent system', 'received text', 'before text', 'sent text', 'after text', 'received forbidden']);
    await c.close();
    assert.ok(removed.some((x) => x.endpoint === 'ws' && x.code === 1005));
  });

  test('sendToConnection reaches that connection only, in the envelope; a handler\'s throw is an error event', async () => {
    const a = await TestClient.connect(`ws://${base}/realtime`);
    const idA = ((await a.next('system')).content as { connectionId: string }).connectionId;
    const b = await TestClient.connect(`ws://${base}/realtime`);
    await b.next('system');
    assert.equal(gw.sendToConnection(idA, { type: 'system', content: { action: 'note', text: 'for a' } }), true);
    const got = await a.next('system');
    assert.deepEqual(got.content, { action: 'note', text: 'for a' });
    assert.equal(typeof got.timestamp, 'string');
    await b.nothing('system', 100);
    assert.equal(gw.sendToConnection('no-such-connection', { type: 'system', content: {} }), false);
    assert.ok(gw.connections().some((c) => c.id === idA));
    const e = await a.ask({ id: 'e1', type: 'fails' }, 'error');
    assert.equal((e.content as { code: string }).code, 'HANDLER_FAILED');
    assert.deepEqual(errorsSeen, ['ws the application could not do it']);
    await a.close();
    await b.close();
  });

  test('connection middleware that does not call next refuses the upgrade', async () => {
    await assert.rejects(TestClient.connect(`ws://${base}/realtime`, { headers: { 'x-banned': '1' } }), /HTTP 403/);
  });

  test('a handler on the board endpoint takes a type the endpoint does not know; known types are untouched', async () => {
    const b = await TestClient.connect(`ws://${base}/ws/esp32/racket-01/`);
    await b.next('connection_established');
    const r = await b.ask({ type: 'firmware_hello', n: 3 }, 'firmware_hello_ack');
    assert.deepEqual(r, { type: 'firmware_hello_ack', device: '/ws/esp32/racket-01/', n: 3 });
    assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    assert.equal((await b.ask({ type: 'not_registered' }, 'error')).code, 'UNKNOWN_TYPE');
    await b.close();
  });

  test('getMetrics: peak connections, messages per second, response time, error rate', async () => {
    const before = gw.getMetrics();
    const c = await TestClient.connect(`ws://${base}/realtime`);
    await c.next('system');
    for (let i = 0; i < 4; i++) await c.ask({ id: i, type: 'ping' }, 'pong');
    await c.ask({ id: 'x', type: 'nope' }, 'error');
    const m = gw.getMetrics();
    assert.equal(m.messages.totalMessages - before.messages.totalMessages, 5);
    assert.equal(m.errors.totalErrors - before.errors.totalErrors, 1);
    assert.ok(m.connections.peakConnections >= 1 && m.connections.activeConnections >= 1);
    assert.ok(m.messages.messagesPerSecond > 0);
    assert.ok(m.errors.errorRate > 0 && m.errors.errorRate < 1);
    const overHttp = (await (await fetch(`http://${base}/api/websocket/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()) as typeof m;
    assert.equal(overHttp.messages.totalMessages, m.messages.totalMessages);
    assert.equal(overHttp.connections.peakConnections, m.connections.peakConnections);
    await c.close();
  });

  test('monitoring: a threshold crossed raises one alert, which reaches an operator\'s socket', async () => {
    alerts.length = 0;
    const op = await TestClient.connect(`ws://${base}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    const c = await TestClient.connect(`ws://${base}/realtime`);
    await c.next('system');
    // The handler takes 6 s on the gateway's clock: the mean response time passes 5000 ms.
    for (let i = 0; i < 3; i++) await c.ask({ id: `s${i}`, type: 'slow' }, 'slow_done');
    clock.advance(5000);
    const note = await op.next('system_notification');
    assert.equal(note.level, 'warning');
    assert.match(String(note.message), /responseTime .* over the threshold of 5000 ms/);
    assert.equal(alerts.filter((a) => a.kind === 'responseTime').length, 1);
    clock.advance(5000);
    assert.equal(alerts.filter((a) => a.kind === 'responseTime').length, 1, 'no second alert while still over');
    // Two more sockets pass the connection count of 3 (operator + 3 clients = 4).
    const c2 = await TestClient.connect(`ws://${base}/realtime`);
    const c3 = await TestClient.connect(`ws://${base}/realtime`);
    const cc = await op.next((f) => f.type === 'system_notification' && /connectionCount/.test(String(f.message)));
    assert.match(String(cc.message), /connectionCount 4 is over the threshold of 3/);
    for (const x of [c, c2, c3, op]) await x.close();
  });
});
