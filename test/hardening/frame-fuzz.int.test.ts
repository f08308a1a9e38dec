/**
 * A bounded fuzz run in `npm test` (the full one is `npm run fuzz`): hostile
 * frames on every endpoint and malformed HTTP requests against `courtside
 * serve`; no crash, no unanswered batch, no 5xx but 503, health still 200.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../support/fuzz.js';

test('6000 hostile frames over five endpoints and 2000 malformed HTTP requests: every batch answered, nothing crashes', { timeout: 240_000 }, async () => {
  const r = await runFuzz({ frames: 6000, httpRequests: 2000, seed: 7 });
  assert.equal(r.crashed, false, JSON.stringify(r));
  assert.equal(r.unanswered_batches, 0, JSON.stringify(r));
  assert.equal(r.http_5xx_other_than_503, 0, JSON.stringify(r.http_statuses));
  assert.equal(r.health_after, 200);
  assert.ok(r.frames_sent >= 6000, JSON.stringify(r));
  // The refusals are the gateway's own error frames, not silence: most hostile frames get one.
  const errors = Object.values(r.error_replies).reduce((a, b) => a + b, 0);
  assert.ok(errors > r.frames_sent / 3, JSON.stringify(r.error_replies));
});
