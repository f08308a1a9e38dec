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
      assert.deepEqual(h.errors, []);
    });
  });
}
