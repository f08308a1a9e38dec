/**
 * Endpoint `/ws`: the Node WebSocket module's envelope against a running
 * gateway, checked against that module's documented behaviour: its own manual
 * test client's `init` frame, `ping`, `text` to a registered handler, `system`,
 * and an error frame with the same id for an unknown type or a bad frame.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { Platform } from '../../main/gateway/platform/platform.js';

describe('/ws: the Node WebSocket module envelope', () => {
  let gw: TestGateway;
  const platform = new Platform();
  const added: string[] = [];
  before(async () => {
    platform.registerHandler('text', (m) => ({ type: 'text', content: { text: `Echo: ${(m.content as { text: string }).text}` } }));
    platform.registerHandler('boom', () => {
      throw new Error('the database of the application is down');
    });
    platform.on('connection:added', (c) => added.push(c.id));
    gw = await startTestGateway({ parts: [], platform });
  });
  after(() => gw.stop());

  const open = async () => {
    const c = await TestClient.connect(gw.url + '/ws');
    const welcome = await c.next('system');
    return { c, welcome };
  };

  test('the module\'s own client: init is answered with the same id, the connection id and the server time', async () => {
    const { c, welcome } = await open();
    assert.equal((welcome.content as { action: string }).action, 'welcome');
    const t0 = Date.now();
    // The frame of the module's manual test, as documented.
    c.send({ id: 'test-1', type: 'init', content: {}, timestamp: new Date().toISOString() });
    const r = await c.next('init_response');
    const content = r.content as Record<string, unknown>;
    assert.equal(r.id, 'test-1');
    assert.equal(content.connectionId, added.at(-1));
    assert.equal((welcome.content as { connectionId: string }).connectionId, content.connectionId);
    assert.equal(content.status, 'connected');
    assert.ok((content.serverTime as number) >= t0 - 5 && (content.serverTime as number) <= Date.now() + 5);
    assert.ok(!Number.isNaN(Date.parse(r.timestamp as string)));
    assert.equal(typeof content.sessionId, 'string');
    assert.equal(r.sessionId, content.sessionId);
    await c.close();
  });

  test('init keeps the session id the client asks for', async () => {
    const { c } = await open();
    const r = await c.ask({ id: 7, type: 'init', content: { sessionId: 'sess-42', userId: 'u-1' } }, 'init_response');
    assert.equal(r.id, 7);
    assert.equal((r.content as { sessionId: string }).sessionId, 'sess-42');
    assert.equal((r.content as { userId: string }).userId, 'u-1');
    await c.close();
  });

  test('ping is answered with pong and the same id', async () => {
    const { c } = await open();
    const r = await c.ask({ id: 'p-9', type: 'ping', content: {}, timestamp: new Date().toISOString() }, 'pong');
    assert.equal(r.id, 'p-9');
    await c.close();
  });

  test('text goes to the registered handler; the answer carries the id and the session', async () => {
    const { c } = await open();
    await c.ask({ id: 'i', type: 'init', content: { sessionId: 'S1' } }, 'init_response');
    const r = await c.ask({ id: 'm-1', type: 'text', content: { text: 'Hello World' }, sessionId: 'S1', timestamp: new Date().toISOString() }, 'text');
    assert.deepEqual(r.content, { text: 'Echo: Hello World' });
    assert.equal(r.id, 'm-1');
    assert.equal(r.sessionId, 'S1');
    await c.close();
  });

  test('an unknown type, a bad frame, bad JSON and a failing handler get an error frame with the same id; the socket stays', async () => {
    const { c } = await open();
    const unknown = await c.ask({ id: 'u-1', type: 'custom', content: {} }, 'error');
    assert.equal(unknown.id, 'u-1');
    assert.deepEqual(unknown.content, { code: 'UNKNOWN_TYPE', error: 'No handler found for message type: custom', originalMessageId: 'u-1' });
    const bad = await c.ask({ id: 'b-1', type: 'init', content: { sessionId: 5 } }, 'error');
    assert.equal(bad.id, 'b-1');
    assert.equal((bad.content as { code: string }).code, 'BAD_FRAME');
    const noType = await c.ask({ id: 'b-2', content: {} }, 'error');
    assert.equal(noType.id, 'b-2');
    assert.equal((noType.content as { code: string }).code, 'BAD_FRAME');
    const notJson = await c.ask('{"id":"x",', 'error');
    assert.equal((notJson.content as { code: string }).code, 'INVALID_JSON');
    assert.equal((notJson.content as { originalMessageId: unknown }).originalMessageId, null);
    const boom = await c.ask({ id: 'h-1', type: 'boom' }, 'error');
    assert.equal(boom.id, 'h-1');
    assert.deepEqual(boom.content, { code: 'HANDLER_FAILED', error: 'the database of the application is down', originalMessageId: 'h-1' });
    // Still served.
    assert.equal((await c.ask({ id: 'p', type: 'ping' }, 'pong')).id, 'p');
    await c.close();
  });

  test('a frame without an id gets one, and the answer carries it', async () => {
    const { c } = await open();
    const r = await c.ask({ type: 'ping' }, 'pong');
    assert.equal(typeof r.id, 'string');
    assert.ok((r.id as string).length > 0);
    await c.close();
  });

  test('system: get_status and get_metrics answer health and metrics; the gateway sends system frames', async () => {
    const { c } = await open();
    const s = await c.ask({ id: 's1', type: 'system', content: { action: 'get_status' } }, 'system');
    const status = s.content as { action: string; data: { status: string; connections: { active: number } } };
    assert.equal(status.action, 'status_response');
    assert.equal(status.data.status, 'healthy');
    assert.ok(status.data.connections.active >= 1);
    const m = await c.ask({ id: 's2', type: 'system', content: { action: 'get_metrics' } }, 'system');
    assert.equal((m.content as { action: string }).action, 'metrics_response');
    const unknownAction = await c.ask({ id: 's3', type: 'system', content: { action: 'reboot' } }, 'error');
    assert.equal((unknownAction.content as { code: string }).code, 'BAD_FRAME');
    // The application's broadcast reaches /ws clients as a system frame in the envelope.
    assert.equal(platform.broadcast({ type: 'system', content: { action: 'maintenance', text: 'at 22:00' } }), 1);
    const b = await c.next('system');
    assert.deepEqual(b.content, { action: 'maintenance', text: 'at 22:00' });
    assert.equal(typeof b.id, 'string');
    await c.close();
  });

  test('the gateway says it is shutting down in a system frame before it closes', async () => {
    const g2 = await startTestGateway({ parts: [] });
    const c = await TestClient.connect(g2.url + '/ws');
    await c.next('system');
    const closing = g2.stop();
    const f = await c.next('system');
    assert.equal((f.content as { action: string }).action, 'shutdown');
    assert.equal((await c.closed).code, 1001);
    await closing;
  });
});
