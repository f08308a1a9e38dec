/**
 * `courtside sessions list|show` against the database a real gateway wrote
 * (simulated boards recorded a session), checked against the gateway's own
 * HTTP API; the database found as `serve` finds it (--data-dir,
 * COURTSIDE_DATA_DIR, settings.json's db), and every error naming its
 * command and the folder it looked in.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { runInProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

type Session = { session_id: string; state: string; player_id: string | null; boards: string[]; summary: unknown };

describe('courtside sessions', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  let done: Session;
  let open: Session;
  const elsewhere = mkdtempSync(join(tmpdir(), 'courtside-cli-sessions-'));

  before(async () => {
    gw = await startTestGateway();
    fleet = startFleet({ url: gw.url, devices: 2, rateHz: 100, mode: 'batch', strokesPerMinute: 60, staggerMs: 5 });
    await fleet.ready;
    const post = async (path: string, body?: unknown) => (await (await gw.http(path, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })).json()) as { session: Session };
    const s = (await post('/api/sessions', { boards: ['racket-1', 'racket-2'], player_id: 'player-9', court: '2' })).session;
    await post(`/api/sessions/${s.session_id}/start`);
    await new Promise((r) => setTimeout(r, 3000));
    await post(`/api/sessions/${s.session_id}/stop`);
    await waitFor(async () => ((await (await gw.http(`/api/sessions/${s.session_id}`)).json()) as { session: Session }).session.state === 'complete', { timeoutMs: 30_000, what: 'analysis' });
    done = ((await (await gw.http(`/api/sessions/${s.session_id}`)).json()) as { session: Session }).session;
    open = (await post('/api/sessions', { boards: ['racket-1'], notes: 'warm-up' })).session;
  });
  after(async () => {
    await fleet.stop();
    await gw.stop();
    rmSync(elsewhere, { recursive: true, force: true });
  });

  test('list --json is the operator API list; the table names its columns', async () => {
    const r = await runInProcess(['sessions', 'list', '--json', '--data-dir', gw.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const api = ((await (await gw.http('/api/sessions')).json()) as { sessions: Session[] }).sessions;
    const cli = JSON.parse(r.stdout) as Session[];
    assert.deepEqual(cli.map((s) => s.session_id), api.map((s) => s.session_id));
    assert.deepEqual(cli.find((s) => s.session_id === done.session_id), api.find((s) => s.session_id === done.session_id));

    const t = await runInProcess(['sessions', 'list', '--data-dir', gw.dataDir]);
    assert.equal(t.code, 0, t.stderr);
    const lines = t.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^SESSION ID\s+CREATED \(UTC\)\s+STATE\s+PLAYER\s+BOARDS\s+STROKES\s+DURATION\s+TOP SPEED$/);
    const sum = done.summary as { summary?: { count: number; max_speed_kmh: number }; count?: number; max_speed_kmh?: number };
    const facts = sum.summary ?? (sum as { count: number; max_speed_kmh: number });
    const row = lines.find((l) => l.startsWith(done.session_id))!;
    assert.match(row, new RegExp(`\\scomplete\\s+player-9\\s+racket-1,racket-2\\s+${facts.count}\\s+\\d+ s\\s+${Math.round(facts.max_speed_kmh)} km/h$`));
    assert.match(lines.find((l) => l.startsWith(open.session_id))!, /\screated\s+-\s+racket-1\s+-\s+-\s+-$/);

    const filtered = JSON.parse((await runInProcess(['sessions', 'list', '--json', '--state', 'created', '--data-dir', gw.dataDir])).stdout) as Session[];
    assert.deepEqual(filtered.map((s) => s.session_id), [open.session_id]);
  });

  test('show: the session, its strokes, and the export line', async () => {
    const r = await runInProcess(['sessions', 'show', done.session_id, '--json', '--data-dir', gw.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const api = (await (await gw.http(`/api/sessions/${done.session_id}`)).json()) as { session: Session; strokes: { t_ms: number; speed_kmh: number }[] };
    const cli = JSON.parse(r.stdout) as typeof api;
    assert.deepEqual(cli.session, api.session);
    assert.deepEqual(cli.strokes.map((s) => [s.t_ms, s.speed_kmh]), api.strokes.map((s) => [s.t_ms, s.speed_kmh]));
    const text = await runInProcess(['sessions', 'show', done.session_id, '--data-dir', gw.dataDir]);
    assert.match(text.stdout, new RegExp(`^strokes\\s+${api.strokes.length}$`, 'm'));
    assert.match(text.stdout, new RegExp(`courtside export --session ${done.session_id} --out`));
  });

  test('the data folder is found as serve finds it: COURTSIDE_DATA_DIR, and settings.json naming the database', async () => {
    const viaEnv = await runInProcess(['sessions', 'list', '--json'], { env: { COURTSIDE_DATA_DIR: gw.dataDir } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal((JSON.parse(viaEnv.stdout) as Session[]).length, 2);
    // A data folder whose settings point at the database elsewhere, as the Settings view can write it.
    writeFileSync(join(elsewhere, 'settings.json'), JSON.stringify({ db: join(gw.dataDir, 'courtside.sqlite') }));
    const viaSettings = await runInProcess(['sessions', 'list', '--json', '--data-dir', elsewhere]);
    assert.equal(viaSettings.code, 0, viaSettings.stderr);
    assert.equal((JSON.parse(viaSettings.stdout) as Session[]).length, 2);
    const exp = await runInProcess(['export', '--session', done.session_id, '--out', join(elsewhere, 'x.zip'), '--data-dir', elsewhere]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stdout, new RegExp(`exported session ${done.session_id}`));
  });

  test('errors carry the command and say where it looked', async () => {
    const empty = join(elsewhere, 'empty');
    const none = await runInProcess(['sessions', 'list', '--data-dir', empty]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `courtside sessions: no database at ${join(empty, 'courtside.sqlite')} (looked in the data folder ${empty}; give --db or --data-dir)\n`);
    const missing = await runInProcess(['sessions', 'show', 's-nope', '--data-dir', gw.dataDir]);
    assert.deepEqual([missing.code, missing.stderr], [1, 'courtside sessions: session s-nope not found\n']);
    const cases: [string[], string][] = [
      [['sessions'], 'courtside sessions: expected list or show (see --help)\n'],
      [['sessions', 'lsit'], "courtside sessions: unknown subcommand 'lsit', expected list or show (see --help)\n"],
      [['sessions', 'list', '--state', 'done'], `courtside sessions: --state must be one of created, recording, uploading, analyzing, complete, failed, got 'done' (see --help)\n`],
      [['sessions', 'list', '--limit', '0'], 'courtside sessions: --limit must be between 1 and 500, got 0 (see --help)\n'],
      [['sessions', 'show'], 'courtside sessions: show takes one session id (see --help)\n'],
    ];
    for (const [argv, line] of cases) {
      const r = await runInProcess(argv);
      assert.deepEqual([r.code, r.stderr], [2, line], argv.join(' '));
    }
  });
});
