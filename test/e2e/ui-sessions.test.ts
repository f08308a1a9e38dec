/**
 * The coach's side of sessions, on a laptop (1366x800) and a phone
 * (390x844): while recording, each board's stroke count and last swing
 * update live; once analysed, results per board and per player, each
 * board's strokes on its own signal with a tooltip per stroke; boards given
 * to players in the Edit form; and the Players pages (every session, trends,
 * type mix, two sessions side by side, the correction profile). The truth is
 * the simulator's swing schedule each board swings through, and the
 * gateway's HTTP API; never the page's own tables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualBoard } from '../../main/simulator/board.js';
import { createImuSource, type StrokeSpec } from '../../main/simulator/swing.js';
import { join } from 'node:path';
import { noBrowser, SHOTS, startHarness, type Harness } from './support.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- page.evaluate runs in the browser
declare const document: any, window: any, innerWidth: number;

const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const RATE = 200;
/**
 * Source time (ms of recorded samples: a board's source only runs while it records). The first
 * session stops once the first three of each board are told (about 6.5 s in), so the second
 * begins before 8.5 s of source time; its swings start at 9.5 s.
 */
const ANA: StrokeSpec[] = [
  { t: 1500, type: 'smash', peakDps: 1700 },
  { t: 3500, type: 'clear', peakDps: 1400 },
  { t: 5500, type: 'smash', peakDps: 1800 },
  { t: 9500, type: 'drive', peakDps: 600 },
  { t: 11500, type: 'smash', peakDps: 1850 },
  { t: 13500, type: 'lift', peakDps: 1150 },
  { t: 15500, type: 'clear', peakDps: 1500 },
];
const BEN: StrokeSpec[] = [
  { t: 2000, type: 'drive', peakDps: 550 },
  { t: 4200, type: 'lift', peakDps: 1000 },
  { t: 5400, type: 'drive', peakDps: 650 },
  { t: 10000, type: 'clear', peakDps: 1350 },
  { t: 12500, type: 'smash', peakDps: 1600 },
  { t: 14000, type: 'drive', peakDps: 500 },
  { t: 15000, type: 'lift', peakDps: 900 },
];
const FIRST = 3;
/** The racket-head speed the analysis gives a peak angular speed (its 0.6 m lever arm). */
const kmh = (dps: number) => (dps * Math.PI * 0.6 * 3.6) / 180;
const counts = (list: StrokeSpec[]) => Object.fromEntries(['clear', 'drive', 'lift', 'smash'].map((t) => [t, list.filter((s) => s.type === t).length]));

interface Api { session: { session_id: string; state: string; board_players?: Record<string, string>; progress: { device_id: string; samples: number }[] }; strokes: { device_id: string; t_ms: number; type: string; speed_kmh: number }[] }

