/**
 * Coaches correct stroke types through the HTTP API and the analysis learns
 * the player. The recorded strokes of the badminton-imu files are streamed by
 * a board as a slower player with a shorter arm swings them (augment.ts:
 * speed x0.45, arm x0.7, the kind of gap a second real player showed), so the
 * general model types many of them wrong; the truth is the file each stroke
 * comes from. Session 1 (first half of every recording) is corrected, 5
 * strokes per type plus a missed stroke added and a detection removed, then
 * re-analysed; session 2 (the second halves, the board mounted another way)
 * is the player's next session and must come out typed with the profile;
 * session 3 is the same signal for a player without corrections, who must get
 * exactly what `courtside analyze` (the general model) says of its export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { analyzeSamples } from '../../main/gateway/sessions/analysis/analyze.js';
import { analyzeCommand } from '../../main/gateway/sessions/analysis/cli.js';
import { IDENTITY, axisAngle } from '../../main/gateway/sessions/analysis/rotate.js';
import { recordSession, sessionSignal } from './recorded.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from '../../main/gateway/sessions/analysis/types.js';
import { startTestGateway, OPERATOR_TOKEN, TestClient, type TestGateway } from '../support/gateway.js';
import { captureIO } from '../support/cli.js';
import { DATASET, loadDataset } from '../analysis/helpers.js';

const run = promisify(execFile);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface WireStroke { device_id: string; index: number; t_ms: number; type: string; model_type?: string | null; correction?: { correction_id: string; by: string; at: string } | null }

describe('stroke corrections teach the player profile', { skip: DATASET.skip }, () => {
  let gw: TestGateway;
  let dir: string;
  const recs = new Map<StrokeType, ImuSample[]>();
  before(async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'courtside-corr-'));
    for (const t of STROKE_TYPES) recs.set(t, await loadDataset(t));
  });
  after(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const res = await gw.http(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const ok = async (method: string, path: string, body?: unknown, status = 200) => {
    const r = await api(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
    return r.json;
  };

  const record = (player: string, board: string, samples: readonly ImuSample[]) => recordSession(gw, player, board, samples);

  const strokesOf = async (id: string) => (await ok('GET', `/api/sessions/${id}`)) as { session: Json; strokes: WireStroke[] };
  const accuracy = (strokes: readonly { t_ms: number; type: string }[], truth: (t: number) => StrokeType) =>
    strokes.filter((s) => s.type === truth(s.t_ms)).length / strokes.length;

  /** strokes.csv and `courtside analyze --json` on samples.csv of the session's export (Debian's unzip reads the zip). */
  async function exported(id: string) {
    const res = await gw.http(`/api/sessions/${id}/export`);
    assert.equal(res.status, 200);
    const zip = join(dir, `${id}.zip`);
    writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
    const entry = async (name: string) => (await run('unzip', ['-p', zip, name], { maxBuffer: 64 << 20 })).stdout;
    const csv = join(dir, `${id}-samples.csv`);
    writeFileSync(csv, await entry('samples.csv'));
    const io = captureIO();
    assert.equal(await analyzeCommand([csv, '--json'], io.io), 0, io.stderr());
    const general = (JSON.parse(io.stdout()) as { recordings: { strokes: { t_ms: number; type: string }[] }[] }).recordings[0]!.strokes;
    const [header, ...rows] = (await entry('strokes.csv')).trim().split('\n');
    const cols = header!.split(',');
    return { general, rows: rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i]!, v]))) };
  }

  let first: string;
  let s1: ReturnType<typeof sessionSignal>;
  const corrected = new Map<number, StrokeType>();
  let added = 0;
  let removed = 0;

  test('session 1: coaches correct 5 strokes per type, add a missed one and remove one, through the HTTP API', async () => {
    s1 = sessionSignal(recs, 0, IDENTITY, true);
    first = await record('p-slow', 'racket-c1', s1.samples);
    const { strokes, session } = await strokesOf(first);
    const before = accuracy(strokes, s1.truth);
    assert.ok(before < 0.8, `the general model should struggle with this player: ${before}`);
    assert.equal(session.summary.count, strokes.length);

    // Wrong requests first: each a clear 4xx, nothing stored.
    assert.equal((await api('POST', `/api/sessions/${first}/corrections`, { device_id: 'racket-c1', t_ms: 0, stroke_type: 'serve', by: 'Coach Lin' })).status, 400);
    assert.equal((await api('POST', `/api/sessions/${first}/corrections`, { device_id: 'other', t_ms: 0, stroke_type: 'smash', by: 'Coach Lin' })).status, 404);
    assert.equal((await api('POST', `/api/sessions/${first}/corrections`, { device_id: 'racket-c1', t_ms: strokes[0]!.t_ms, stroke_type: 'smash' })).status, 400);
    assert.equal((await api('POST', '/api/sessions/s-0000000000/corrections', { device_id: 'racket-c1', t_ms: 0, stroke_type: 'smash', by: 'x' })).status, 404);
    assert.equal((await api('DELETE', `/api/sessions/${first}/corrections/k-nothing`)).status, 404);
    assert.deepEqual((await ok('GET', `/api/sessions/${first}/corrections`)).corrections, []);

    for (const type of STROKE_TYPES) {
      for (const s of strokes.filter((k) => s1.truth(k.t_ms) === type).slice(0, 5)) {
        const r = await ok('POST', `/api/sessions/${first}/corrections`, { device_id: 'racket-c1', t_ms: s.t_ms, stroke_type: type, by: 'Coach Lin' }, 201);
        assert.equal(r.correction.original_type, s.type);
        assert.equal(r.correction.action, 'retype');
        assert.equal(r.correction.attached, true);
        corrected.set(s.t_ms, type);
      }
    }
    // A drive the public player's own swing shows and this player's slower one did not trip the detector on: added by hand.
    const reference = analyzeSamples(sessionSignal(recs, 0, IDENTITY, false).samples).strokes;
    const missed = reference.find((r) => s1.truth(r.tMs) === 'drive' && !strokes.some((k) => Math.abs(k.t_ms - r.tMs) <= 300));
    assert.ok(missed, 'a drive the detector missed at this speed');
    const add = await ok('POST', `/api/sessions/${first}/corrections`, { device_id: 'racket-c1', t_ms: missed.tMs + 40, stroke_type: 'drive', by: 'Coach Ana' }, 201);
    assert.equal(add.correction.action, 'add');
    assert.equal(add.correction.original_type, null);
    assert.ok(Math.abs(add.correction.t_ms - missed.tMs) <= 150, `added at the peak near the time given: ${add.correction.t_ms} vs ${missed.tMs}`);
    added = 1;
    // The last stroke, uncorrected, marked as not a stroke; then retyped the same, replacing nothing else.
    const last = strokes.filter((k) => !corrected.has(k.t_ms)).at(-1)!;
    const gone = await ok('POST', `/api/sessions/${first}/corrections`, { device_id: 'racket-c1', t_ms: last.t_ms, stroke_type: 'not_a_stroke', by: 'Coach Lin' }, 201);
    assert.equal(gone.correction.action, 'not_a_stroke');
    assert.equal(gone.strokes.some((k: WireStroke) => k.t_ms === last.t_ms), false);
    removed = 1;

    const now = await strokesOf(first);
    assert.equal(now.strokes.length, strokes.length + added - removed);
    for (const [t, type] of corrected) {
      const s = now.strokes.find((k) => k.t_ms === t)!;
      assert.equal(s.type, type, `corrected stroke at ${t}`);
      assert.equal(s.correction?.by, 'Coach Lin');
    }
    assert.equal(now.session.summary.corrected, corrected.size + added + removed);
    assert.equal(now.session.summary.count, now.strokes.length);
    const counted = Object.fromEntries(STROKE_TYPES.map((t) => [t, now.strokes.filter((k) => k.type === t).length]));
    for (const t of STROKE_TYPES) assert.equal(now.session.summary.counts_by_type[t], counted[t]);

    const profile = (await ok('GET', '/api/players/p-slow/profile')).profile;
    assert.deepEqual(profile.corrected_by_type, { clear: 5, drive: 6, lift: 5, smash: 5 });
    assert.deepEqual([profile.not_a_stroke, profile.corrections, profile.sessions], [1, 22, 1]);
  });

  test('re-analysis with the profile keeps every correction and types the rest better', async () => {
    const before = await strokesOf(first);
    const r = await ok('POST', `/api/sessions/${first}/reanalyze`);
    assert.ok(r.changes.length > 0, 'the profile changed some types');
    for (const c of r.changes) assert.equal(c.after, s1.truth(c.t_ms), `a change at ${c.t_ms} went to ${c.after}`);
    const after = await strokesOf(first);
    for (const [t, type] of corrected) assert.equal(after.strokes.find((k) => k.t_ms === t)?.type, type);
    assert.equal(after.strokes.length, before.strokes.length);
    assert.ok(accuracy(after.strokes, s1.truth) > accuracy(before.strokes, s1.truth));
    const list = (await ok('GET', `/api/sessions/${first}/corrections`)).corrections as Json[];
    assert.equal(list.length, 22);
    // The added drive still has no detection of its own; it stays a stroke.
    assert.deepEqual(list.filter((c) => !c.attached).map((c) => c.action), ['add']);
  });

  test('the player\'s next session, on a board mounted another way, is typed with the profile', async () => {
    const s2 = sessionSignal(recs, 1, axisAngle([1, 2, 3], 130), true);
    const next = await record('p-slow', 'racket-c1', s2.samples);
    const { strokes } = await strokesOf(next);
    const { general } = await exported(next);
    const withProfile = accuracy(strokes, s2.truth);
    const generalOnly = accuracy(general, s2.truth);
    assert.ok(withProfile >= 0.9, `with the profile ${withProfile}`);
    assert.ok(withProfile >= generalOnly + 0.25, `profile ${withProfile} vs general ${generalOnly}`);
    assert.deepEqual(strokes.map((s) => s.t_ms), general.map((s) => s.t_ms), 'the profile changes types, not detection');

    // Same signal, a player nobody corrected: exactly the general model.
    const fresh = await record('p-fresh', 'racket-c2', s2.samples);
    const f = await strokesOf(fresh);
    assert.deepEqual(f.strokes.map((s) => [s.t_ms, s.type]), (await exported(fresh)).general.map((s) => [s.t_ms, s.type]));
    assert.deepEqual((await ok('GET', '/api/players/p-fresh/profile')).profile.corrections, 0);
  });

  test('corrections survive export and another re-analysis', async () => {
    const check = async () => {
      const { rows } = await exported(first);
      const live = await strokesOf(first);
      assert.equal(rows.filter((r) => r.index !== '').length, live.strokes.length);
      for (const [t, type] of corrected) {
        const row = rows.find((r) => Number(r.t_ms) === t)!;
        assert.deepEqual([row.type, row.corrected_type, row.corrected_by], [type, type, 'Coach Lin']);
        assert.notEqual(row.original_type, '');
      }
      const addedRow = rows.find((r) => r.corrected_by === 'Coach Ana')!;
      assert.deepEqual([addedRow.type, addedRow.original_type, addedRow.corrected_type], ['drive', '', 'drive']);
      assert.deepEqual(rows.filter((r) => r.type === 'not_a_stroke').map((r) => [r.index, r.corrected_type]), [['', 'not_a_stroke']]);
      assert.ok(rows.every((r) => r.corrected_type === '' || !Number.isNaN(Date.parse(r.corrected_at!))));
    };
    await check();
    await ok('POST', `/api/sessions/${first}/reanalyze`);
    await check();
    // Deleting the removal brings the detection back.
    const list = (await ok('GET', `/api/sessions/${first}/corrections`)).corrections as Json[];
    const removal = list.find((c) => c.action === 'not_a_stroke')!;
    const back = await ok('DELETE', `/api/sessions/${first}/corrections/${removal.correction_id}`);
    assert.ok(back.strokes.some((k: WireStroke) => k.t_ms === removal.t_ms && !k.correction));
    assert.equal((await ok('GET', '/api/players/p-slow/profile')).profile.not_a_stroke, 0);
  });

  test('an operator socket gets the same answers (correct_stroke over /ws/admin/)', async () => {
    const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    const s = (await strokesOf(first)).strokes.find((k) => !k.correction)!;
    const r = await op.ask({ type: 'correct_stroke', id: 1, session_id: first, device_id: 'racket-c1', t_ms: s.t_ms, stroke_type: 'lift', by: 'Coach Lin' }, 'stroke_corrected');
    assert.equal((r.correction as Json).type, 'lift');
    const open = (await op.ask({ type: 'create_session', id: 2, boards: ['racket-c3'] }, 'session')).session as Json;
    const refused = await op.ask({ type: 'correct_stroke', id: 3, session_id: open.session_id, device_id: 'racket-c3', t_ms: 0, stroke_type: 'lift', by: 'x' }, 'error');
    assert.equal(refused.code, 'CONFLICT');
    await op.close();
  });
});
