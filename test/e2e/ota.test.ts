/**
 * Firmware in the UI: the library shows what an uploaded image says of
 * itself, tags are set on a board and filter the list, "Update" on a tag
 * rolls out to those boards only, and the rollout card shows each board's
 * end state and the reason a board failed. The boards' own firmware is the
 * independent truth.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualBoard } from '../../main/simulator/board.js';
import { buildAppImage } from '../support/app-image.js';
import { noBrowser, startHarness, type Harness } from './support.js';

describe('firmware updates in the UI', { skip: noBrowser }, () => {
  let h: Harness;
  const boards: VirtualBoard[] = [];
  before(async () => {
    h = await startHarness();
    for (const [id, fail] of [['racket-1', undefined], ['racket-2', 'verify'], ['racket-3', undefined]] as const) {
      boards.push(new VirtualBoard({ url: h.gw.url, deviceCode: id, ota: { fail, rebootMs: 20 }, reconnectMinMs: 40, heartbeatIntervalMs: 60_000 }));
    }
    await Promise.all(boards.map((b) => b.start()));
    const up = await h.gw.http('/api/firmware?name=racket.bin', { method: 'POST', body: buildAppImage({ version: '2.1.0', project: 'courtside-racket', codeSize: 32 * 1024 }) });
    assert.equal(up.status, 201);
  });
  after(async () => {
    await Promise.all(boards.map((b) => b.stop()));
    await h.close();
  });

  test('tag two boards, update the tag: one updated, one failed with its reason, the third untouched', async () => {
    await h.open('firmware');
    await h.page.getByTestId('firmware-row').filter({ hasText: '2.1.0' }).filter({ hasText: 'courtside-racket' }).waitFor();
    for (const id of ['racket-1', 'racket-2']) {
      const row = h.page.locator(`tr[data-testid="ota-board"][data-device="${id}"]`);
      await row.getByText('1.2.0').waitFor();
      await row.getByRole('button', { name: 'Edit' }).click();
      await row.getByLabel(`Tags of ${id}`).fill('court-1');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText('court-1').waitFor();
    }
    await h.page.getByLabel('Tag', { exact: true }).selectOption('court-1');
    await h.page.locator('tr[data-testid="ota-board"][data-device="racket-3"]').waitFor({ state: 'detached' });
    await h.page.getByRole('button', { name: 'Update every board tagged court-1' }).click();
    const card = h.page.getByTestId('rollout').first();
    await card.locator('[data-device="racket-1"][data-state="succeeded"]').waitFor({ timeout: 15_000 });
    await card.locator('[data-device="racket-2"][data-state="failed"]').waitFor({ timeout: 15_000 });
    await card.getByTestId('rollout-failures').getByText(/sha256_mismatch/).waitFor();
    // One failure is past the default limit of none: the rollout stopped itself.
    await h.page.locator('[data-testid="rollout"][data-state="stopped"]').waitFor();
    // Every control of the view has a label.
    const unlabeled = await h.page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const d = (globalThis as any).document;
      return [...d.querySelectorAll('input, select, button')].filter((el: any) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim())).length;
    });
    assert.equal(unlabeled, 0);
    await h.shot('firmware-laptop');
    assert.deepEqual(boards.map((b) => b.firmware), ['2.1.0', '1.2.0', '1.2.0']);
    assert.deepEqual(h.errors, []);
  });
});
