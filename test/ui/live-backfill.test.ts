/**
 * The Live store's backfill against a real gateway and simulated boards: a
 * board charted now starts with what the gateway kept of it, widening the
 * window fetches further back, and live batches arriving meanwhile stay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLiveStore } from '../../renderer/src/lib/stores/live.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connected, sleep, until } from './helpers.js';

interface Run { start_ms: number; rate_hz: number; samples: number[][] }

describe('live store backfill', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  before(async () => {
    gw = await startTestGateway();
    fleet = startFleet({ url: gw.url, devices: 1, rateHz: 100, mode: 'batch', streamAlways: true, staggerMs: 0 });
    await fleet.ready;
    // Four seconds streamed before anyone charts the board.
    await sleep(4000);
  });
  after(async () => {
    await fleet.stop();
    await gw.stop();
  });

  test('a board charted now starts with the gateway\'s last seconds; a wider window reaches further back', async () => {
    const c = await connected(gw);
    const live = createLiveStore(c);
    live.start();
    live.setWindow(1);
    live.choose(['racket-1']);
    const s = live.stream('racket-1')!;
    // 1 s asked: about 100 samples at once, far more than live batches bring in the first 100 ms.
    await until(() => s.ring.length >= 95, 1000);
    const span = (s.ring.lastTime() - s.ring.sample(0, [])) / 1000;
    assert.ok(span < 2, `1 s window backfilled ${span.toFixed(2)} s`);

    live.setWindow(60);
    await until(() => (s.ring.lastTime() - s.ring.sample(0, [])) / 1000 > 3.5, 2000);
    // The oldest sample the chart holds is the oldest the gateway kept, value for value (float32 in the ring).
    const r = (await (await gw.http('/api/devices/racket-1/recent-samples?seconds=60')).json()) as { runs: Run[] };
    const first = r.runs[0]!;
    const held: number[] = [];
    assert.equal(s.ring.sample(0, held), first.start_ms);
    assert.deepEqual(held, first.samples[0]!.map((v) => Math.fround(v)));
    // One sample per time: no duplicates where the backfill and the live batches overlap.
    const times: number[] = [];
    for (let k = 0; k < s.ring.length; k++) times.push(s.ring.sample(k, []));
    for (let k = 1; k < times.length; k++) assert.ok(times[k]! > times[k - 1]!, `times ascend at ${k}: ${times[k - 1]} then ${times[k]}`);
    // Every 10 ms at 100 Hz, no gap where the live stream took over.
    const gaps = times.slice(1).map((t, k) => t - times[k]!).filter((d) => Math.abs(d - 10) > 0.5);
    assert.deepEqual(gaps, []);
    live.stop();
    c.close();
  });
});
