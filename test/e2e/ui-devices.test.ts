/**
 * The device pages, commands to several boards, rooms everyone left and the keyboard, on a
 * laptop (1366x800) and a phone (390x844), against a real gateway and simulated boards in
 * real Chromium. The truth is the gateway's HTTP API and each simulated board's own log of the
 * commands it received, never the page's own tables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { existsSync } from 'node:fs';
import { TestClient } from '../support/gateway.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { noBrowser, startHarness, type Harness } from './support.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- page.evaluate runs in the browser
declare const document: any, window: any, innerWidth: number;

const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

type Received = { device: string; commandId: string; command: string };

for (const vp of VIEWPORTS) {
  describe(`devices, rooms and shortcuts on a ${vp.name} (${vp.width}x${vp.height})`, { skip: noBrowser }, () => {
    let h: Harness;
    let fleet: Fleet;
    const received: Received[] = [];
    before(async () => {
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, timezoneId: 'America/New_York' });
      fleet = startFleet({ url: h.gw.url, devices: 3, rateHz: 50, mode: 'batch', staggerMs: 5, statusIntervalMs: 700, heartbeatIntervalMs: 500 });
      await fleet.ready;
      // Each board's own log of what reached it.
      for (const b of fleet.boards) b.on('command', (c) => !c.duplicate && received.push({ device: b.deviceCode, commandId: c.commandId, command: c.command }));
      for (const id of ['racket-1', 'racket-2']) {
        const r = await h.gw.http(`/api/devices/${id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['court-a'] }) });
        assert.ok(r.ok, `tagging ${id}: ${r.status} ${await r.text()}`);
      }
    });
    after(async () => {
      await fleet.stop();
      await h.close();
    });

    const overflow = () => h.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    const go = async (hash: string) => {
      await h.page.evaluate((v: string) => (window.location.hash = v), hash);
      await h.page.locator('main h1').first().waitFor();
    };
    const api = async <T>(path: string) => (await (await h.gw.http(path)).json()) as T;

    test("a board's page: status history, events, commands with the board's answers, sessions, not on USB", async () => {
      const { page } = h;
      await h.gw.store.createSession({ sessionId: `s-page-${vp.name}`, state: 'complete', boards: ['racket-1', 'racket-3'], playerId: 'player-9', court: null, roomId: null, notes: null, sampleRateHz: 50, createdAt: new Date(), startedAt: new Date(), stoppedAt: new Date(), completedAt: new Date(), failureReason: null, summary: null });
      await h.open('devices');
      await page.getByTestId('devices-online').filter({ hasText: '3' }).waitFor();
      await page.locator('tr[data-device="racket-1"]').getByTestId('device-link').click();
      await page.waitForFunction(() => window.location.hash === '#/devices/racket-1');
      await page.locator('main h1', { hasText: 'racket-1' }).waitFor();
      const hist = page.getByTestId('status-history');
      await hist.locator('li[data-source="heartbeat"]').first().waitFor();
      await hist.locator('li[data-source="status_update"]').first().waitFor();

      // What the page lists is what the gateway's API has: the same sources, the newest values.
      const truth = await api<{ statuses: { source: string; values: Record<string, unknown> }[]; events: { event: string; ip?: string }[]; sessions: { session_id: string }[] }>('/api/devices/racket-1/history?limit=200');
      const shown = await hist.locator('li').count();
      assert.ok(shown >= 2 && shown <= 25, `${shown} status entries shown`);
      const beat = truth.statuses.find((s) => s.source === 'heartbeat')!;
      assert.equal(typeof beat.values.battery, 'number');
      const texts = await hist.locator('li[data-source="heartbeat"] .vals').allTextContents();
      assert.ok(texts.some((t) => /battery \d+/.test(t) && /rssi -\d+/.test(t)), texts.join(' | '));
      await page.getByRole('img', { name: 'Battery (%) over time' }).waitFor();

      const events = page.getByTestId('device-events');
      await events.locator('li[data-event="connected"]').first().waitFor();
      assert.ok(truth.events.some((e) => e.event === 'connected' && e.ip === '127.0.0.1'));
      await events.getByText('127.0.0.1').first().waitFor();

      // A command from the page: it reaches the board (its own log), and its answer shows.
      const before = received.length;
      await page.locator('#dev-cmd').fill('status');
      await page.getByTestId('device-commands').getByRole('button', { name: 'Send' }).click();
      const got = await waitFor(() => received.slice(before).find((r) => r.device === 'racket-1' && r.command === 'status'));
      const item = page.getByTestId('device-commands').locator(`li[data-command="${got.commandId}"]`);
      await item.and(page.locator('[data-state="acked"]')).waitFor({ timeout: 10_000 });
      assert.match((await item.textContent()) ?? '', /status\s*done[\s\S]*firmware\s*1\.2\.0/);

      const sessions = page.getByTestId('device-sessions');
      const link = sessions.getByRole('link', { name: `s-page-${vp.name}` });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), `#/sessions/s-page-${vp.name}`);
      assert.ok(truth.sessions.some((s) => s.session_id === `s-page-${vp.name}`));
      await sessions.getByText('with racket-3').waitFor();

      await page.getByTestId('not-on-usb').filter({ hasText: 'racket-1 is not on a USB port of this gateway' }).waitFor();
      assert.equal(await overflow(), 0, 'the device page is wider than the phone');
      await h.shot(`ui-device-page-${vp.name}`);
      assert.deepEqual(h.errors, []);
    });

    test('boards picked by tag, then by hand, get one command; each board answers on its own line', async () => {
      const { page } = h;
      await go('#/devices');
      await page.getByTestId('devices-online').filter({ hasText: '3' }).waitFor();
      await page.getByLabel('Pick the boards with a tag').selectOption('court-a');
      await page.getByTestId('picked-count').filter({ hasText: '2 picked' }).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: 'Pick racket-1' }).isChecked(), true);
      assert.equal(await page.getByRole('checkbox', { name: 'Pick racket-3' }).isChecked(), false);
      const tagged = (await api<{ devices: { device_id: string; tags?: string[] }[] }>('/api/devices')).devices.filter((d) => d.tags?.includes('court-a')).map((d) => d.device_id).sort();
      assert.deepEqual(tagged, ['racket-1', 'racket-2']);

      let from = received.length;
      await page.locator('#batch-cmd').fill('status');
      await page.getByRole('button', { name: 'Send to 2 boards' }).click();
      const results = page.getByTestId('batch-results');
      for (const id of tagged) await results.locator(`li[data-device="${id}"][data-state="acked"]`).waitFor({ timeout: 10_000 });
      assert.match((await results.locator('li[data-device="racket-2"]').textContent()) ?? '', /done[\s\S]*firmware\s*1\.2\.0/);
      await waitFor(() => received.slice(from).filter((r) => r.command === 'status').length >= 2 || undefined);
      assert.deepEqual(received.slice(from).filter((r) => r.command === 'status').map((r) => r.device).sort(), tagged);
      assert.equal(await results.locator('li').count(), 2);
      await h.shot(`ui-batch-tag-${vp.name}`);

      // racket-3 added by hand; a command none of them knows: each says so, and each board got it once.
      await page.getByRole('checkbox', { name: 'Pick racket-3' }).check();
      await page.getByTestId('picked-count').filter({ hasText: '3 picked' }).waitFor();
      from = received.length;
      await page.locator('#batch-cmd').fill('identify');
      await page.getByRole('button', { name: 'Send to 3 boards' }).click();
      for (const id of ['racket-1', 'racket-2', 'racket-3']) {
        const li = results.locator(`li[data-device="${id}"][data-state="failed"]`);
        await li.waitFor({ timeout: 10_000 });
        assert.match((await li.textContent()) ?? '', /the board does not know "identify" \(unknown_command\)/);
      }
      await waitFor(() => received.slice(from).length >= 3 || undefined);
      assert.deepEqual(received.slice(from).map((r) => `${r.device}:${r.command}`).sort(), ['racket-1:identify', 'racket-2:identify', 'racket-3:identify']);
      assert.equal(await overflow(), 0, 'the devices page is wider than the phone');
      await h.shot(`ui-batch-answers-${vp.name}`);
      assert.deepEqual(h.errors, []);
    });

    test('a room everyone left is listed as empty, with its messages', async () => {
      const { page } = h;
      const c = await TestClient.connect(h.gw.url + '/');
      c.send({ device_id: `phone-${vp.name}`, identity: 'mobile_user' });
      await c.next('connection');
      const roomId = String((await c.next('room')).room_id);
      c.send({ type: 'message', content: 'see you tomorrow at court 2', timestamp: new Date().toISOString() });
      await waitFor(async () => (await api<{ messages: unknown[] }>(`/api/messages?room_id=${roomId}`)).messages.length === 1 || undefined);
      await c.close();
      await go('#/rooms');
      const entry = page.getByTestId('empty-rooms').locator(`button[data-room="${roomId}"]`);
      await entry.waitFor();
      assert.match((await entry.textContent()) ?? '', /empty · 1 message/);
      // The gateway lists it as empty, and holds its message.
      const rooms = await api<{ rooms: { room_id: string }[]; empty_rooms: { room_id: string; messages: number }[] }>('/api/rooms');
      assert.ok(!rooms.rooms.some((r) => r.room_id === roomId));
      assert.equal(rooms.empty_rooms.find((r) => r.room_id === roomId)?.messages, 1);
      await entry.click();
      await page.getByTestId('room-empty').waitFor();
      await page.getByTestId('room-log').getByText('see you tomorrow at court 2').waitFor();
      assert.equal(await page.locator('#msg-text').count(), 0, 'no message form for a room nobody is in');
      assert.equal(await overflow(), 0);
      await h.shot(`ui-rooms-empty-${vp.name}`);
      assert.deepEqual(h.errors, []);
    });

    test('keyboard: g d, g s, g l, g r open views, / focuses the filter, ? lists the keys; Space still pauses Live', async () => {
      const { page } = h;
      await go('#/overview');
      await page.locator('main').focus();
      for (const [key, view] of [['d', 'devices'], ['s', 'sessions'], ['r', 'rooms'], ['l', 'live']] as const) {
        await page.keyboard.press('g');
        await page.keyboard.press(key);
        await page.waitForFunction((v: string) => window.location.hash === `#/${v}`, view);
        await page.locator('main h1').first().waitFor();
      }
      // On Live, Space pauses (Live's own key), the shortcuts leave it alone.
      await page.waitForTimeout(300);
      await page.keyboard.press('Space');
      await page.getByTestId('paused').waitFor();
      await page.keyboard.press('Space');
      await page.getByTestId('paused').waitFor({ state: 'detached' });

      await page.keyboard.press('g');
      await page.keyboard.press('d');
      await page.waitForFunction(() => window.location.hash === '#/devices');
      await page.locator('#dev-filter').waitFor();
      await page.keyboard.press('/');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'dev-filter');
      // Typed into the field, "g d" and "?" are text, not shortcuts.
      await page.keyboard.type('g d?');
      assert.equal(await page.locator('#dev-filter').inputValue(), 'g d?');
      assert.equal(await page.getByTestId('shortcut-help').count(), 0);
      await page.locator('#dev-filter').fill('');
      await page.locator('main').focus();

      await page.keyboard.press('?');
      const help = page.getByTestId('shortcut-help');
      await help.waitFor();
      for (const k of ['g d', 'g s', 'g l', '/', 'Space', '?']) assert.ok(((await help.textContent()) ?? '').replace(/\s+/g, ' ').includes(k.replace(/\s+/g, ' ')), `help lists ${k}`);
      const box = await help.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= vp.width, `help beyond the width: ${JSON.stringify(box)}`);
      assert.equal(await overflow(), 0);
      await h.shot(`ui-shortcuts-${vp.name}`);
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });
      assert.deepEqual(h.errors, []);
    });
  });
}

const noSocat = existsSync('/usr/bin/socat') || process.env.CI ? false : 'no socat for the pty board peer (apt-get install socat)';

for (const vp of VIEWPORTS) {
  describe(`a board on USB, its page on a ${vp.name}`, { skip: noBrowser || noSocat }, () => {
    let h: Harness;
    let fleet: Fleet;
    let peer: BoardPeer;
    before(async () => {
      peer = await startBoardPeer({ mac: '24:0a:c4:aa:bb:09' });
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, gateway: { usb: { extraPorts: [peer.path], portPollMs: 200 } } });
      fleet = startFleet({ url: h.gw.url, devices: 1, rateHz: 50, mode: 'batch', statusIntervalMs: 1000 });
      await fleet.ready;
    });
    after(async () => {
      await fleet.stop();
      await h.close();
      await peer.stop();
    });

    test('linked to its port, the page shows what the board prints', async () => {
      const { page } = h;
      await h.open('devices/racket-1');
      await page.getByTestId('not-on-usb').waitFor();
      // The port as the gateway lists it.
      const ports = (await (await h.gw.http('/api/usb/ports')).json()) as { ports: { path: string }[] };
      assert.ok(ports.ports.some((p) => p.path === peer.path), JSON.stringify(ports));
      await page.getByLabel('It is on').selectOption(peer.path);
      await page.getByRole('button', { name: 'Link' }).click();
      await page.getByTestId('device-usb').getByText(`On USB port ${peer.path}`).waitFor();
      await page.getByRole('button', { name: `Watch ${peer.path}` }).click();
      const log = page.getByRole('log', { name: 'Serial output' });
      await page.getByText(/open|reconnected/).first().waitFor({ timeout: 10_000 });
      peer.reset('run');
      await page.waitForTimeout(300);
      peer.print('I (2100) courtside: racket-1 streaming at 50 Hz');
      await log.getByText('I (2100) courtside: racket-1 streaming at 50 Hz').waitFor({ timeout: 10_000 });
      // The link is kept: the page opened again shows the port at once.
      await page.reload();
      await page.getByTestId('device-usb').getByText(`On USB port ${peer.path}`).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth), 0);
      await page.getByRole('button', { name: `Watch ${peer.path}` }).click();
      await page.getByText(/open|reconnected/).first().waitFor({ timeout: 10_000 });
      peer.print('I (2200) courtside: still here');
      await log.getByText('still here').waitFor({ timeout: 10_000 });
      await h.shot(`ui-device-usb-${vp.name}`);
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      assert.deepEqual(h.errors, []);
    });
  });
}

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
