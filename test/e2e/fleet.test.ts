/** Simulated boards seen through the UI: Devices, Live charts, and a message from Rooms to a room client. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { roomClient } from '../support/gateway.js';
import { noBrowser, startHarness, type Harness } from './support.js';
// In-page code (page.evaluate) runs in the browser; the tests' typecheck has no DOM library, so the page's globals are untyped here.
declare const document: any, window: any, requestAnimationFrame: any, innerHeight: number, PerformanceObserver: any;

/** A fingerprint of a chart's pixels and how many are drawn in a series colour (not background, grid or text). */
function chartPixels(page: Page, board: string, index: number): Promise<{ hash: number; ink: number }> {
  return page.evaluate(
    ([b, i]) => {
      const canvas = document.querySelectorAll(`[data-board="${b}"] .chart canvas`)[i] ;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let hash = 0;
      let ink = 0;
      for (let p = 0; p < d.length; p += 4) {
        hash = (hash * 31 + d[p]! * 7 + d[p + 1]! * 3 + d[p + 2]!) | 0;
        const [r, g, bl] = [d[p]!, d[p + 1]!, d[p + 2]!];
        // Series strokes are saturated; greys (axes, grid, labels) have r ≈ g ≈ b.
        if (d[p + 3]! > 0 && Math.max(r, g, bl) - Math.min(r, g, bl) > 60) ink++;
      }
      return { hash, ink };
    },
    [board, index] as const,
  );
}

describe('boards in the UI', { skip: noBrowser }, () => {
  let h: Harness;
  let fleet: Fleet;
  before(async () => {
    h = await startHarness();
    fleet = startFleet({ url: h.gw.url, devices: 3, rateHz: 200, mode: 'batch', streamAlways: true, staggerMs: 5, statusIntervalMs: 1000 });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await h.close();
  });

  test('boards come online in Devices with battery, signal and firmware; a command is acknowledged', async () => {
    await h.open('devices');
    await h.page.getByTestId('devices-online').filter({ hasText: '3' }).waitFor();
    const row = h.page.locator('tr[data-device="racket-2"]');
    await row.getByText('online', { exact: true }).waitFor();
    await row.getByText('1.2.0').waitFor();
    await row.getByText('%').waitFor();
    await row.getByText('dBm').waitFor();
    await row.getByRole('button', { name: 'Stop streaming on racket-2' }).click();
    await row.getByTestId('last-command').filter({ hasText: 'stop_collection: done' }).waitFor();
    await row.getByRole('button', { name: 'Start streaming on racket-2' }).click();
    await row.getByTestId('last-command').filter({ hasText: 'start_collection: done' }).waitFor();
    await h.shot('devices-laptop');
    await fleet.boards[2]!.stop();
    await h.page.locator('tr[data-device="racket-3"]').getByText('offline', { exact: true }).waitFor();
    await h.page.locator('tr[data-device="racket-3"]').getByText(/last seen/).waitFor();
    await fleet.boards[2]!.start();
    await h.page.getByTestId('devices-online').filter({ hasText: '3' }).waitFor();
    assert.deepEqual(h.errors, []);
  });

  test('Live draws non-empty, moving accelerometer and gyroscope data', async () => {
    await h.page.goto(h.page.url().replace(/#.*$/, '#/live'));
    await h.page.locator('[data-board="racket-1"] .chart canvas').first().waitFor();
    await h.page.getByRole('checkbox', { name: /racket-2/ }).uncheck();
    await h.page.locator('[data-board="racket-2"]').waitFor({ state: 'detached' });
    await h.page.waitForTimeout(1500);
    for (const chart of [0, 1]) {
      const a = await chartPixels(h.page, 'racket-1', chart);
      await h.page.waitForTimeout(400);
      const b = await chartPixels(h.page, 'racket-1', chart);
      assert.ok(a.ink > 200 && b.ink > 200, `chart ${chart} has drawn lines (${a.ink}, ${b.ink} px)`);
      assert.notEqual(a.hash, b.hash, `chart ${chart} moves`);
    }
    await h.page.getByTestId('rate').first().filter({ hasText: /^(1[5-9]\d|2\d\d) samples/ }).waitFor();
    const stats = await h.page.evaluate(() => {
      const s = (window as unknown as { __courtsideLive: { frames: number; points: Record<string, number> } }).__courtsideLive;
      return { frames: s.frames, points: s.points };
    });
    assert.ok(stats.frames > 30, `frames drawn: ${stats.frames}`);
    assert.ok((stats.points['racket-1'] ?? 0) > 100);
    await h.shot('live-laptop');
    assert.deepEqual(h.errors, []);
  });

  test('a message sent in Rooms arrives at a room client', async () => {
    const a = await roomClient(h.gw, { device_id: 'phone-1', identity: 'mobile_user' });
    const roomId = String(a.room.room_id);
    const b = await roomClient(h.gw, { device_id: 'phone-2', identity: 'mobile_user', room_id: roomId });
    try {
      await h.page.goto(h.page.url().replace(/#.*$/, '#/rooms'));
      await h.page.locator(`[data-room="${roomId}"]`).click();
      await h.page.getByTestId('members').getByText('phone-2').waitFor();
      a.c.send({ type: 'message', content: 'rally starts in 5' });
      await h.page.getByTestId('room-log').getByText('rally starts in 5').waitFor();

      await h.page.getByLabel('Message', { exact: true }).fill('court 3 is free');
      await h.page.getByRole('button', { name: 'Send' }).click();
      const got = await b.c.next((f) => f.type === 'message' && f.from_device_id === 'operator', 5000);
      assert.equal(got.content, 'court 3 is free');
      assert.equal(got.message_type, 'broadcast');
      await h.page.getByText('Sent to 2 members.').waitFor();

      await h.page.getByLabel('To', { exact: true }).selectOption('phone-1');
      await h.page.getByLabel('Message', { exact: true }).fill('you serve');
      await h.page.getByRole('button', { name: 'Send' }).click();
      const direct = await a.c.next((f) => f.type === 'message' && f.message_type === 'direct', 5000);
      assert.equal(direct.content, 'you serve');
      await h.page.getByTestId('room-log').getByText('you serve').waitFor();
      await h.shot('rooms-laptop');

      // The recipient left: the gateway's refusal shows next to the form, in words.
      await a.c.close();
      await h.page.getByTestId('members').getByText('phone-1').waitFor({ state: 'detached' });
      await h.page.getByLabel('Message', { exact: true }).fill('still there?');
      await h.page.getByRole('button', { name: 'Send' }).click();
      await h.page.getByRole('alert').filter({ hasText: /not found in room|not connected/i }).waitFor();
      assert.deepEqual(h.errors, []);
    } finally {
      await a.c.close();
      await b.c.close();
    }
  });
});
