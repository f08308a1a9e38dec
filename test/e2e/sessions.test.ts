/** A session from the UI: created, started, stopped, analysed, its results shown and its export downloaded. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { noBrowser, SHOTS, startHarness, type Harness } from './support.js';
import { readZip } from './zip.js';

describe('sessions in the UI', { skip: noBrowser }, () => {
  let h: Harness;
  let fleet: Fleet;
  before(async () => {
    h = await startHarness();
    fleet = startFleet({ url: h.gw.url, devices: 2, rateHz: 200, mode: 'batch', strokesPerMinute: 40, staggerMs: 5 });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await h.close();
  });

  test('create, start, stop: the states show, then the analysis', async () => {
    const { page } = h;
    await h.open('sessions');
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByRole('checkbox', { name: /racket-1/ }).check();
    await page.getByRole('checkbox', { name: /racket-2/ }).check();
    await page.getByLabel('Player').fill('player-7');
    await page.getByLabel('Court').fill('3');
    await page.getByLabel('Notes').fill('smash drills');
    await page.getByRole('button', { name: 'Create session' }).click();
    const detail = page.getByTestId('session-detail');
    await detail.and(page.locator('[data-state="created"]')).waitFor();
    await page.getByRole('button', { name: 'Start recording' }).click();
    await detail.and(page.locator('[data-state="recording"]')).waitFor();
    await detail.getByText('streaming').first().waitFor();
    // Long enough for a few strokes at 40 a minute on each board.
    await page.waitForTimeout(6000);
    await h.shot('session-recording');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await detail.and(page.locator('[data-state="complete"]')).waitFor({ timeout: 30_000 });
    await page.getByTestId('session-results').waitFor();
    const count = Number(await page.getByTestId('stroke-count').textContent());
    assert.ok(count >= 2, `strokes found: ${count}`);
    await page.getByTestId('timeline').locator('canvas').first().waitFor();
    await page.getByTestId('speed-chart').locator('canvas').waitFor();
    await page.getByRole('row', { name: /player-7/ }).waitFor();
    await h.shot('session-results');
    assert.deepEqual(h.errors, []);
  });

  test('the export downloads a valid zip', async () => {
    const { page } = h;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export (zip)' }).click()]);
    assert.match(download.suggestedFilename(), /^courtside-.+\.zip$/);
    const path = join(SHOTS, 'session-export.zip');
    await download.saveAs(path);
    const entries = readZip(readFileSync(path));
    const names = entries.map((e) => e.name).sort();
    assert.deepEqual(names, ['samples.csv', 'session.json', 'strokes.csv', 'summary.json']);
    const samples = entries.find((e) => e.name === 'samples.csv')!.data.toString('utf8').split('\n');
    assert.equal(samples[0], 'device,time,ax,ay,az,gx,gy,gz');
    assert.ok(samples.length > 1000, `sample lines: ${samples.length}`);
    const session = JSON.parse(entries.find((e) => e.name === 'session.json')!.data.toString('utf8')) as { player_id: string };
    assert.equal(session.player_id, 'player-7');
    await page.getByText(/Downloaded courtside-/).waitFor();
  });

  test('history search finds the session by player and hides it for another', async () => {
    const { page } = h;
    await page.getByLabel('Search sessions').fill('player-7');
    await page.getByTestId('sessions-table').getByText('player-7').waitFor();
    await page.getByLabel('Search sessions').fill('nobody-else');
    await page.getByText('No session matches.').waitFor();
    await page.getByLabel('Search sessions').fill('');
    await page.getByTestId('sessions-table').getByText('player-7').waitFor();
  });
});
