/**
 * A gateway that falls further behind than the fleet stream keeps: `courtside serve
 * --redis-history 100` on both, gateway A frozen (SIGSTOP) while clients on B broadcast far
 * more than 100 messages into a room A's client is in, then A resumed. A's client (which asked
 * for fleet_gap) and A's operator get one `fleet_gap` with reason `trimmed` and the count of fleet events lost;
 * that count covers every broadcast B's senders sent (counted by them) that A's client did not
 * get, and what arrived came in the senders' order, once each. The figures are printed as diagnostics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient, type Frame } from '../support/gateway.js';
import { sleep, waitFor } from '../sessions/support.js';
import { runCli } from '../support/cli.js';
import { fleetPair, roomClient, TOKEN } from './support.js';

const HISTORY = 100;
const SENDERS = 4;
const PER_SENDER = 250;

const f = fleetPair(['--redis-history', String(HISTORY)]);

test('serve --help names the fleet stream options', async () => {
  const r = await runCli(['serve', '--help']);
  assert.match(r.stdout, /--redis-history N/);
  assert.match(r.stdout, /--redis-max-pending N/);
  const bad = await runCli(['serve', '--redis-history', '50']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /need --redis/);
});

test('a gateway frozen past the stream history: fleet_gap (trimmed, with the count) to its clients and operators', { timeout: 60_000 }, async (t) => {
  const watcher = await roomClient(f.a, { device_id: 'trim-a', identity: 'on A', fleet_gap: true });
  const roomId = String(watcher.room.room_id);
  const op = await TestClient.connect(`${f.a.url}/ws/admin/?token=${TOKEN}`);
  await op.ask({ type: 'subscribe', topics: ['fleet'] }, 'subscribed');
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => roomClient(f.b, { device_id: `trim-b${i}`, identity: `sender ${i}`, room_id: roomId })));
  await waitFor('A’s client sees every sender in the room', async () => {
    const info = await watcher.c.ask({ type: 'query_room' }, 'room_info');
    return info.total_clients === SENDERS + 1 ? true : null;
  }, 10_000);
  const got: string[] = [];
  watcher.c.ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    if (f.type === 'message' && typeof f.content === 'string' && f.content.startsWith('m ')) got.push(f.content);
  });

  f.a.proc.kill('SIGSTOP');
  const frozenAt = Date.now();
  // Each sender stays under the per-client frame rate; together they outrun the history many times.
  await Promise.all(senders.map(async (s, i) => {
    for (let n = 0; n < PER_SENDER; n++) {
      s.c.send({ type: 'message', content: `m ${i} ${n}` });
      if (n % 50 === 49) await sleep(120);
    }
  }));
  // Let B hand everything to Redis before A wakes (A's own keys live 6 s: wake well before).
  await sleep(300);
  f.a.proc.kill('SIGCONT');
  const frozenMs = Date.now() - frozenAt;
  const resumedAt = Date.now();
  const gap = await watcher.c.next('fleet_gap', 10_000);
  const gapMs = Date.now() - resumedAt;
  assert.equal(gap.reason, 'trimmed');
  assert.equal(typeof gap.lost, 'number');
  const opGap = await op.next('fleet_gap', 5000);
  assert.equal(opGap.reason, 'trimmed');
  const opEvent = await op.next((f) => f.type === 'event' && f.topic === 'fleet' && f.event === 'gap', 5000);
  assert.equal(opEvent.reason, 'trimmed');
  assert.equal(opEvent.lost, gap.lost);
  const sent = SENDERS * PER_SENDER;
  await sleep(1500);
  const lost = Number(gap.lost);
  t.diagnostic(`history ${HISTORY}; A frozen ${frozenMs} ms; ${sent} broadcasts sent through B; A's client got ${got.length}, fleet_gap said ${lost} lost (${gapMs} ms after SIGCONT)`);
  assert.ok(lost > 0 && got.length < sent, 'the history was not outrun: nothing lost');
  // `lost` counts fleet events (a broadcast is one, its operator event another): at least every missing broadcast.
  assert.ok(sent - got.length <= lost, `${sent - got.length} broadcasts missing, only ${lost} events told lost`);
  assert.ok(lost <= 3 * (sent - got.length) + 10, `${lost} events told lost for ${sent - got.length} missing broadcasts`);
  // Per sender, what arrived is in the order sent.
  for (let i = 0; i < SENDERS; i++) {
    const ns = got.filter((c) => c.startsWith(`m ${i} `)).map((c) => Number(c.split(' ')[2]));
    assert.deepEqual(ns, [...ns].sort((x, y) => x - y), `sender ${i} out of order`);
    assert.equal(new Set(ns).size, ns.length, `sender ${i} duplicated`);
  }
  // Still one fleet afterwards.
  senders[0]!.c.send({ type: 'message', content: 'after the gap' });
  assert.equal((await watcher.c.next((f) => f.content === 'after the gap', 5000)).content, 'after the gap');
  await Promise.all([watcher.c.close(), op.close(), ...senders.map((s) => s.c.close())]);
});
