/**
 * What a fleet signals when Redis loses events: Redis (the test's own) killed and started
 * again empty on the same port, a new epoch. Room clients that asked for `fleet_gap` get one
 * with reason `epoch`, clients written for the plain room protocol get nothing unknown, and
 * rooms work across the gateways again afterwards. The times are printed as diagnostics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../support/gateway.js';
import { sleep, waitFor } from '../sessions/support.js';
import { fleetPair, roomClient, startOwnRedis } from './support.js';

const f = fleetPair();

test('Redis restarted empty: fleet_gap (epoch) to the clients that asked, nothing to the others, rooms work again', { timeout: 60_000 }, async () => {
  const asked = await roomClient(f.a, { device_id: 'gap-yes', identity: 'coach', fleet_gap: true });
  const roomId = String(asked.room.room_id);
  const plain = await roomClient(f.a, { device_id: 'gap-no', identity: 'old client', room_id: roomId });
  const unknown: Frame[] = [];
  // Every frame the plain client gets must be one the room protocol has.
  plain.c.ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as Frame;
    if (!['message', 'room_info', 'connection', 'room', 'error'].includes(String(f.type))) unknown.push(f);
  });
  const guest = await roomClient(f.b, { device_id: 'gap-b', identity: 'on B', room_id: roomId, fleet_gap: true });
  await sleep(300);

  await f.redis.stop();
  const t0 = Date.now();
  await waitFor('health degraded on A', async () => ((await (await fetch(f.a.http + '/api/health')).json()) as { status: string }).status === 'degraded', 8000);
  const downMs = Date.now() - t0;
  f.redis = await startOwnRedis(f.redis.port);
  const t1 = Date.now();
  const gapA = await asked.c.next('fleet_gap', 10_000);
  const gapMs = Date.now() - t1;
  assert.equal(gapA.reason, 'epoch');
  const gapB = await guest.c.next('fleet_gap', 10_000);
  assert.equal(gapB.reason, 'epoch');
  await waitFor('health ok again on A', async () => ((await (await fetch(f.a.http + '/api/health')).json()) as { status: string }).status === 'ok', 10_000);
  const okMs = Date.now() - t1;
  await sleep(500);
  const plainGap = await plain.c.next('fleet_gap', 200).catch(() => null);
  assert.equal(plainGap, null, 'a client that did not ask got a fleet_gap frame');
  assert.deepEqual(unknown, [], 'the plain room client got a frame the room protocol does not have');

  // Presence and routing are rebuilt from the keys the gateways write again.
  await waitFor('B’s guest back in A’s view of the room', async () => {
    const info = await plain.c.ask({ type: 'query_room' }, 'room_info');
    return info.total_clients === 3 ? true : null;
  }, 10_000);
  asked.c.send({ type: 'message', content: 'after the epoch' });
  assert.equal((await guest.c.next('message', 5000)).content, 'after the epoch');
  console.log(`# redis restarted empty: A degraded ${downMs} ms after the kill; fleet_gap (epoch) ${gapMs} ms and health ok ${okMs} ms after the new Redis started; the plain room client got no unknown frame`);
  for (const x of [asked, plain, guest]) await x.c.close();
});
