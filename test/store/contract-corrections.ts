/**
 * The stroke corrections part of the store contract, run against both
 * backends by sqlite.test.ts and mysql.test.ts: a correction round-trips
 * exactly, replacing deletes only what it names, and rewriting a session's
 * strokes (what analysis does) leaves its corrections alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CorrectionRow, Store } from '../../main/gateway/store/types.js';

const correction = (id: string, over: Partial<CorrectionRow> = {}): CorrectionRow => ({
  correctionId: id, sessionId: 's-corr', deviceId: 'racket-1', playerId: 'player-c', tMs: 1234.5, type: 'smash', originalType: 'clear',
  features: [0.125, -1.5, 3e-7, 42], stroke: null, madeBy: 'Coach Lin', madeAt: new Date(1_700_000_000_123), ...over,
});

export function correctionsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract (stroke corrections): ${name}`, () => {
    let store: Store;
    before(async () => { store = await open(); });
    after(() => store.close());

    test('a correction round-trips exactly; an added stroke keeps its measurements; not a stroke has no features', async () => {
      const added = correction('c-2', { tMs: 5000, originalType: null, type: 'drive', stroke: { peak_dps: 812.5, speed_kmh: 30.6, peak_g: 4.25, saturated: false }, madeAt: new Date(1_700_000_000_200) });
      const none = correction('c-3', { tMs: 9000, type: 'not_a_stroke', features: null, madeAt: new Date(1_700_000_000_300), madeBy: 'Ана ✓' });
      await store.saveCorrection(correction('c-1'));
      await store.saveCorrection(added);
      await store.saveCorrection(none);
      assert.deepEqual(await store.listCorrections({ sessionId: 's-corr' }), [correction('c-1'), added, none]);
    });

    test('listing by player spans sessions, oldest first; another player sees none of them', async () => {
      await store.saveCorrection(correction('c-p2', { sessionId: 's-corr-2', madeAt: new Date(1_700_000_000_400) }));
      await store.saveCorrection(correction('c-other', { sessionId: 's-corr-3', playerId: 'player-d' }));
      assert.deepEqual((await store.listCorrections({ playerId: 'player-c' })).map((c) => [c.sessionId, c.correctionId]), [
        ['s-corr', 'c-1'], ['s-corr', 'c-2'], ['s-corr', 'c-3'], ['s-corr-2', 'c-p2'],
      ]);
      assert.deepEqual((await store.listCorrections({ playerId: 'player-d' })).map((c) => c.correctionId), ['c-other']);
    });

    test('a correction replaces the ones it names, in its own session only', async () => {
      await store.saveCorrection(correction('c-new', { type: 'lift', madeAt: new Date(1_700_000_000_500) }), ['c-1', 'c-p2']);
      assert.deepEqual((await store.listCorrections({ sessionId: 's-corr' })).map((c) => c.correctionId), ['c-2', 'c-3', 'c-new']);
      // c-p2 is of another session: a replace list cannot reach across.
      assert.deepEqual((await store.listCorrections({ sessionId: 's-corr-2' })).map((c) => c.correctionId), ['c-p2']);
    });

    test('deleteCorrection is true once, false for an unknown id or another session', async () => {
      assert.equal(await store.deleteCorrection('s-corr-2', 'c-2'), false);
      assert.equal(await store.deleteCorrection('s-corr', 'c-2'), true);
      assert.equal(await store.deleteCorrection('s-corr', 'c-2'), false);
      assert.deepEqual((await store.listCorrections({ sessionId: 's-corr' })).map((c) => c.correctionId), ['c-3', 'c-new']);
    });

    test('saving a session\'s strokes (what analysis does) leaves its corrections alone', async () => {
      const stroke = { sessionId: 's-corr', deviceId: 'racket-1', idx: 0, tMs: 1234.5, peakDps: 900, speedKmh: 34, peakG: 5, saturated: false, type: 'clear', confidence: 0.9 };
      await store.saveStrokes('s-corr', [stroke]);
      await store.saveStrokes('s-corr', []);
      assert.deepEqual((await store.listCorrections({ sessionId: 's-corr' })).map((c) => c.correctionId), ['c-3', 'c-new']);
    });
  });
}
