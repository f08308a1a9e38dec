/**
 * The operator UI over HTTPS in a real Chromium: the page and its operator
 * WebSocket (wss://) on a `--tls` gateway, trusted through Chromium's own
 * key-pinning switch (the key of the gateway's certificate, nothing else
 * trusted), and refused by a Chromium that was not told to trust it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildUi, CHROMIUM, CHROMIUM_ARGS, noBrowser } from './support.js';

describe('the operator UI over HTTPS', { skip: noBrowser, timeout: 120_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  before(async () => {
    gw = await startTestGateway({ uiDir: await buildUi(), tls: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await gw?.stop();
  });

  test('a browser trusting the gateway\'s key signs in over https://, its socket is wss://, and the app QR says wss:// with the fingerprint', async () => {
    const spki = createHash('sha256').update(new X509Certificate(gw.options.tls!.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`], headless: true });
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(`https://127.0.0.1:${gw.port}/?token=${OPERATOR_TOKEN}#/overview`);
    await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    assert.ok(sockets.length > 0 && sockets.every((u) => u.startsWith('wss://')), sockets.join());
    assert.equal(gw.core.operators.count(), 1);
    await page.getByTestId('gateway-address').filter({ hasText: `wss://127.0.0.1:${gw.port}/?sha256=${gw.fingerprint}` }).waitFor({ timeout: 5000 });
    await page.close();
  });

  test('the Settings view turns TLS off for the next start: the switch shows what runs, and saving writes "tls": false', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`https://127.0.0.1:${gw.port}/?token=${OPERATOR_TOKEN}#/settings`);
      const box = page.getByTestId('st-tls');
      await page.getByTestId('running-now').filter({ hasText: 'TLS on' }).waitFor({ timeout: 15_000 });
      assert.equal(await box.isChecked(), true, 'the file says nothing: the switch shows what runs');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('running-now').waitFor();
      // Saved unchanged: the file does not inherit tls from what runs (a flag may have set it).
      await waitForFile((f) => f !== null && !('tls' in f));
      await box.uncheck();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('restart-required').filter({ hasText: 'tls' }).waitFor({ timeout: 5000 });
      assert.equal((await waitForFile((f) => f?.tls === false))?.tls, false);
    } finally {
      await page.close();
    }
  });

  async function waitForFile(ok: (f: Record<string, unknown> | null) => boolean): Promise<Record<string, unknown> | null> {
    const file = join(gw.dataDir, 'settings.json');
    for (let i = 0; i < 50; i++) {
      const f = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
      if (ok(f)) return f;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`settings.json never matched: ${existsSync(file) ? readFileSync(file, 'utf8') : 'absent'}`);
  }

  test('a browser that was not told to trust it gets a certificate error, not the page', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(`https://127.0.0.1:${gw.port}/`), /ERR_CERT_AUTHORITY_INVALID|ERR_CERT/);
    } finally {
      await plain.close();
    }
  });
});
