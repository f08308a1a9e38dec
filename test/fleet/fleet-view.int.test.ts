/**
 * The UI's Fleet view against a real fleet: two gateway processes on one Redis (the test's own)
 * and one MariaDB database, two simulated boards on A and one on B. The view, opened on A in
 * headless Chromium, lists both gateways with the address each listens on, its boards and its
 * health, as each process says of itself (its gateway-id file, the port it printed, the boards
 * the test connected to it); Redis frozen shows as not answering and A degraded. At a laptop's
 * 1366x800 and a phone's 390x844 nothing scrolls sideways. Screenshots in test-output/e2e/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { buildUi, CHROMIUM, CHROMIUM_ARGS, noBrowser, ROOT, SHOTS } from '../e2e/support.js';
import { waitFor } from '../sessions/support.js';
import { startOwnRedis, startServe, TOKEN, type ServeProc, type TestRedis } from './support.js';
// In-page code runs in the browser; the tests' typecheck has no DOM library.
declare const document: any, innerWidth: number;

interface UiGateway {
  proc: ChildProcess;
  port: number;
  http: string;
  url: string;
  dataDir: string;
}

/** Gateway A: its own process, serving the UI this run built. */
async function startUiGateway(o: { db: string; redis: string; uiDir: string }): Promise<UiGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-fleet-ui-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fleet/ui-gateway.ts'), JSON.stringify({ ...o, dataDir, operatorToken: TOKEN })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`gateway A exited ${c}: ${err}`)));
  });
  return { proc, port, http: `http://127.0.0.1:${port}`, url: `ws://127.0.0.1:${port}`, dataDir };
}

const gatewayId = (dataDir: string) => readFileSync(join(dataDir, 'gateway-id'), 'utf8').trim();

describe('the Fleet view', { skip: noBrowser }, () => {
  let redis: TestRedis;
  let db: FreshMysql;
  let a: UiGateway;
  let b: ServeProc;
  let boardsA: Fleet;
  let boardsB: Fleet;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const uiDir = await buildUi();
    redis = await startOwnRedis();
    db = await freshMysqlUrl();
    a = await startUiGateway({ db: db.url, redis: redis.url, uiDir });
    b = await startServe({ redis: redis.url, db: db.url });
    boardsA = startFleet({ url: a.url, devices: 2, prefix: 'hall-a-', rateHz: 50, mode: 'batch', statusIntervalMs: 1000 });
    boardsB = startFleet({ url: b.url, devices: 1, prefix: 'hall-b-', rateHz: 50, mode: 'batch', statusIntervalMs: 1000 });
    await Promise.all([boardsA.ready, boardsB.ready]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await Promise.all([boardsA?.stop(), boardsB?.stop()]);
    redis?.resume();
    if (a && a.proc.exitCode === null) {
      a.proc.kill('SIGTERM');
      await new Promise((r) => a.proc.once('exit', r));
    }
    await b?.stop();
    await redis?.stop();
    await db?.drop();
  });

  async function row(id: string): Promise<string[]> {
    return page.locator(`tr[data-gateway="${id}"] td`).allInnerTexts();
  }

  async function overflow(): Promise<{ scroll: number; inner: number }> {
    return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
  }

  test('lists both gateways with address, boards and health, at 1366x800 and 390x844', async (t) => {
    const idA = gatewayId(a.dataDir);
    const idB = gatewayId(b.dataDir);
    assert.notEqual(idA, idB);
    await page.goto(`${a.http}/?token=${TOKEN}#/fleet`);
    await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="fleet-redis"][data-state="ok"]').waitFor({ timeout: 10_000 });
    // The list is asked again every 3 s; the heartbeat keys carry the board counts.
    await waitFor('both gateways with their boards', async () => {
      const [ra, rb] = [await row(idA), await row(idB)];
      return ra[2] === '2' && rb[2] === '1' ? true : null;
    }, 15_000, 250);
    const ra = await row(idA);
    const rb = await row(idB);
    assert.match(ra[0]!, new RegExp(`^${idA}\\s*\\(this one\\)`));
    assert.equal(rb[0], idB);
    assert.equal(ra[1], `127.0.0.1:${a.port}`);
    assert.equal(rb[1], `127.0.0.1:${b.port}`);
    assert.equal(ra[4]!.trim(), 'ok');
    assert.equal(rb[4]!.trim(), 'ok');
    assert.equal(await page.locator('tr[data-gateway]').count(), 2);
    for (const [w, h] of [[1366, 800], [390, 844]] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(200);
      const o = await overflow();
      const shot = join(SHOTS, `fleet-${w}x${h}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`${w}x${h}: scrollWidth ${o.scroll}, innerWidth ${o.inner}; ${shot}`);
      assert.ok(o.scroll <= o.inner, `${w}x${h}: the page scrolls sideways (${o.scroll} > ${o.inner})`);
      // Every column of both rows is on screen, not cut off.
      for (const id of [idA, idB]) {
        const box = await page.locator(`tr[data-gateway="${id}"] td`).last().boundingBox();
        assert.ok(box && box.x + box.width <= o.inner + 0.5, `${w}x${h}: the health column of ${id} is off screen`);
      }
    }
    await page.setViewportSize({ width: 1366, height: 800 });
    assert.deepEqual(errors, []);
  });

  test('Redis frozen: the view says Redis is not answering and A degraded; back to ok after', async (t) => {
    const idA = gatewayId(a.dataDir);
    redis.pause();
    const t0 = Date.now();
    try {
      await page.locator('[data-testid="fleet-redis"][data-state="unavailable"]').waitFor({ timeout: 15_000 });
      await waitFor('A degraded in its row', async () => ((await row(idA))[4]?.startsWith('degraded') ? true : null), 10_000, 250);
      const shown = Date.now() - t0;
      await page.screenshot({ path: join(SHOTS, 'fleet-redis-down.png'), fullPage: true });
      t.diagnostic(`Redis frozen: the Fleet view said so ${shown} ms later`);
    } finally {
      redis.resume();
    }
    await page.locator('[data-testid="fleet-redis"][data-state="ok"]').waitFor({ timeout: 15_000 });
    await waitFor('A ok again', async () => ((await row(idA))[4]?.trim() === 'ok' ? true : null), 10_000, 250);
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  });
});
