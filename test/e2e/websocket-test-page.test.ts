/**
 * `/websocket-test/` in headless Chromium: behind the operator token; from the
 * page, a person connects to the board, player and admin endpoints, picks a
 * frame type, sends it and sees the gateway's answer in that panel's log.
 * Every frame type of each endpoint is offered, with a template of its
 * required fields.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AllOperatorRequestFrames, BoardFrames, UserFrames } from '../../firmware-protocol/index.js';
import { CHROMIUM, CHROMIUM_ARGS } from './support.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('/websocket-test/: the test page of the badminton backend', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    gw = await startTestGateway({ heartbeatIntervalMs: 0, discovery: { mdns: false, udpProbePort: false } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  test('without the operator token: 401, and nothing of the page', async () => {
    const r = await gw.http('/websocket-test/', { token: null });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    assert.equal((await gw.http('/websocket-test/?token=wrong-token-0123456789abc', { token: null })).status, 401);
  });

  test('the page offers every frame type of each endpoint', async () => {
    await page.goto(`http://127.0.0.1:${gw.port}/websocket-test/?token=${OPERATOR_TOKEN}`);
    await page.waitForSelector('body[data-ready="true"]');
    const options = async (panel: string) => page.$$eval(`#${panel} select[name=type] option`, (os) => os.map((o) => (o as unknown as { value: string }).value));
    assert.deepEqual((await options('board')).sort(), Object.keys(BoardFrames).sort());
    assert.deepEqual((await options('player')).sort(), Object.keys(UserFrames).sort());
    assert.deepEqual((await options('admin')).sort(), Object.keys(AllOperatorRequestFrames).sort());
  });

  async function sendFrom(panel: string, type: string, frame: string | null, answer: RegExp): Promise<string> {
    const s = `#${panel}`;
    if ((await page.textContent(`${s} .status`)) !== 'open') {
      await page.click(`${s} button[name=connect]`);
      await page.waitForFunction((sel) => (globalThis as unknown as { document: { querySelector(q: string): { textContent: string } | null } }).document.querySelector(sel)?.textContent === 'open', `${s} .status`);
    }
    await page.selectOption(`${s} select[name=type]`, type);
    if (frame !== null) await page.fill(`${s} textarea[name=frame]`, frame);
    const before = (await page.textContent(`${s} pre`)) ?? '';
    await page.click(`${s} button[name=send]`);
    await page.waitForFunction(
      ({ sel, n, src }) => {
        const t = (globalThis as unknown as { document: { querySelector(q: string): { textContent: string } | null } }).document.querySelector(sel)?.textContent ?? '';
        return new RegExp(src).test(t.slice(n));
      },
      { sel: `${s} pre`, n: before.length, src: answer.source },
      { timeout: 5000 },
    );
    return ((await page.textContent(`${s} pre`)) ?? '').slice(before.length);
  }

  test('board: heartbeat from the template, answered with heartbeat_ack; the board is online to operators', async () => {
    const log = await sendFrom('board', 'heartbeat', null, /← \{"type":"heartbeat_ack"/);
    assert.match(log, /→ \{"type":"heartbeat"\}/);
    const devices = (await (await gw.http('/api/devices')).json()) as { devices: { device_id: string; online: boolean }[] };
    assert.ok(devices.devices.some((d) => d.device_id === 'test-board-1' && d.online));
    // A bad frame gets its error frame in the log.
    const bad = await sendFrom('board', 'heartbeat', '{"type":"heartbeat","battery":300}', /← \{"type":"error"/);
    assert.match(bad, /battery must be at most 100/);
  });

  test('player: ping and session_status answered', async () => {
    assert.match(await sendFrom('player', 'ping', null, /← \{"type":"pong"/), /server_time/);
    assert.match(await sendFrom('player', 'session_status', null, /← \{"type":"session_status","user_id"/), /"user_id":"test-player-1"/);
  });

  test('admin: get_system_status and get_device_list answered', async () => {
    assert.match(await sendFrom('admin', 'get_system_status', null, /← \{"type":"system_status"/), /"boards_online":1/);
    assert.match(await sendFrom('admin', 'get_device_list', null, /← \{"type":"device_list"/), /test-board-1/);
    assert.deepEqual(errors, []);
  });

  test('a page of another origin still cannot open a device endpoint, even with the token', async () => {
    await assert.rejects(
      TestClient.connect(`${gw.url}/ws/esp32/evil-1/?operator_token=${OPERATOR_TOKEN}`, { headers: { origin: 'http://evil.example' } }),
      /HTTP 403/,
    );
  });
});
