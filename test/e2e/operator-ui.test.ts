/**
 * What a coach and a lab operator hit first, on a laptop (1366x800) and a
 * phone (390x844): every view fits the width and is reachable from the nav,
 * opens at its top, tables turn into cards on the phone, commands show the
 * board's answer, Provisioning refuses a loopback gateway address, and
 * sessions show their facts, ids, zones and deep links. The gateway's HTTP
 * API is the truth the pages are checked against.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { noBrowser, startHarness, type Harness } from './support.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- page.evaluate runs in the browser
declare const document: any, window: any, getComputedStyle: any, innerWidth: number;

const VIEWS = ['overview', 'rooms', 'devices', 'live', 'sessions', 'provisioning', 'settings'];
const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

for (const vp of VIEWPORTS) {
  describe(`operator UI on a ${vp.name} (${vp.width}x${vp.height})`, { skip: noBrowser }, () => {
    let h: Harness;
    let fleet: Fleet;
    const phone = vp.width < 600;
    before(async () => {
      // A zone the machine is not in, so a time printed without its zone cannot pass by accident.
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, timezoneId: 'America/New_York' });
      fleet = startFleet({ url: h.gw.url, devices: 2, rateHz: 100, mode: 'batch', streamAlways: true, strokesPerMinute: 60, staggerMs: 5, statusIntervalMs: 1000 });
      await fleet.ready;
    });
    after(async () => {
      await fleet.stop();
      await h.close();
    });

    const go = async (view: string) => {
      await h.page.evaluate((v: string) => (window.location.hash = `#/${v}`), view);
      await h.page.locator('main h1').first().waitFor();
    };
    const overflow = () => h.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);

    test('every view fits the width, is reached from the nav and opens at its top', async () => {
      const { page } = h;
      await h.open('devices');
      await page.getByTestId('devices-online').filter({ hasText: '2' }).waitFor();
      for (const view of VIEWS) {
        // From the bottom of the page before: the next view must still open at its top.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        const link = page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: new RegExp(`^${view}$`, 'i') });
        const box = await link.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= vp.width, `nav link ${view} is outside the width: ${JSON.stringify(box)}`);
        await link.click();
        await page.waitForFunction((v: string) => window.location.hash.startsWith(`#/${v}`), view);
        await page.locator('main h1').first().waitFor();
        await page.waitForTimeout(300);
        assert.equal(await page.evaluate(() => window.scrollY), 0, `${view} opened scrolled`);
        const title = await page.evaluate(() => {
          const h1 = document.querySelector('main h1').getBoundingClientRect();
          return { top: h1.top, header: document.querySelector('header').getBoundingClientRect().bottom };
        });
        assert.ok(title.top >= title.header, `${view}: title at ${title.top}px, under the header ending at ${title.header}px`);
        const o = await overflow();
        assert.ok(o <= 0, `${view} is ${o}px wider than the viewport`);
        await h.shot(`ui-${view}-${vp.name}`);
      }
      assert.deepEqual(h.errors, []);
    });

    test(`the device table is ${phone ? 'one card per board' : 'a table'} and its buttons say what they start`, async () => {
      const { page } = h;
      await go('devices');
      const row = page.locator('tr[data-device="racket-1"]');
      await row.getByTestId('board-state').filter({ hasText: 'streaming' }).waitFor();
      assert.equal(await row.getByText('recording', { exact: true }).count(), 0);
      assert.equal(await row.evaluate((el: unknown) => getComputedStyle(el).display), phone ? 'block' : 'table-row');
      for (const name of ['Start streaming', 'Stop streaming']) {
        const b = await row.getByRole('button', { name: `${name} on racket-1` }).boundingBox();
        assert.ok(b && b.x >= 0 && b.x + b.width <= vp.width, `${name} is beyond the width: ${JSON.stringify(b)}`);
      }
      if (phone) {
        // Each value sits beside its column's name.
        await row.locator('td[data-label="Battery"]').waitFor();
        const label = await row.locator('td[data-label="Battery"]').evaluate((el: unknown) => getComputedStyle(el, '::before').content);
        assert.equal(label, '"Battery"');
      }
      assert.ok((await overflow()) <= 0);
    });

    test("a command shows the board's answer; the commands offered are those the board lists", async () => {
      const { page } = h;
      await go('devices');
      const row = page.locator('tr[data-device="racket-1"]');
      await row.getByRole('button', { name: 'Send a command to racket-1' }).click();
      // What the board reports, through the gateway's own API.
      const dev = (await (await h.gw.http('/api/devices/racket-1')).json()) as { device?: { status: { commands: string[] } }; status?: { commands: string[] } };
      const listed = (dev.device ?? dev).status!.commands;
      assert.ok(listed.includes('status') && !listed.includes('identify'), JSON.stringify(listed));
      const offered = await page.locator('#cmd-list option').evaluateAll((os: { value: string }[]) => os.map((o) => o.value));
      assert.deepEqual(offered, listed);
      await page.getByTestId('cmd-known').filter({ hasText: `racket-1 executes: ${listed.join(', ')}` }).waitFor();

      await page.getByLabel('Command', { exact: true }).fill('identify');
      await page.getByTestId('cmd-known').filter({ hasText: 'the board will answer unknown_command' }).waitFor();
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await row.getByTestId('last-command').and(page.locator('[data-state="failed"]')).filter({ hasText: 'identify: failed · the board does not know "identify" (unknown_command)' }).waitFor();

      await page.getByLabel('Command', { exact: true }).fill('status');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const answer = row.getByTestId('command-answer');
      await answer.waitFor();
      await row.getByTestId('last-command').filter({ hasText: 'status: done' }).waitFor();
      const text = (await answer.textContent()) ?? '';
      assert.match(text, /firmware\s*1\.2\.0/);
      assert.match(text, /battery\s*\d+/);
      await h.shot(`ui-command-answer-${vp.name}`);
      const b = await answer.boundingBox();
      assert.ok(b && b.x + b.width <= vp.width, `answer beyond the width: ${JSON.stringify(b)}`);
      assert.ok((await overflow()) <= 0);
    });

    test('Provisioning refuses a loopback gateway address unless confirmed, and says why', async () => {
      const { page } = h;
      await go('provisioning');
      // This gateway listens on 127.0.0.1 only: nothing to pre-fill, and it says so.
      const status = (await (await h.gw.http('/api/status')).json()) as { board_addresses: { address: string; loopback: boolean }[] };
      assert.deepEqual(status.board_addresses.map((a) => [a.address, a.loopback]), [['127.0.0.1', true]]);
      for (const id of ['c-host', 'b-host']) {
        const field = page.locator(`#${id}`);
        assert.equal(await field.inputValue(), '');
        await page.getByTestId(`${id}-from`).filter({ hasText: 'listens on 127.0.0.1 only: boards cannot reach it' }).waitFor();
        await field.fill('127.0.0.1');
        const msg = await field.evaluate((el: { validationMessage: string }) => el.validationMessage);
        assert.match(msg, /this computer only: a board cannot reach it/);
        const confirm = page.locator(`.gw-host:has(#${id})`).getByRole('checkbox', { name: /127\.0\.0\.1 is this computer only; write it anyway/ });
        await confirm.check();
        assert.equal(await field.evaluate((el: { validationMessage: string }) => el.validationMessage), '');
        await field.fill('192.168.4.2');
        assert.equal(await field.evaluate((el: { validity: { valid: boolean } }) => el.validity.valid), true);
        await page.getByTestId(`${id}-from`).filter({ hasText: 'Not an address the gateway reports listening on.' }).waitFor();
      }
      await h.shot(`ui-provisioning-${vp.name}`);
      assert.ok((await overflow()) <= 0);
    });

    test('sessions: history with strokes, duration, top speed, id and zone; a deep link opens one', async () => {
      const { page } = h;
      const created = (await (await h.gw.http('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boards: ['racket-1', 'racket-2'], player_id: 'coach-test' }) })).json()) as { session: { session_id: string } };
      const id = created.session.session_id;
      await h.gw.http(`/api/sessions/${id}/start`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 5000));
      await h.gw.http(`/api/sessions/${id}/stop`, { method: 'POST' });
      let truth: { state: string; summary: { count: number; max_speed_kmh: number } } | undefined;
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        truth = ((await (await h.gw.http(`/api/sessions/${id}`)).json()) as { session: typeof truth }).session;
        if (truth?.state === 'complete') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(truth?.state, 'complete');
      const summary = truth!.summary as unknown as { count?: number; max_speed_kmh?: number; summary?: { count: number; max_speed_kmh: number } };
      const facts = summary.summary ?? (summary as { count: number; max_speed_kmh: number });

      await go('sessions');
      const row = page.locator(`tr[data-session="${id}"]`);
      await row.waitFor();
      assert.equal(await row.getByTestId('session-id').textContent(), id);
      assert.equal(Number(await row.getByTestId('hist-strokes').textContent()), facts.count);
      assert.equal(await row.getByTestId('hist-top').textContent(), `${Math.round(facts.max_speed_kmh)} km/h`);
      assert.match((await row.getByTestId('hist-duration').textContent()) ?? '', /^\d+ s$|min/);
      // Created time with its zone (the browser runs in New York).
      assert.match((await row.locator('td[data-label="Session"] button').textContent()) ?? '', /\b(EST|EDT|GMT-[45])\b/);
      await h.shot(`ui-sessions-${vp.name}`);
      assert.ok((await overflow()) <= 0);

      // A fresh page opened at the session's link shows that session.
      const other = await h.context.newPage();
      await other.goto(h.page.url().replace(/#.*$/, `#/sessions/${id}`));
      const detail = other.getByTestId('session-detail');
      await detail.and(other.locator('[data-state="complete"]')).waitFor({ timeout: 10_000 });
      assert.match((await detail.locator('h2').first().textContent()) ?? '', new RegExp(id));
      assert.equal(await other.getByText('Analyzing', { exact: true }).count(), 1);
      assert.equal(await other.getByText(/Analys/).count(), 0);
      await other.close();

      // Opening one from the list puts its link in the address bar.
      await row.getByRole('button', { name: `Open session ${id}` }).click();
      await page.waitForFunction((want: string) => window.location.hash === want, `#/sessions/${id}`);

      // A link followed while the sessions store changes (here the search box; in CI it was the
      // new session's own event) still opens its session: the address is not put back first.
      const next = ((await (await h.gw.http('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boards: ['racket-1'] }) })).json()) as { session: { session_id: string } }).session.session_id;
      await page.evaluate((v: string) => {
        window.location.hash = `#/sessions/${v}`;
        const search = document.querySelector('#s-search');
        search.dispatchEvent(new window.Event('input', { bubbles: true }));
      }, next);
      await page.getByTestId('session-edit').filter({ hasText: next }).waitFor({ timeout: 5000 });
      assert.equal(await page.evaluate(() => window.location.hash), `#/sessions/${next}`);
      assert.deepEqual(h.errors, []);
    });

    test('Live: Space pauses visibly, 1 and 5 minute windows, |a| and |ω| traces, values on hover, one shared scale', async () => {
      const { page } = h;
      await go('live');
      await page.locator('[data-board="racket-2"] .chart canvas').first().waitFor();
      const windows = await page.locator('#win option').evaluateAll((os: { textContent: string }[]) => os.map((o) => o.textContent));
      assert.deepEqual(windows, ['5 seconds', '10 seconds', '30 seconds', '1 minute', '5 minutes']);
      // The magnitude is a series of its own, named in the legend and the key.
      const legend = page.locator('[data-board="racket-1"] .chart').first().locator('.u-legend');
      await legend.getByText('|a|').waitFor();
      await page.locator('[data-board="racket-1"] figcaption', { hasText: '|ω|' }).waitFor();

      // Samples on the chart before it is paused (a chart paused before its first frame shows none).
      const reading = /-?\d+\.\d\d g/;
      await page.waitForFunction((re: string) => window.__courtsideLiveHover('racket-1', 'accel', 0.99)?.match(new RegExp(re)) != null, reading.source, { timeout: 15_000 });
      // Space (focus on the page, not a control) pauses; the badge says so and the chart stops moving.
      await page.locator('main h1').click();
      await page.keyboard.press('Space');
      await page.getByTestId('paused').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Resume' }).getAttribute('aria-pressed'), 'true');
      const frame = () => page.locator('[data-board="racket-1"] .chart canvas').first().screenshot();
      const a = await frame();
      await page.waitForTimeout(600);
      assert.ok(a.equals(await frame()), 'the chart moved while paused');

      // Values on hover while paused: the legend shows a reading with its unit.
      const over = page.locator('[data-board="racket-1"] .chart .u-over').first();
      // On a phone the chart may sit below the fold: a pointer only hovers what is on the screen.
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      // The newest samples sit at the right edge; the chart may have only a second of them yet.
      await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
      // Where the pointer lands is not always delivered headless: the chart's own cursor, swept
      // across the chart (how far the samples reach depends on how long it has run).
      const read = await page.evaluate(() => Array.from({ length: 20 }, (_, i) => window.__courtsideLiveHover('racket-1', 'accel', 1 - i * 0.05)));
      assert.ok(read.some((t) => reading.test(t ?? '')), `a reading with its unit in the legend: ${JSON.stringify(read)}`);
      await page.keyboard.press('Space');
      await page.getByTestId('paused').waitFor({ state: 'detached' });
      // The 5 minute window (kept samples cover it as they arrive).
      await page.selectOption('#win', '300');

      // One scale: both boards' charts show the same range once the box is ticked (each its own before).
      await page.getByLabel('Same scale for every board').check();
      await page.waitForTimeout(500);
      const ranges = await page.evaluate(() => ['racket-1', 'racket-2'].map((id: string) => window.__courtsideLiveRange(id, 'gyro')));
      assert.deepEqual(ranges[0], ranges[1]);
      assert.ok((ranges[0] as number[])[1]! > 0);
      await h.shot(`ui-live-${vp.name}`);
      assert.ok((await overflow()) <= 0);
    });

    test('session detail: a timer while recording, per-board results and every stroke after, speed axes from 0, mph', async () => {
      const { page } = h;
      const created = (await (await h.gw.http('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boards: ['racket-1', 'racket-2'], player_id: 'coach-2' }) })).json()) as { session: { session_id: string } };
      const id = created.session.session_id;
      await h.gw.http(`/api/sessions/${id}/start`, { method: 'POST' });
      await page.evaluate((sid: string) => (window.location.hash = `#/sessions/${sid}`), id);
      const timer = page.getByTestId('elapsed');
      await timer.filter({ hasText: /Recording for 0:0[0-9]/ }).waitFor();
      const first = await timer.textContent();
      await page.waitForTimeout(2200);
      assert.notEqual(await timer.textContent(), first, 'the timer does not run');
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await page.getByTestId('session-detail').and(page.locator('[data-state="complete"]')).waitFor({ timeout: 30_000 });
      assert.equal(await timer.count(), 0);

      const api = (await (await h.gw.http(`/api/sessions/${id}`)).json()) as { session: { summary: { boards: Record<string, { count: number; max_speed_kmh: number }> } }; strokes: { device_id: string }[] };
      for (const [board, facts] of Object.entries(api.session.summary.boards)) {
        const row = page.getByTestId('per-board').locator(`tr[data-board="${board}"]`);
        assert.equal(Number(await row.getByTestId('board-strokes').textContent()), facts.count);
        assert.equal(await row.getByTestId('board-top').textContent(), `${Math.round(facts.max_speed_kmh)} km/h`);
      }
      const table = page.getByTestId('strokes-table');
      await table.locator('summary').click();
      assert.equal(await table.locator('tbody tr').count(), api.strokes.length);
      if (api.strokes.length) {
        const chart = page.getByTestId('speed-chart');
        await chart.locator('canvas').waitFor();
        assert.equal(await chart.getAttribute('data-y-min'), '0');
        assert.equal(await page.getByTestId('timeline').getAttribute('data-y-min'), '0');
      }
      await h.shot(`ui-session-detail-${vp.name}`);
      assert.ok((await overflow()) <= 0);

      // Speeds in mph, chosen in Settings for this browser, everywhere a speed shows.
      await go('settings');
      await page.selectOption('#speed-unit', 'mph');
      await page.evaluate((sid: string) => (window.location.hash = `#/sessions/${sid}`), id);
      const top = Object.values(api.session.summary.boards)[0]!;
      const firstBoard = Object.keys(api.session.summary.boards)[0]!;
      await page.getByTestId('per-board').locator(`tr[data-board="${firstBoard}"]`).getByTestId('board-top').filter({ hasText: `${Math.round(top.max_speed_kmh / 1.609344)} mph` }).waitFor();
      await page.locator(`tr[data-session="${id}"]`).getByTestId('hist-top').filter({ hasText: /mph$/ }).waitFor();
      await go('settings');
      await page.selectOption('#speed-unit', 'kmh');
    });

    test('a session is renamed to its player, given notes, and deleted; the gateway agrees', async () => {
      const { page } = h;
      const created = (await (await h.gw.http('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boards: ['racket-1'] }) })).json()) as { session: { session_id: string } };
      const id = created.session.session_id;
      await page.evaluate((sid: string) => (window.location.hash = `#/sessions/${sid}`), id);
      const edit = page.getByTestId('session-edit');
      await edit.locator('summary').click();
      await edit.getByLabel('Player').fill('player-11');
      await edit.getByLabel('Notes').fill('footwork, then smashes');
      await edit.getByRole('button', { name: 'Save' }).click();
      await edit.getByText('Saved.').waitFor();
      const stored = ((await (await h.gw.http(`/api/sessions/${id}`)).json()) as { session: { player_id: string; notes: string; court: string | null } }).session;
      assert.deepEqual([stored.player_id, stored.notes, stored.court], ['player-11', 'footwork, then smashes', null]);
      await page.locator(`tr[data-session="${id}"] td[data-label="Player"]`).filter({ hasText: 'player-11' }).waitFor();
      await page.getByTestId('session-detail').getByText('footwork, then smashes').waitFor();

      await edit.getByRole('button', { name: 'Delete…' }).click();
      await edit.getByRole('button', { name: `Delete ${id}` }).click();
      await page.locator(`tr[data-session="${id}"]`).waitFor({ state: 'detached' });
      await page.getByTestId('session-detail').waitFor({ state: 'detached' });
      assert.equal((await h.gw.http(`/api/sessions/${id}`)).status, 404);
      assert.ok((await overflow()) <= 0);
      assert.deepEqual(h.errors, []);
    });

    test('the Firmware and Fleet views fit the width too (their tables become cards on a phone)', async () => {
      for (const view of ['firmware', 'fleet']) {
        await go(view);
        await h.page.waitForTimeout(300);
        const o = await overflow();
        assert.ok(o <= 0, `${view} is ${o}px wider than the viewport`);
        await h.shot(`ui-${view}-${vp.name}`);
      }
    });

    test('with the page disconnected, a board reads "unknown", not "offline"', async () => {
      const { page } = h;
      await go('devices');
      await page.locator('tr[data-device="racket-1"]').getByText('online', { exact: true }).waitFor();
      await fleet.stop();
      await h.gw.close();
      await page.getByTestId('connection').filter({ hasText: /Connection lost|Connecting/ }).waitFor({ timeout: 10_000 });
      await page.locator('tr[data-device="racket-1"]').getByTestId('status-unknown').waitFor();
      assert.equal(await page.locator('tr[data-device="racket-1"]').getByText('offline', { exact: true }).count(), 0);
    });
  });
}

for (const vp of VIEWPORTS) {
  describe(`empty states, dark mode and USB help on a ${vp.name}`, { skip: noBrowser }, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, colorScheme: 'dark', gateway: { usb: { extraPorts: [], portPollMs: 60_000, listPorts: async () => [] } } });
    });
    after(async () => {
      await h.close();
    });

    test('no boards: Devices and Live suggest --demo 4 and Provisioning; Live does not ask to pick boards', async () => {
      const { page } = h;
      await h.open('devices');
      const empty = page.getByTestId('devices-empty');
      await empty.filter({ hasText: '--demo 4' }).waitFor();
      assert.equal(await empty.getByRole('link', { name: 'Provisioning' }).getAttribute('href'), '#/provisioning');
      await page.evaluate(() => (window.location.hash = '#/live'));
      await page.getByTestId('live-empty').filter({ hasText: '--demo 4' }).waitFor();
      assert.equal(await page.getByText('Pick boards').count(), 0);
      await h.shot(`ui-empty-live-${vp.name}`);
    });

    test('dark mode follows the system', async () => {
      const { page } = h;
      const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      // --bg of the dark theme; the light one is rgb(244, 246, 248).
      assert.equal(bg, 'rgb(15, 20, 26)');
      const panel = await page.evaluate(() => getComputedStyle(document.querySelector('.panel')).backgroundColor);
      assert.equal(panel, 'rgb(23, 30, 38)');
      await h.shot(`ui-dark-${vp.name}`);
    });

    test('Provisioning without a port: USB driver and permission hints, and the serial monitor says what to do', async () => {
      const { page } = h;
      await page.evaluate(() => (window.location.hash = '#/provisioning'));
      const hints = page.getByTestId('usb-hints');
      await hints.waitFor();
      const text = (await hints.textContent()) ?? '';
      for (const words of ['data cable', 'CP210x', 'CH340', 'dialout']) assert.ok(text.includes(words), `no hint about ${words}`);
      await page.getByTestId('monitor-placeholder').filter({ hasText: 'Choose a port above' }).waitFor();
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)) <= 0);
      await h.shot(`ui-provisioning-empty-${vp.name}`);
      assert.deepEqual(h.errors, []);
    });
  });
}
