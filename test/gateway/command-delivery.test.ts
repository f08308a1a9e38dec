/**
 * Delivery guarantees of board commands: timeout_ms and max_retries (failed after the last
 * wait, listed and published), documented defaults, and priority order on reconnect and poll.
 * Time is a ManualClock: nothing here sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { eventually, OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('command delivery: timeouts, retries, failure, priority', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let op: TestClient;
  before(async () => {
    clock = new ManualClock(Date.now());
    gw = await startTestGateway({ clock, commandResendMs: 10_000, heartbeatIntervalMs: 0 });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['commands'] }, 'subscribed');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const board = async (code: string) => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/${code}/`);
    await b.next('connection_established');
    return b;
  };
  type Listed = { command_id: string; state: string; attempts: number; priority: string; timeout_ms: number; max_retries: number; failed_at: string | null };
  const listed = async (device: string) => ((await (await gw.http(`/api/devices/${device}/commands`)).json()) as { commands: Listed[] }).commands;

  test('never acked: pushed 1 + max_retries times, timeout_ms apart, then failed (listed, and an event)', async () => {
    const b = await board('dl-1');
    const r = await op.ask({ type: 'send_command', device_id: 'dl-1', command: 'identify', timeout_ms: 2000, max_retries: 2 }, 'command_queued');
    const id = String(r.command_id);
    assert.equal((await b.next('command')).command_id, id);
    clock.advance(1999);
    await b.nothing('command', 50);
    clock.advance(1);
    assert.equal((await b.next('command')).command_id, id);
    clock.advance(2000);
    assert.equal((await b.next('command')).command_id, id);
    clock.advance(2000);
    const failed = await op.next((f) => f.type === 'event' && f.event === 'failed');
    assert.deepEqual({ id: failed.command_id, device: failed.device_id, attempts: failed.attempts }, { id, device: 'dl-1', attempts: 3 });
    const row = await eventually(async () => (await listed('dl-1')).find((c) => c.command_id === id && c.state === 'failed'));
    assert.equal(row.attempts, 3);
    assert.equal(row.timeout_ms, 2000);
    assert.equal(row.max_retries, 2);
    assert.equal(row.failed_at, new Date(clock.now()).toISOString());
    clock.advance(60_000);
    await b.nothing('command', 50);
    // A failed command is not sent again on reconnect or poll.
    await b.close();
    const again = await board('dl-1');
    await again.nothing('command', 100);
    assert.deepEqual((await again.ask({ type: 'poll_commands' }, 'commands')).commands, []);
    await again.close();
  });

  test('an ack before the retries run out: acked, no failure, no more pushes', async () => {
    const b = await board('dl-2');
    const res = await gw.http('/api/devices/dl-2/commands', { method: 'POST', body: JSON.stringify({ command: 'identify', timeout_ms: 500, max_retries: 1 }) });
    assert.equal(res.status, 202);
    const { command_id } = (await res.json()) as { command_id: string };
    await b.next('command');
    clock.advance(500);
    await b.next('command');
    b.send({ type: 'command_ack', command_id, ok: true });
    await op.next((f) => f.type === 'event' && f.event === 'acked' && f.command_id === command_id);
    clock.advance(5000);
    await op.nothing((f) => f.type === 'event' && f.event === 'failed' && f.command_id === command_id, 80);
    assert.equal((await listed('dl-2')).find((c) => c.command_id === command_id)?.state, 'acked');
    await b.close();
  });

  test('defaults: timeout_ms is the resend interval (10000), max_retries 5; bad values are 400 / BAD_FRAME', async () => {
    const b = await board('dl-3');
    const r = await op.ask({ type: 'send_command', device_id: 'dl-3', command: 'noop' }, 'command_queued');
    await b.next('command');
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      await b.next('command');
    }
    clock.advance(10_000);
    await op.next((f) => f.type === 'event' && f.event === 'failed' && f.command_id === r.command_id);
    const row = (await listed('dl-3')).find((c) => c.command_id === r.command_id)!;
    assert.deepEqual([row.state, row.attempts, row.timeout_ms, row.max_retries, row.priority], ['failed', 6, 10_000, 5, 'normal']);
    await b.close();

    const bad = await gw.http('/api/devices/dl-3/commands', { method: 'POST', body: JSON.stringify({ command: 'x', max_retries: -1 }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /max_retries/);
    const e = await op.ask({ type: 'send_command', device_id: 'dl-3', command: 'x', priority: 'urgent' }, 'error');
    assert.equal(e.code, 'BAD_FRAME');
    assert.match(String(e.message), /priority/);
  });

  test('priority: queued for an offline board, delivered high first on reconnect and on poll', async () => {
    const ids: Record<string, string> = {};
    for (const [name, priority] of [['l1', 'low'], ['n1', 'normal'], ['h1', 'high'], ['n2', undefined], ['h2', 'high']] as const) {
      const r = await op.ask({ type: 'send_command', device_id: 'dl-4', command: name, ...(priority ? { priority } : {}) }, 'command_queued');
      ids[name] = String(r.command_id);
    }
    const b = await board('dl-4');
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push(String((await b.next('command')).command));
    assert.deepEqual(order, ['h1', 'h2', 'n1', 'n2', 'l1']);
    const polled = (await b.ask({ type: 'poll_commands' }, 'commands')).commands as { command: string }[];
    assert.deepEqual(polled.map((c) => c.command), ['h1', 'h2', 'n1', 'n2', 'l1']);
    assert.equal((await listed('dl-4')).find((c) => c.command_id === ids.h1)?.priority, 'high');
    await b.close();
  });
});
