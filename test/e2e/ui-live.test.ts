/**
 * Live and Provisioning on a laptop (1366x800) and a phone (390x844): the
 * Live view opens with its charts already full (the gateway's recent samples),
 * widening the window reaches further back, chart axes stay readable when the
 * system turns dark, and Provisioning is one flow (port, image with its facts,
 * flash with progress from esptool-js writing to a pty board peer), with
 * images deleted (and one a rollout uses refused). The truths are the
 * gateway's API, the pixels on the canvas and the bytes the peer received.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { noBrowser, startHarness, type Harness } from './support.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir } from '../usb/fixtures.js';
import { buildAppImage } from '../support/app-image.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- page.evaluate runs in the browser
declare const document: any, window: any, getComputedStyle: any, innerWidth: number;

const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const noSocat = existsSync('/usr/bin/socat') || process.env.CI ? false : 'no socat for the pty board peer (apt-get install socat)';

interface Run { start_ms: number; rate_hz: number; samples: number[][] }
interface Held { count: number; first_t: number; first: number[]; last_t: number; last: number[] }

/** WCAG relative luminance and contrast ratio of two `rgb(r, g, b)` / [r, g, b] colours. */
function luminance([r, g, b]: number[]): number {
  const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
}
function contrast(a: number[], b: number[]): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
}
const rgb = (css: string) => css.match(/\d+/g)!.slice(0, 3).map(Number);

