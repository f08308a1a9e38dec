/**
 * A coach corrects strokes in the session's results: the type set from the
 * stroke list shows as corrected (with the analysis's type struck through),
 * the player's profile counts it, and re-analysis says what changed. The
 * session is recorded strokes of the badminton-imu files, swung as a slower
 * player (test/sessions/recorded.ts), streamed by a board over its socket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY } from '../../main/gateway/sessions/analysis/rotate.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from '../../main/gateway/sessions/analysis/types.js';
import { DATASET, loadDataset } from '../analysis/helpers.js';
import { recordSession, sessionSignal } from '../sessions/recorded.js';
import { noBrowser, startHarness, type Harness } from './support.js';

describe('stroke corrections in the UI', { skip: noBrowser || DATASET.skip }, () => {
  let h: Harness;
  let id: string;
  let signal: ReturnType<typeof sessionSignal>;
  before(async () => {
    h = await startHarness({ viewport: { width: 1280, height: 1000 } });
    const recs = new Map<StrokeType, ImuSample[]>();
    for (const t of STROKE_TYPES) recs.set(t, await loadDataset(t));
    signal = sessionSignal(recs, 0, IDENTITY, true);
    id = await recordSession(h.gw, 'player-e2e', 'racket-e2e', signal.samples);
  });
  after(async () => {
    await h?.close();
  });

  test('change a stroke\'s type, see it corrected and counted in the profile, re-analyse and see what changed', async () => {
    const { page } = h;
    await h.open('sessions');
    await page.getByRole('button', { name: `Open session ${id}` }).click();
    const panel = page.getByTestId('stroke-corrections');
    await panel.waitFor();
    await panel.getByTestId('profile-counts').filter({ hasText: '0 clear, 0 drive, 0 lift, 0 smash' }).waitFor();
    const res = await h.gw.http(`/api/sessions/${id}`);
    const strokes = ((await res.json()) as { strokes: { index: number; t_ms: number; type: string }[] }).strokes;
    // The first smash of the recording the general model got wrong: the coach sets it right.
    const wrong = strokes.find((s) => signal.truth(s.t_ms) === 'smash' && s.type !== 'smash');
    assert.ok(wrong, 'a smash typed wrong by the general model');
    await panel.getByTestId('coach-name').fill('Coach Lin');
    await panel.getByLabel(`Type of stroke ${wrong.index + 1} on racket-e2e`).selectOption('smash');
    const row = panel.getByTestId('stroke-row').filter({ has: page.getByText(/corrected from/) });
    await row.getByText('by Coach Lin').waitFor();
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('s').textContent(), wrong.type === 'unknown' ? 'unknown' : wrong.type);
    await panel.getByTestId('profile-counts').filter({ hasText: '1 smash' }).waitFor();
    await page.getByTestId('corrected-count').filter({ hasText: '1' }).waitFor();

    await panel.getByTestId('reanalyze').click();
    const changes = panel.getByTestId('reanalysis-changes');
    await changes.waitFor();
    assert.match(String(await changes.textContent()), /Re-analysed: (no stroke changed|\d+ strokes? changed)/);
    // The correction is still there after the re-analysis.
    await row.getByText('by Coach Lin').waitFor();
    await row.scrollIntoViewIfNeeded();
    await h.shot('session-corrections');
    assert.deepEqual(h.errors, []);
  });
});
