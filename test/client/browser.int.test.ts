/**
 * The client library's build (tsc, ESM) in headless Chromium, with the
 * browser's own WebSocket, against a running gateway: the /ws envelope across
 * a gateway restart mid-stream (every frame answered), and a room client
 * whose presence and messages a Node peer sees.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Platform } from '../../main/gateway/platform/platform.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from '../e2e/support.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

const OUT = join(ROOT, 'test-output/client-dist');

function serveStatic(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<!doctype html><title>client</title><script type="module">import * as lib from "/lib/client/src/index.js"; window.lib = lib; window.ready = true;</script>');
    }
    const file = normalize(join(dir, path.replace(/^\/lib\//, '')));
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

describe('client library build in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let web: Server;
  let origin: string;
  let gw: TestGateway;
  let db: string;
  let tmp: string;
  const seen = new Set<string>();
  const platform = () => {
    const p = new Platform();
    p.registerHandler('text', (m) => {
      seen.add(String(m.id));
      return { type: 'text', content: { echo: (m.content as { n: number }).n } };
    });
    return p;
  };

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    // The package as it ships: its own tsconfig, declarations included.
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'client/tsconfig.json'), '--outDir', OUT], { stdio: 'inherit' });
    assert.ok(existsSync(join(OUT, 'client/src/index.d.ts')), 'declarations built');
    web = await serveStatic(OUT);
    origin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    tmp = mkdtempSync(join(tmpdir(), 'courtside-browser-'));
    db = join(tmp, 'courtside.sqlite');
    gw = await startTestGateway({ parts: [], heartbeatIntervalMs: 0, db, allowedOrigins: [origin], platform: platform() });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(origin + '/');
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true, null, { timeout: 10_000 });
    assert.deepEqual(errors, []);
  });

  after(async () => {
    await browser?.close();
    await gw?.stop();
    await new Promise<void>((r) => web.close(() => r()));
    rmSync(tmp, { recursive: true, force: true });
  });

  test('/ws with the browser WebSocket: a gateway restart mid-stream loses no frame', async () => {
    const port = gw.port;
    await page.evaluate(
      ({ url, n }) => {
        const w = globalThis as unknown as { lib: typeof import('../../client/src/index.js'); answers: number[]; failed: string[]; client: unknown };
        const c = new w.lib.EnvelopeClient({ url, backoffMinMs: 20, backoffMaxMs: 200 });
        w.client = c;
        (w as unknown as { states: string[] }).states = [];
        c.onState((s) => (w as unknown as { states: string[] }).states.push(s.status));
        w.answers = [];
        w.failed = [];
        c.connect();
        let i = 0;
        // A steady stream, one frame every 5 ms, whatever the socket is doing.
        const t = setInterval(() => {
          const k = i++;
          if (k >= n) return clearInterval(t);
          c.request<{ echo: number }>('text', { n: k }).then(
            (r) => w.answers.push(r.content.echo),
            (e: Error) => w.failed.push(e.message),
          );
        }, 5);
      },
      { url: `ws://127.0.0.1:${port}/ws`, n: 200 },
    );
    await page.waitForFunction(() => (globalThis as unknown as { answers: number[] }).answers.length >= 40, null, { timeout: 10_000 });
    await gw.stop();
    gw = await startTestGateway({ parts: [], heartbeatIntervalMs: 0, db, port, allowedOrigins: [origin], platform: platform() });
    await page.waitForFunction(() => (globalThis as unknown as { answers: number[] }).answers.length === 200, null, { timeout: 20_000 });
    const { answers, failed, states } = await page.evaluate(() => {
      const w = globalThis as unknown as { answers: number[]; failed: string[]; states: string[] };
      return { answers: w.answers, failed: w.failed, states: w.states };
    });
    assert.ok(states.includes('reconnecting') && states.at(-1) === 'open', `the client went through a reconnect: ${states.join(',')}`);
    assert.deepEqual(failed, []);
    assert.deepEqual([...answers].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
    assert.ok(seen.size >= 200);
  });

  test('a room client in the browser: a Node peer sees its presence and its message', async () => {
    const peer = await TestClient.connect(`${gw.url}/`);
    peer.send({ device_id: 'node-peer', identity: 'sensor_node', presence: true });
    await peer.next('connection');
    const room = (await peer.next('room')).room_id as string;
    await page.evaluate(
      ({ url, room }) => {
        const w = globalThis as unknown as { lib: typeof import('../../client/src/index.js') };
        const r = new w.lib.RoomClient({ url, deviceId: 'browser-tab', identity: 'tablet', roomId: room });
        r.onRoom(() => r.broadcast({ hello: 'from chromium' }));
        r.connect();
      },
      { url: `ws://127.0.0.1:${gw.port}/`, room },
    );
    const join = await peer.next('presence');
    assert.equal(join.device_id, 'browser-tab');
    const m = await peer.next('message');
    assert.deepEqual(m.content, { hello: 'from chromium' });
    assert.equal(m.from_device_id, 'browser-tab');
    await peer.close();
  });
});
