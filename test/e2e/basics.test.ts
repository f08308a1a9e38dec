/** Sign-in, the connection state, the Overview and Settings, at laptop and tablet widths, in a real Chromium. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { join } from 'node:path';
import { noBrowser, SHOTS, startHarness, type Harness } from './support.js';
// In-page code (page.evaluate) runs in the browser; the tests' typecheck has no DOM library, so the page's globals are untyped here.
declare const document: any, window: any, requestAnimationFrame: any, innerHeight: number, PerformanceObserver: any;

describe('operator UI basics', { skip: noBrowser }, () => {
  let h: Harness;
  let fleet: Fleet;
  before(async () => {
    h = await startHarness();
    fleet = startFleet({ url: h.gw.url, devices: 2, rateHz: 100, mode: 'batch', streamAlways: true, staggerMs: 5 });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await h.close();
  });

  test('the printed URL signs in, and the token leaves the address bar', async () => {
    await h.open('overview');
    assert.doesNotMatch(h.page.url(), /token=/);
    await h.page.getByTestId('boards-online').filter({ hasText: '2' }).waitFor();
    await h.page.getByTestId('samples-rate').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 8000 });
    await h.page.getByTestId('qr').waitFor();
    await h.shot('overview-laptop');
    assert.deepEqual(h.errors, []);
  });

  test('every form control has a label, and the views are reachable by keyboard', async () => {
    for (const view of ['overview', 'rooms', 'devices', 'live', 'sessions', 'provisioning', 'settings']) {
      await h.page.goto(h.page.url().replace(/#.*$/, `#/${view}`));
      await h.page.waitForTimeout(300);
      const unlabeled = await h.page.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea, button')]
          .filter((el: any) => {
            const e = el;
            if (e.type === 'hidden') return false;
            const text = (e.labels?.length ? [...e.labels].map((l: any) => l.textContent).join('') : '') + (e.getAttribute('aria-label') ?? '') + (e.tagName === 'BUTTON' ? e.textContent : '');
            return text.trim() === '';
          })
          .map((e: any) => e.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unlabeled, [], `unlabeled controls on ${view}`);
    }
    // A fresh load (signed in from storage): focus starts at the top of the page.
    await h.page.goto(h.page.url().replace(/#.*$/, '#/overview'));
    await h.page.reload();
    await h.page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor();
    await h.page.keyboard.press('Tab');
    assert.equal(await h.page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await h.page.keyboard.press('Tab');
      order.push(await h.page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    assert.deepEqual(order.slice(1), ['Overview', 'Rooms', 'Devices'], `focus order: ${order.join(' > ')}`);
  });

  test('settings mints a device token shown once', async () => {
    await h.page.goto(h.page.url().replace(/#.*$/, '#/settings'));
    await h.page.getByLabel('Device id').fill('racket-7');
    await h.page.getByLabel('Label (optional)').fill('court 2');
    await h.page.getByRole('button', { name: 'Create token' }).click();
    const token = await h.page.getByTestId('minted-token').inputValue();
    assert.ok(token.length >= 16);
    await h.page.getByRole('cell', { name: 'court 2' }).waitFor();
    await h.shot('settings-laptop');
  });

  test('tablet width: the navigation moves to the top and nothing overflows the page', async () => {
    await h.page.setViewportSize({ width: 820, height: 1180 });
    for (const view of ['overview', 'devices', 'rooms', 'live', 'sessions', 'provisioning', 'settings']) {
      await h.page.goto(h.page.url().replace(/#.*$/, `#/${view}`));
      await h.page.waitForTimeout(400);
      const overflow = await h.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${view} overflows by ${overflow}px`);
      await h.shot(`${view}-tablet`);
    }
    await h.page.setViewportSize({ width: 1280, height: 800 });
  });

  test('the connection state shows a lost gateway and the wrong-token form', async () => {
    await h.page.goto(h.page.url().replace(/#.*$/, '#/overview'));
    await h.page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor();
    const base = h.page.url().replace(/\/#.*$/, '');
    const other = await h.context.newPage();
    await other.goto(`${base}/?token=not-the-right-token-123456`);
    await other.getByRole('alert').or(other.getByRole('status')).filter({ hasText: /did not accept/ }).waitFor();
    await other.getByLabel('Operator token').fill('still-not-the-right-token');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByText('That token was not accepted').waitFor();
    await other.screenshot({ path: join(SHOTS, 'login-refused.png') });
    await other.close();
    await fleet.stop();
    await h.gw.close();
    await h.page.getByTestId('connection').filter({ hasText: 'Connection lost' }).waitFor({ timeout: 8000 });
    await h.page.getByRole('button', { name: 'Retry now' }).waitFor();
    await h.shot('connection-lost');
  });
});