for (const vp of VIEWPORTS) {
  describe(`Live backfill and dark charts on a ${vp.name} (${vp.width}x${vp.height})`, { skip: noBrowser }, () => {
    let h: Harness;
    let fleet: Fleet;
    let streamingSince = 0;
    before(async () => {
      h = await startHarness({ viewport: { width: vp.width, height: vp.height } });
      fleet = startFleet({ url: h.gw.url, devices: 2, rateHz: 100, mode: 'batch', streamAlways: true, strokesPerMinute: 60, staggerMs: 5 });
      await fleet.ready;
      streamingSince = Date.now();
      // Boards stream for a while before anyone opens Live: that is what the charts must show at once.
      await new Promise((r) => setTimeout(r, 12_000));
    });
    after(async () => {
      await fleet.stop();
      await h.close();
    });
    const overflow = () => h.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    const recent = async (id: string, seconds: number) => (await (await h.gw.http(`/api/devices/${id}/recent-samples?seconds=${seconds}`)).json()) as { runs: Run[] };
    const held = (id: string) => h.page.evaluate((d: string) => window.__courtsideLiveHeld(d), id) as Promise<Held | null>;

    test(`Live opens with charts already full: the last 10 s the gateway kept; widened to ${vp.name === 'laptop' ? '1 minute' : '5 minutes'} it reaches back to the first sample`, async () => {
      const { page } = h;
      await h.open('live');
      const opened = Date.now();
      await page.locator('[data-board="racket-1"] .chart canvas').first().waitFor();
      // Within a second of opening, the chart already spans most of the 10 s window.
      await page.waitForFunction(() => {
        const e = window.__courtsideLiveExtent('racket-1', 'accel');
        return e && e.from < -8;
      }, undefined, { timeout: 3000 });
      const e = await page.evaluate(() => window.__courtsideLiveExtent('racket-1', 'accel'));
      assert.ok(Date.now() - opened < 4000, 'filled from the backfill, not by waiting for 10 s of live samples');
      assert.ok(e.points > 200, `points drawn: ${e.points}`);

      // What the page holds is what the gateway kept: the oldest sample is one the gateway has, value for value.
      const h1 = (await held('racket-1'))!;
      const kept = (await recent('racket-1', 60)).runs.flatMap((r) => r.samples.map((s, i) => ({ t: r.start_ms + (i * 1000) / r.rate_hz, s })));
      const same = kept.find((k) => k.t === h1.first_t);
      assert.ok(same, `the page's oldest sample (t=${h1.first_t}) is one the gateway kept`);
      assert.deepEqual(h1.first, same.s.map((v) => Math.fround(v)));
      assert.ok((h1.last_t - h1.first_t) / 1000 > 9 && (h1.last_t - h1.first_t) / 1000 < 12, `10 s window backfilled ${(h1.last_t - h1.first_t) / 1000} s`);

      // Widened (to 1 minute on the laptop, 5 on the phone): back to the first sample the gateway ever had of the board (it streamed for less).
      const wide = vp.name === 'laptop' ? 60 : 300;
      await page.selectOption('#win', String(wide));
      const first = (await recent('racket-1', wide)).runs[0]!;
      await page.waitForFunction((t: number) => window.__courtsideLiveHeld('racket-1')?.first_t === t, first.start_ms, { timeout: 5000 });
      const h5 = (await held('racket-1'))!;
      assert.deepEqual(h5.first, first.samples[0]!.map((v) => Math.fround(v)));
      const since = (Date.now() - streamingSince) / 1000;
      assert.ok((h5.last_t - h5.first_t) / 1000 > since - 3, `${wide} s window holds ${(h5.last_t - h5.first_t) / 1000} s of ${since.toFixed(1)} s streamed`);
      // The other board too, once its chart is on screen (charts scrolled away are not drawn).
      await page.locator('[data-board="racket-2"] .chart').nth(1).scrollIntoViewIfNeeded();
      await page.waitForFunction((s: number) => window.__courtsideLiveExtent('racket-2', 'gyro')?.from < -s, since - 4, { timeout: 5000 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await h.shot(`ui-live-backfill-${vp.name}`);
      assert.equal(await overflow(), 0);
      assert.deepEqual(h.errors, []);
    });

    test('chart axes and labels stay readable when the system turns dark (pixels on the canvas against the panel)', async () => {
      const { page } = h;
      // The colour actually painted: the most contrasting opaque pixel of the y axis (its tick labels and unit).
      const painted = () => page.evaluate(() => {
        const el = document.querySelector('[data-board="racket-1"] .chart');
        const canvas = el.querySelector('canvas');
        const ctx = canvas.getContext('2d');
        const w = Math.floor(48 * (window.devicePixelRatio || 1));
        const img = ctx.getImageData(0, 0, w, canvas.height).data;
        const px: number[][] = [];
        for (let i = 0; i < img.length; i += 4) if (img[i + 3] === 255) px.push([img[i], img[i + 1], img[i + 2]]);
        const panel = getComputedStyle(el.closest('.panel')).backgroundColor;
        return { px, panel, colors: window.__courtsideLiveColors() };
      });
      const best = (p: { px: number[][]; panel: string }) => Math.max(...p.px.map((c) => contrast(c, rgb(p.panel))));

      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForTimeout(300);
      const light = await painted();
      assert.ok(light.px.length > 20, `opaque axis pixels in light mode: ${light.px.length}`);
      assert.ok(best(light) >= 4.5, `light axis labels contrast ${best(light).toFixed(2)}`);

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => getComputedStyle(document.documentElement).backgroundColor === 'rgb(15, 20, 26)');
      await page.waitForTimeout(400);
      const dark = await painted();
      assert.equal(dark.panel, 'rgb(23, 30, 38)');
      assert.notEqual(dark.colors.axis, light.colors.axis, 'the axis colour followed the scheme');
      assert.ok(dark.px.length > 20, `opaque axis pixels in dark mode: ${dark.px.length}`);
      // WCAG AA for text: 4.5:1. The light theme's axis grey on the dark panel is about 2.9:1.
      assert.ok(best(dark) >= 4.5, `dark axis labels contrast ${best(dark).toFixed(2)} against ${dark.panel}`);
      // The grid is quiet but there: lighter than the panel, far from the labels' brightness.
      assert.ok(contrast(rgb(dark.colors.grid.startsWith('#') ? hexRgb(dark.colors.grid) : dark.colors.grid), rgb(dark.panel)) < 2);
      await h.shot(`ui-live-dark-${vp.name}`);
      assert.equal(await overflow(), 0);
      await page.emulateMedia({ colorScheme: 'light' });
      assert.deepEqual(h.errors, []);
    });
  });
}

function hexRgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

/** A merged image as ESP Web Tools flashes it: bootloader at 0x1000, partition table at 0x8000, a real-layout application at 0x10000. */
function mergedImage(version: string): { merged: Buffer; app: Buffer } {
  const fw = firmware();
  const app = buildAppImage({ version, project: 'racket-fw', codeSize: 0x80000 });
  const merged = Buffer.alloc(0x10000 + app.length, 0xff);
  fw.bootloader.copy(merged, 0x1000);
  fw.table.copy(merged, 0x8000);
  app.copy(merged, 0x10000);
  return { merged, app };
}

for (const vp of VIEWPORTS) {
  describe(`Provisioning as one flow on a ${vp.name} (${vp.width}x${vp.height})`, { skip: noBrowser || noSocat }, () => {
    let h: Harness;
    let peer: BoardPeer;
    const { merged } = mergedImage('2.3.1');
    before(async () => {
      peer = await startBoardPeer({ mac: '24:0a:c4:aa:bb:15' });
      h = await startHarness({ viewport: { width: vp.width, height: vp.height }, gateway: { usb: { extraPorts: [peer.path], portPollMs: 200 } } });
    });
    after(async () => {
      await h.close();
      await peer.stop();
    });
    const overflow = () => h.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    const library = async () => ((await (await h.gw.http('/api/usb/firmware')).json()) as { firmware: { id: string; name: string }[] }).firmware;

    test('step 1 port, step 2 image with the facts its bytes hold, step 3 flash: progress from esptool-js while the peer receives, the peer holds the image', async () => {
      const { page } = h;
      await h.open('provisioning');
      const steps = page.getByRole('list', { name: 'Flash a board' });
      const headings = await steps.getByRole('heading').allTextContents();
      assert.deepEqual(headings.map((t) => t.replace(/^\S+\s/, '')), ['Pick the port', 'Pick the image', 'Flash']);
      // The only port is picked by itself; no image yet, and step 3 says so.
      await page.getByTestId('flash-needs').filter({ hasText: 'step 2' }).waitFor();
      await page.getByRole('radio', { name: new RegExp(peer.path.replace(/[/.]/g, '\\$&')) }).check();
      await page.getByTestId('step-port').and(page.locator('.done')).waitFor();

      const file = join(tempDir(), 'racket-fw-2.3.1.bin');
      writeFileSync(file, merged);
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Upload a .bin…' }).click()]);
      await chooser.setFiles(file);
      await page.getByLabel('Firmware image').filter({ hasText: 'racket-fw-2.3.1.bin' }).waitFor();
      // The facts are what the image's own bytes say: esp_app_desc_t's version, the header's chip, the file's length.
      await page.getByTestId('fact-version').filter({ hasText: '2.3.1' }).waitFor();
      // Chip id 0 in the header (the fixture's bootloader and app) is the ESP32 in Espressif's list.
      assert.equal(await page.getByTestId('fact-chip').textContent(), 'ESP32');
      assert.equal(await page.getByTestId('fact-size').textContent(), `${merged.length.toLocaleString('en-US')} bytes`);
      await page.getByTestId('image-facts').getByText('merged image, application at 0x10000').waitFor();
      await h.shot(`ui-provisioning-steps-${vp.name}`);
      assert.equal(await overflow(), 0);

      // Progress as shown, beside the bytes the peer had received at that moment.
      const before = peer.received;
      const seen: { percent: number; received: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const t = await page.getByTestId('flash-percent').textContent({ timeout: 100 }).catch(() => null);
          if (t) seen.push({ percent: parseInt(t, 10), received: peer.received });
          await new Promise((r) => setTimeout(r, 30));
        }
      })();
      await page.getByRole('button', { name: /^Flash to / }).click();
      await page.getByTestId('flash-job').and(page.locator('[data-state="done"]')).waitFor({ timeout: 90_000 });
      sampling = false;
      await sampler;
      const after = peer.received;
      assert.equal((await page.getByTestId('flash-percent').textContent())?.trim(), '100 %');
      const mid = seen.filter((x) => x.percent > 0 && x.percent < 100);
      assert.ok(new Set(mid.map((x) => x.percent)).size >= 2, `intermediate percentages: ${[...new Set(seen.map((x) => x.percent))].join(',')}`);
      // Never backwards, and shown while the board was still receiving (the flasher's own progress, not a guess at the end).
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.percent >= seen[i - 1]!.percent, `progress went back: ${seen[i - 1]!.percent} then ${seen[i]!.percent}`);
      assert.ok(mid.every((x) => x.received > before && x.received < after), 'intermediate progress shown while the peer was receiving');
      await page.getByTestId('step-flash').and(page.locator('.done')).waitFor();
      await page.getByText(/24:0a:c4:aa:bb:15/).waitFor();
      // The board holds the image byte for byte, where a merged image goes (0x0).
      assert.ok(peer.flash.subarray(0, merged.length).equals(merged), 'the board holds the image');
      await h.shot(`ui-provisioning-flashed-${vp.name}`);
      assert.equal(await overflow(), 0);
      assert.deepEqual(h.errors, []);
    });

    test('images are deleted from step 2; one a rollout uses is refused with the reason, and the gateway still has it', async () => {
      const { page } = h;
      // An OTA application and a rollout using it: a board the gateway knows (connected once), the rollout paused.
      const ota = buildAppImage({ version: '3.0.0', project: 'racket-fw', seed: 5 });
      const up = await h.gw.http('/api/usb/firmware?name=racket-ota-3.0.0.bin', { method: 'POST', body: ota, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(up.status, 201);
      const otaId = ((await up.json()) as { firmware: { id: string } }).firmware.id;
      const fleet = startFleet({ url: h.gw.url, devices: 1, rateHz: 50, mode: 'batch' });
      await fleet.ready;
      const r = await h.gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: otaId, devices: ['racket-1'] }), headers: { 'content-type': 'application/json' } });
      assert.ok(r.status < 300, `rollout: ${r.status} ${await r.clone().text()}`);
      const rollout = ((await r.json()) as { rollout: { rollout_id: string } }).rollout.rollout_id;
      await h.gw.http(`/api/ota/rollouts/${rollout}/pause`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      await fleet.stop();

      await page.reload();
      await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor();
      await page.getByLabel('Firmware image').selectOption(otaId);
      await page.getByTestId('fact-version').filter({ hasText: '3.0.0' }).waitFor();
      await page.getByRole('button', { name: 'Delete image racket-ota-3.0.0.bin' }).click();
      const alert = page.getByTestId('delete-error').filter({ hasText: rollout });
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /in use|uses|rollout/i);
      assert.ok((await library()).some((f) => f.id === otaId), 'the gateway kept the image a rollout uses');
      await h.shot(`ui-provisioning-delete-refused-${vp.name}`);

      // The flashed one is used by nothing: deleted, gone from the gateway's library and from the list.
      const flashed = (await library()).find((f) => f.name === 'racket-fw-2.3.1.bin')!;
      await page.getByLabel('Firmware image').selectOption(flashed.id);
      await page.getByRole('button', { name: 'Delete image racket-fw-2.3.1.bin' }).click();
      await page.getByLabel('Firmware image').filter({ hasNotText: 'racket-fw-2.3.1.bin' }).waitFor();
      assert.ok(!(await library()).some((f) => f.id === flashed.id), 'deleted from the library');
      assert.equal(await overflow(), 0);
      assert.deepEqual(h.errors, []);
    });

    test('no board on USB: driver and permission hints stay, the serial monitor says what to do', async () => {
      const { page } = h;
      await peer.unplug();
      await page.getByTestId('usb-hints').waitFor({ timeout: 10_000 });
      for (const hint of ['CP210x', 'CH340', 'dialout', 'data cable']) await page.getByTestId('usb-hints').getByText(hint).first().waitFor();
      await page.getByTestId('flash-needs').filter({ hasText: 'step 1' }).waitFor();
      await page.getByTestId('monitor-placeholder').filter({ hasText: 'Choose a port above' }).waitFor();
      await h.shot(`ui-provisioning-noport-${vp.name}`);
      assert.equal(await overflow(), 0);
      await peer.replug();
      assert.deepEqual(h.errors, []);
    });
  });
}
