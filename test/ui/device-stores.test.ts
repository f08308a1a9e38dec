/** The stores of a board's page and of commands to several boards, against a real gateway and simulated boards (whose own logs are the truth). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'svelte/store';
import { createDevicesStore } from '../../renderer/src/lib/stores/devices.js';
import { createDeviceHistory } from '../../renderer/src/lib/stores/device-history.js';
import { createRoomsStore } from '../../renderer/src/lib/stores/rooms.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connected, sleep, until } from './helpers.js';

describe('device page and batch stores against a gateway', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  const got: { device: string; commandId: string; command: string }[] = [];
  before(async () => {
    gw = await startTestGateway();
    fleet = startFleet({ url: gw.url, devices: 3, rateHz: 50, mode: 'batch', staggerMs: 5, statusIntervalMs: 100 });
    await fleet.ready;
    for (const b of fleet.boards) b.on('command', (c) => got.push({ device: b.deviceCode, commandId: c.commandId, command: c.command }));
  });
  after(async () => {
    await fleet.stop();
    await gw.stop();
  });

  test('a batch follows each board to its answer; a row keeps the answer of its own command', async () => {
    const c = await connected(gw);
    const d = createDevicesStore(c, createRoomsStore(c).roomOf);
    d.start();
    await until(() => get(d).rows.filter((r) => r.online).length === 3);
    await d.sendCommand('racket-1', 'status');
    await until(() => get(d).rows.find((r) => r.device_id === 'racket-1')?.lastCommand?.state === 'acked');
    await d.sendMany(['racket-1', 'racket-3', 'racket-1'], 'identify');
    const b = await until(() => {
      const v = get(d.batch);
      return v && v.rows.every((r) => r.state === 'failed') && v;
    });
    assert.deepEqual(b.rows.map((r) => r.device_id), ['racket-1', 'racket-3'], 'each board once');
    for (const r of b.rows) {
      assert.deepEqual(r.result, { error: 'unknown_command', command: 'identify' });
      // The id the board itself got.
      assert.ok(got.some((g) => g.device === r.device_id && g.commandId === r.command_id && g.command === 'identify'), JSON.stringify(r));
    }
    assert.ok(!got.some((g) => g.device === 'racket-2' && g.command === 'identify'));
    const row = get(d).rows.find((r) => r.device_id === 'racket-1')!.lastCommand!;
    assert.equal(row.command, 'status');
    assert.equal(row.state, 'acked');
    d.stop();
    c.close();
  });

  test('the page store loads each list and pages one back without repeats', async () => {
    const c = await connected(gw);
    // More statuses than a page (25): the board reports every 100 ms.
    await until(() => gw.core.boards.history.statusPage('racket-2', 40).items.length >= 40, 10_000);
    const h = createDeviceHistory(c, 'racket-2');
    h.start();
    const first = await until(() => get(h).history);
    assert.equal(first.statuses.length, 25);
    assert.equal(first.more.statuses, true);
    await h.older('statuses');
    const all = get(h).history!.statuses;
    assert.ok(all.length > 25, `${all.length}`);
    assert.equal(new Set(all.map((s) => s.at + s.source)).size, all.length, 'no entry twice');
    assert.deepEqual([...all].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)), all, 'newest first across pages');
    // The gateway's own list, in one request, is the same.
    // The gateway's own list in one request (newer entries may have come since): the pages are a run of it.
    const truth = ((await (await gw.http('/api/devices/racket-2/history?only=statuses&limit=200')).json()) as { statuses: typeof all }).statuses;
    const i = truth.findIndex((s) => s.at === all[0]!.at && s.source === all[0]!.source);
    assert.ok(i >= 0);
    assert.deepEqual(truth.slice(i, i + all.length), all);
    h.stop();
    c.close();
  });
});
