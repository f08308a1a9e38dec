/**
 * The coach's side of sessions through the gateway: strokes told while a
 * session records (the `sessions` topic's `stroke` event and the progress
 * counts), boards held by different players, and the players requests. The
 * truth is the simulator's swing schedule each board swings through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualBoard } from '../../main/simulator/board.js';
import { createImuSource, type StrokeSpec } from '../../main/simulator/swing.js';
import { OPERATOR_TOKEN, eventually, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';

const RATE = 200;
/** Source time (ms from the board's first sample) of each swing. */
const ANA: StrokeSpec[] = [
  { t: 1800, type: 'smash', peakDps: 1750 },
  { t: 4000, type: 'clear', peakDps: 1400 },
  { t: 6200, type: 'smash', peakDps: 1850 },
];
const BEN: StrokeSpec[] = [
  { t: 2500, type: 'drive', peakDps: 600 },
  { t: 5200, type: 'lift', peakDps: 1100 },
];

interface Progress { device_id: string; live_strokes?: number; last_stroke?: { t_ms: number; speed_kmh: number; type: string } | null }
interface Session { session_id: string; state: string; board_players?: Record<string, string>; progress: Progress[] }

describe('players and live strokes', () => {
  let gw: TestGateway;
  let op: TestClient;
  let boards: VirtualBoard[];
  let sessionId: string;
  const events: Frame[] = [];

  before(async () => {
    gw = await startTestGateway();
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['strokes'] }, 'subscribed');
    op.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type === 'event' && f.topic === 'strokes' && f.event === 'stroke') events.push(f);
    });
    boards = [['racket-a', ANA], ['racket-b', BEN]].map(([id, strokes]) =>
      new VirtualBoard({ url: gw.url, deviceCode: id as string, rateHz: RATE, batchMs: 100, imuSource: createImuSource({ rateHz: RATE, seed: 3, strokes: strokes as StrokeSpec[] }) }));
    await Promise.all(boards.map((b) => b.start()));
  });
  after(async () => {
    await Promise.all(boards.map((b) => b.stop()));
    await op.close();
    await gw.stop();
  });

  test('a board not in the session cannot be given a player', async () => {
    const res = await gw.http('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boards: ['racket-a'], board_players: { 'racket-z': 'ana' } }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /racket-z, not in the session's boards/);
    const bad = await op.ask({ type: 'create_session', id: 1, boards: ['racket-a'], board_players: { 'racket-a': '' } }, (f) => f.id === 1);
    assert.equal(bad.type, 'error');
    assert.equal(bad.code, 'BAD_FRAME');
  });

  test('while recording, each board tells its strokes as they are swung', async () => {
    const created = await op.ask({ type: 'create_session', id: 2, boards: ['racket-a', 'racket-b'], player_id: 'ana', board_players: { 'racket-b': 'ben' } }, 'session');
    const s = created.session as Session;
    sessionId = s.session_id;
    assert.deepEqual(s.board_players, { 'racket-b': 'ben' });
    await op.ask({ type: 'start_session', id: 3, session_id: sessionId }, 'session');
    // Every swing is told once the second after it has arrived: the last one (6.2 s) by about 7.5 s.
    await eventually(() => events.filter((e) => e.device_id === 'racket-a').length === ANA.length && events.filter((e) => e.device_id === 'racket-b').length === BEN.length, 12_000);
    const during = (await op.ask({ type: 'get_session', id: 4, session_id: sessionId }, 'session')).session as Session;
    assert.equal(during.state, 'recording');
    await op.ask({ type: 'stop_session', id: 5, session_id: sessionId }, 'session');

    // The board's own clock: its first sample of the session is the schedule's time 0.
    const signal = (await (await gw.http(`/api/sessions/${sessionId}/signal?points=20000`)).json()) as { boards: { device_id: string; t_ms: number[] }[] };
    for (const [id, player, schedule] of [['racket-a', 'ana', ANA], ['racket-b', 'ben', BEN]] as const) {
      const t0 = signal.boards.find((b) => b.device_id === id)!.t_ms[0]!;
      const told = events.filter((e) => e.device_id === id);
      assert.deepEqual(told.map((e) => e.count), schedule.map((_, i) => i + 1));
      for (const [i, truth] of schedule.entries()) {
        const st = told[i]!.stroke as { t_ms: number; type: string; peak_dps: number };
        assert.equal(told[i]!.session_id, sessionId);
        assert.equal(told[i]!.player_id, player);
        assert.ok(Math.abs(st.t_ms - t0 - truth.t) <= 30, `${id} stroke ${i} at ${st.t_ms - t0} ms, swung at ${truth.t}`);
        assert.equal(st.type, truth.type);
        assert.ok(Math.abs(st.peak_dps - truth.peakDps!) / truth.peakDps! < 0.1, `${id} stroke ${i}: ${st.peak_dps} dps`);
      }
      // The progress while recording said the same: the count and the newest stroke.
      const p = during.progress.find((x) => x.device_id === id)!;
      assert.equal(p.live_strokes, schedule.length);
      assert.deepEqual(p.last_stroke, told.at(-1)!.stroke);
    }
  });

  test("get_player gives each player's sessions with their own boards' figures", async () => {
    await eventually(async () => ((await (await gw.http(`/api/sessions/${sessionId}`)).json()) as { session: Session }).session.state === 'complete', 20_000);
    for (const [player, board, schedule, other] of [['ana', 'racket-a', ANA, 'ben'], ['ben', 'racket-b', BEN, 'ana']] as const) {
      const res = await gw.http(`/api/players/${player}`);
      assert.equal(res.status, 200);
      const r = (await res.json()) as { player_id: string; sessions: { session_id: string; boards: string[]; others: string[]; figures: { count: number; max_speed_kmh: number; counts_by_type: Record<string, number> } }[]; profile: { corrections: number } };
      assert.equal(r.player_id, player);
      assert.equal(r.sessions.length, 1);
      const mine = r.sessions[0]!;
      assert.deepEqual([mine.session_id, mine.boards, mine.others], [sessionId, [board], [other]]);
      assert.equal(mine.figures.count, schedule.length);
      for (const t of ['clear', 'drive', 'lift', 'smash']) assert.equal(mine.figures.counts_by_type[t], schedule.filter((x) => x.type === t).length, `${player} ${t}`);
      assert.equal(r.profile.corrections, 0);
    }
    // The fastest swing was ana's 1850 dps smash: her top speed is above ben's (1100 dps at most).
    const list = (await op.ask({ type: 'list_players', id: 6 }, 'players')).players as { player_id: string; sessions: number; complete: number; strokes: number; max_speed_kmh: number }[];
    const by = Object.fromEntries(list.map((p) => [p.player_id, p]));
    assert.deepEqual([by.ana!.sessions, by.ana!.complete, by.ana!.strokes, by.ben!.strokes], [1, 1, ANA.length, BEN.length]);
    assert.ok(by.ana!.max_speed_kmh > by.ben!.max_speed_kmh);
    assert.deepEqual(((await op.ask({ type: 'list_players', id: 7, search: 'BE' }, 'players')).players as { player_id: string }[]).map((p) => p.player_id), ['ben']);

    // A correction on ben's board is ben's (his profile), not the session's player's.
    const strokes = ((await (await gw.http(`/api/sessions/${sessionId}`)).json()) as { strokes: { device_id: string; t_ms: number }[] }).strokes;
    const lift = strokes.filter((s) => s.device_id === 'racket-b')[1]!;
    const res = await gw.http(`/api/sessions/${sessionId}/corrections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: 'racket-b', t_ms: lift.t_ms, stroke_type: 'smash', by: 'Coach Lin' }) });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { correction: { player_id: string } }).correction.player_id, 'ben');
    const profile = async (p: string) => ((await (await gw.http(`/api/players/${p}/profile`)).json()) as { profile: { corrections: number; corrected_by_type: { smash: number } } }).profile;
    assert.deepEqual([(await profile('ben')).corrections, (await profile('ben')).corrected_by_type.smash, (await profile('ana')).corrections], [1, 1, 0]);
  });

  test('reassigning a board moves its strokes to the other player; unknown players and bad requests are refused', async () => {
    await op.ask({ type: 'update_session', id: 8, session_id: sessionId, board_players: { 'racket-b': 'cleo' } }, 'session');
    const cleo = (await (await gw.http('/api/players/cleo')).json()) as { sessions: { figures: { count: number } }[] };
    assert.equal(cleo.sessions[0]!.figures.count, BEN.length);
    // Ben holds no board of a session now; his corrections still make him known.
    const ben = (await (await gw.http('/api/players/ben')).json()) as { sessions: unknown[]; profile: { corrections: number } };
    assert.deepEqual([ben.sessions.length, ben.profile.corrections], [0, 1]);
    const nf = await op.ask({ type: 'get_player', id: 9, player_id: 'nobody' }, (f) => f.id === 9);
    assert.deepEqual([nf.type, nf.code], ['error', 'NOT_FOUND']);
    const bad = await op.ask({ type: 'get_player', id: 10, player_id: '' }, (f) => f.id === 10);
    assert.deepEqual([bad.type, bad.code], ['error', 'BAD_FRAME']);
    const badLimit = await op.ask({ type: 'get_player', id: 11, player_id: 'ana', limit: 0 }, (f) => f.id === 11);
    assert.equal(badLimit.code, 'BAD_FRAME');
  });
});