for (const vp of VIEWPORTS) {
  describe(`the coach's sessions and players on a ${vp.name} (${vp.width}x${vp.height})`, { skip: noBrowser }, () => {
    let h: Harness;
    let boards: VirtualBoard[];
    const ids: string[] = [];
    /** Per session: where its samples begin in each board's source time (ms). */
    const offset: number[] = [0];
    const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
      const res = await h.gw.http(path, init);
      assert.ok(res.ok, `${path}: HTTP ${res.status}`);
      return (await res.json()) as T;
    };
    const post = (path: string, body?: unknown) => api<Api>(path, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const overflow = () => h.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    const go = async (hash: string) => {
      await h.page.evaluate((v: string) => (window.location.hash = v), hash);
      await h.page.locator('main h1').first().waitFor();
    };
    const complete = async (id: string) => {
      const until = Date.now() + 30_000;
      for (;;) {
        const r = await api<Api>(`/api/sessions/${id}`);
        if (r.session.state === 'complete') return r;
        assert.ok(Date.now() < until, `session ${id} is still ${r.session.state}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    };
    /** The session's swings of a board's schedule: those inside its samples. */
    const inSession = (schedule: StrokeSpec[], i: number, r: Api, board: string) => {
      const n = r.session.progress.find((p) => p.device_id === board)!.samples;
      return schedule.filter((s) => s.t >= offset[i]! && s.t < offset[i]! + (n * 1000) / RATE);
    };
    const results: Api[] = [];

    before(async () => {
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, timezoneId: 'America/New_York' });
      boards = [['racket-a', ANA], ['racket-b', BEN]].map(([id, strokes]) =>
        new VirtualBoard({ url: h.gw.url, deviceCode: id as string, rateHz: RATE, batchMs: 100, statusIntervalMs: 1000, imuSource: createImuSource({ rateHz: RATE, seed: 11, strokes: strokes as StrokeSpec[] }) }));
      await Promise.all(boards.map((b) => b.start()));
    });
    after(async () => {
      await Promise.all(boards.map((b) => b.stop()));
      await h.close();
    });

    test('while recording, each board shows its stroke count and its last swing as they happen', async () => {
      const { page } = h;
      // Created in the form: the player, and the board another player holds.
      await h.open('sessions');
      await page.getByRole('button', { name: 'New session' }).click();
      await page.getByRole('checkbox', { name: /racket-a/ }).check();
      await page.getByRole('checkbox', { name: /racket-b/ }).check();
      await page.getByLabel('Player', { exact: true }).fill('ana');
      await page.getByLabel('racket-b held by').fill('ben');
      await page.getByLabel('Court', { exact: true }).fill('2');
      await page.getByRole('button', { name: 'Create session' }).click();
      await page.getByTestId('session-detail').and(page.locator('[data-state="created"]')).waitFor();
      const id = (await page.getByTestId('session-detail').locator('h2 .mono').textContent())!;
      ids.push(id);
      const stored = (await api<Api>(`/api/sessions/${id}`)).session as Api['session'] & { player_id: string };
      assert.deepEqual([stored.player_id, stored.board_players], ['ana', { 'racket-b': 'ben' }]);
      await page.getByRole('button', { name: 'Start recording' }).click();
      const live = page.getByTestId('live-boards');
      const board = (b: string) => live.locator(`[data-board="${b}"]`);
      await board('racket-a').getByText('racket-a · ana').waitFor();
      await board('racket-b').getByText('racket-b · ben').waitFor();
      // The count climbs through every value as the swings arrive (none skipped, none twice).
      const seen: string[] = [];
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const text = await board('racket-a').getByTestId('live-count').textContent();
        if (seen.at(-1) !== text) seen.push(text!);
        if (text === String(FIRST) && (await board('racket-b').getByTestId('live-count').textContent()) === String(FIRST)) break;
        await page.waitForTimeout(100);
      }
      assert.deepEqual(seen, ['0', '1', '2', '3']);
      for (const [b, schedule] of [['racket-a', ANA], ['racket-b', BEN]] as const) {
        const last = schedule[FIRST - 1]!;
        assert.equal(await board(b).getByTestId('live-last-type').textContent(), `last: ${last.type}`);
        const shown = Number(/\d+/.exec((await board(b).getByTestId('live-last-speed').textContent())!)![0]);
        assert.ok(Math.abs(shown - kmh(last.peakDps!)) / kmh(last.peakDps!) < 0.1, `${b}: ${shown} km/h shown, swung at ${kmh(last.peakDps!).toFixed(1)}`);
      }
      assert.equal(await page.getByTestId('session-detail').getAttribute('data-state'), 'recording');
      await h.shot(`ui-sessions-live-${vp.name}`);
      assert.ok((await overflow()) <= 0, 'wider than the viewport while recording');
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await page.getByTestId('session-detail').and(page.locator('[data-state="complete"]')).waitFor({ timeout: 30_000 });
      results.push(await complete(id));
      assert.deepEqual(h.errors, []);
    });

    test('results per board and per player; each board on its own signal, a tooltip per stroke', async () => {
      const { page } = h;
      const r = results[0]!;
      const truthA = inSession(ANA, 0, r, 'racket-a');
      const truthB = inSession(BEN, 0, r, 'racket-b');
      assert.equal(truthA.length, FIRST);
      const perPlayer = page.getByTestId('per-player');
      for (const [p, truth] of [['ana', truthA], ['ben', truthB]] as const) {
        const row = perPlayer.locator(`tr[data-player="${p}"]`);
        await row.waitFor();
        assert.equal(Number(await row.getByTestId('player-strokes').textContent()), truth.length, `${p}'s strokes`);
        const top = Math.max(...truth.map((s) => kmh(s.peakDps!)));
        const shown = Number(/\d+/.exec((await row.getByTestId('player-top').textContent())!)![0]);
        assert.ok(Math.abs(shown - top) / top < 0.1, `${p}: top ${shown}, fastest swing ${top.toFixed(1)}`);
      }
      // One timeline per board, each with that board's strokes, its y axis from 0.
      const timelines = page.getByTestId('board-timeline');
      assert.deepEqual(await timelines.evaluateAll((els: { dataset: { board: string } }[]) => els.map((e) => e.dataset.board)), ['racket-a', 'racket-b']);
      for (const [b, truth] of [['racket-a', truthA], ['racket-b', truthB]] as const) {
        // Drawn again once get_session's strokes arrive: wait for the count the schedule says.
        const el = page.locator(`[data-testid="board-timeline"][data-board="${b}"]`);
        await el.and(page.locator(`[data-strokes="${truth.length}"]`)).locator('canvas').waitFor();
        assert.equal(await el.getAttribute('data-y-min'), '0');
      }
      // Hover each stroke of racket-a: its type, speed (the gateway's) and time into the recording.
      const apiA = r.strokes.filter((s) => s.device_id === 'racket-a');
      const el = page.locator('[data-testid="board-timeline"][data-board="racket-a"]');
      await el.scrollIntoViewIfNeeded();
      for (const [i, truth] of truthA.entries()) {
        const at = await el.evaluate((e: { strokeAt: (i: number) => { x: number; y: number } }, k: number) => e.strokeAt(k), i);
        await page.mouse.move(at.x, at.y);
        const tip = page.getByTestId('stroke-tip');
        await tip.and(page.locator(`[data-index="${i}"]`)).waitFor({ timeout: 3000 });
        const text = (await tip.textContent())!;
        const [type, speed, time] = text.split(' · ');
        assert.equal(type, truth.type, text);
        assert.equal(speed, `${Math.round(apiA[i]!.speed_kmh)} km/h`, text);
        const secs = Number(/at ([\d.]+) s/.exec(time!)![1]);
        assert.ok(Math.abs(secs * 1000 - (truth.t - offset[0]!)) <= 150, `${text}: swung at ${truth.t} ms`);
        if (i === 1) await page.getByTestId('timeline').screenshot({ path: join(SHOTS, `ui-sessions-tooltip-${vp.name}.png`) });
      }
      await page.mouse.move(1, 1);
      await page.getByTestId('per-player').screenshot({ path: join(SHOTS, `ui-sessions-per-player-${vp.name}.png`) });
      await page.evaluate(() => window.scrollTo(0, 0));
      await h.shot(`ui-sessions-results-${vp.name}`);
      assert.ok((await overflow()) <= 0);
      assert.deepEqual(h.errors, []);
    });

    test('a board is given to a player in the Edit form; a second session records for both', async () => {
      const { page } = h;
      const first = results[0]!;
      offset.push(Math.max(...first.session.progress.map((p) => (p.samples * 1000) / RATE)));
      const created = await post('/api/sessions', { boards: ['racket-a', 'racket-b'], player_id: 'ana' });
      const id = created.session.session_id;
      ids.push(id);
      await go(`#/sessions/${id}`);
      // The page moves to the new session when get_session answers: not the old one's form.
      const edit = page.getByTestId('session-edit').filter({ hasText: id });
      await edit.locator('summary').click();
      await edit.getByLabel('racket-b held by').fill('ben');
      await edit.getByRole('button', { name: 'Save' }).click();
      await edit.getByText('Saved.').waitFor();
      assert.deepEqual((await api<Api>(`/api/sessions/${id}`)).session.board_players, { 'racket-b': 'ben' });
      await page.getByRole('button', { name: 'Start recording' }).click();
      const left = ANA.filter((s) => s.t >= offset[1]!).length;
      await page.getByTestId('live-boards').locator('[data-board="racket-a"]').getByTestId('live-count').filter({ hasText: String(left) }).waitFor({ timeout: 20_000 });
      await page.getByTestId('live-boards').locator('[data-board="racket-b"]').getByText('racket-b · ben').waitFor();
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      results.push(await complete(id));
      // A correction, so the player's profile has something to show.
      const smash = results[1]!.strokes.find((s) => s.device_id === 'racket-a' && s.type === 'smash')!;
      await post(`/api/sessions/${id}/corrections`, { device_id: 'racket-a', t_ms: smash.t_ms, stroke_type: 'clear', by: 'Coach Lin' });
    });

    test('Players lists every player with their sessions, strokes and top speed', async () => {
      const { page } = h;
      await go('#/players');
      const gw = (await api<{ players: { player_id: string; sessions: number; strokes: number; max_speed_kmh: number }[] }>('/api/players')).players;
      for (const [p, schedule, board] of [['ana', ANA, 'racket-a'], ['ben', BEN, 'racket-b']] as const) {
        const truth = results.reduce((n, r, i) => n + inSession(schedule, i, r, board).length, 0);
        const row = page.getByTestId('players-table').locator(`tr[data-player="${p}"]`);
        await row.getByTestId('pl-sessions').filter({ hasText: '2' }).waitFor();
        assert.equal(Number(await row.getByTestId('pl-strokes').textContent()), truth, `${p}'s strokes`);
        assert.equal(await row.getByTestId('pl-top').textContent(), `${Math.round(gw.find((x) => x.player_id === p)!.max_speed_kmh)} km/h`);
      }
      await h.shot(`ui-players-${vp.name}`);
      assert.ok((await overflow()) <= 0);
      // The player's page is one link away.
      await page.getByTestId('players-table').getByRole('link', { name: 'ana' }).click();
      await page.waitForFunction(() => window.location.hash === '#/players/ana');
      await page.getByTestId('player-sessions').waitFor();
    });

    test("a player's page: every session, trends, type mix, two sessions side by side and the profile", async () => {
      const { page } = h;
      await go('#/players/ana');
      const table = page.getByTestId('player-sessions');
      await table.locator('tbody tr').first().waitFor();
      assert.deepEqual(await table.locator('tbody tr').evaluateAll((rows: { dataset: { session: string } }[]) => rows.map((r) => r.dataset.session)), [...ids].reverse());
      const truth = results.map((r, i) => inSession(ANA, i, r, 'racket-a'));
      // The correction made one of the second session's smashes a clear.
      const mixTruth = truth.map((t, i) => {
        const c = counts(t);
        if (i === 1) Object.assign(c, { smash: c.smash! - 1, clear: c.clear! + 1 });
        return c;
      });
      for (const [i, id] of ids.entries()) {
        assert.equal(Number(await table.locator(`tr[data-session="${id}"]`).getByTestId('ps-strokes').textContent()), truth[i]!.length);
        const segs = await page.getByTestId('type-mix').locator(`li[data-session="${id}"] .seg`).evaluateAll((els: { dataset: { type: string; count: string } }[]) => Object.fromEntries(els.map((e) => [e.dataset.type, Number(e.dataset.count)])));
        assert.deepEqual(segs, Object.fromEntries(Object.entries(mixTruth[i]!).filter(([, n]) => n > 0)), `type mix of session ${i + 1}`);
      }
      for (const chart of ['trend-rate', 'trend-speed']) {
        await page.getByTestId(chart).locator('canvas').waitFor();
        assert.equal(await page.getByTestId(chart).getAttribute('data-y-min'), '0');
      }
      // Side by side: the two sessions' figures as the gateway gives them, and the change.
      const gw = (await api<{ sessions: { session_id: string; figures: { count: number; max_speed_kmh: number } }[] }>('/api/players/ana')).sessions;
      const fig = (id: string) => gw.find((s) => s.session_id === id)!.figures;
      const cmp = page.getByTestId('compare');
      await cmp.getByLabel('First').selectOption(ids[0]!);
      await cmp.getByLabel('Second').selectOption(ids[1]!);
      const row = (k: string) => cmp.locator(`tr[data-figure="${k}"]`);
      assert.equal(await row('count').getByTestId('cmp-a').textContent(), String(truth[0]!.length));
      assert.equal(await row('count').getByTestId('cmp-b').textContent(), String(truth[1]!.length));
      const d = truth[1]!.length - truth[0]!.length;
      assert.equal(await row('count').getByTestId('cmp-diff').textContent(), `${d > 0 ? '+' : ''}${d}`);
      assert.equal(await row('top').getByTestId('cmp-b').textContent(), `${Math.round(fig(ids[1]!).max_speed_kmh)} km/h`);
      assert.equal(await row('smash').getByTestId('cmp-b').textContent(), String(mixTruth[1]!.smash));
      // Swapped, the change turns sign.
      await cmp.getByLabel('First').selectOption(ids[1]!);
      await cmp.getByLabel('Second').selectOption(ids[0]!);
      assert.equal(await row('count').getByTestId('cmp-diff').textContent(), `${-d > 0 ? '+' : ''}${-d}`);
      // The profile as get_player_profile gives it.
      const profile = (await api<{ profile: { corrections: number; corrected_by_type: { clear: number } } }>('/api/players/ana/profile')).profile;
      assert.equal(profile.corrections, 1);
      assert.equal(await page.getByTestId('profile-corrections').textContent(), String(profile.corrections));
      await page.getByTestId('profile').getByText(`clear ${profile.corrected_by_type.clear}`).waitFor();
      await cmp.screenshot({ path: join(SHOTS, `ui-player-compare-${vp.name}.png`) });
      await page.evaluate(() => window.scrollTo(0, 0));
      await h.shot(`ui-player-${vp.name}`);
      assert.ok((await overflow()) <= 0, `the player page is ${await overflow()}px wider than the viewport`);
      // A session links back to its own page.
      await table.locator(`tr[data-session="${ids[0]}"] a`).first().click();
      await page.waitForFunction((want: string) => window.location.hash === want, `#/sessions/${ids[0]}`);
      await page.getByTestId('session-detail').waitFor();
      assert.deepEqual(h.errors, []);
    });

    test('an unknown player says so; the nav reaches Players', async () => {
      const { page } = h;
      await go('#/players/nobody-here');
      await page.getByRole('alert').filter({ hasText: /nobody-here/ }).waitFor();
      const link = page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Players' });
      const box = await link.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= vp.width, `the Players link is outside the width: ${JSON.stringify(box)}`);
      await link.click();
      await page.getByTestId('players-table').waitFor();
      assert.ok((await overflow()) <= 0);
    });
  });
}
