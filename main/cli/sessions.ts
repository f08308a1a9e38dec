/**
 * `courtside sessions list|show`: the recorded sessions straight from the
 * gateway's database (running or not), so `export --session` needs no id
 * copied from the UI. The JSON is the session object of the operator API.
 */
import { defaultDataDir } from '../gateway/options.js';
import { progressFrom, sessionJson } from '../gateway/sessions/json.js';
import type { SessionState } from '../gateway/store/types.js';
import { SessionStates, type SessionJson } from '../../firmware-protocol/sessions.js';
import { choiceFlag, HELP_OPTION, intFlag, parse, runCommand, UsageError } from './args.js';
import { DATABASE_FLAGS, DATABASE_HELP, openGatewayDatabase } from './database.js';
import type { CommandIO } from './io.js';

export const SESSIONS_HELP = `Usage: courtside sessions list [--search TEXT] [--state STATE] [--limit N] [--json] [options]
       courtside sessions show ID [--json] [options]

Lists the recorded sessions, newest first, or shows one with its results.

Options:
  --search TEXT      player, court, notes or board id containing TEXT
  --state STATE      one of ${SessionStates.join(', ')}
  --limit N          at most N sessions (1-500, default 50)
  --json             JSON (the operator API's session objects) instead of a table
${DATABASE_HELP(defaultDataDir())}  -h, --help         this help
`;

function facts(s: SessionJson): { strokes: string; duration: string; top: string } {
  const sum = (s.summary ?? {}) as { summary?: Record<string, unknown> } & Record<string, unknown>;
  const inner = (sum.summary ?? sum) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const started = s.started_at ? Date.parse(s.started_at) : null;
  const stopped = s.stopped_at ? Date.parse(s.stopped_at) : null;
  const dur = num(inner.duration_s) ?? (started !== null && stopped !== null ? (stopped - started) / 1000 : null);
  const top = num(inner.max_speed_kmh);
  return { strokes: num(inner.count)?.toString() ?? '-', duration: dur === null ? '-' : `${Math.round(dur)} s`, top: top === null ? '-' : `${Math.round(top)} km/h` };
}

export function sessionsTable(list: readonly SessionJson[]): string {
  if (list.length === 0) return 'No sessions.\n';
  const rows = [
    ['SESSION ID', 'CREATED (UTC)', 'STATE', 'PLAYER', 'BOARDS', 'STROKES', 'DURATION', 'TOP SPEED'],
    ...list.map((s) => {
      const f = facts(s);
      return [s.session_id, s.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), s.state, s.player_id ?? '-', s.boards.join(','), f.strokes, f.duration, f.top];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function showText(s: SessionJson, strokes: number): string {
  const f = facts(s);
  const lines = [
    ['session', s.session_id],
    ['state', s.state + (s.failure_reason ? ` (${s.failure_reason})` : '')],
    ['player', s.player_id ?? '-'],
    ['court', s.court ?? '-'],
    ['boards', s.boards.join(', ')],
    ['created', s.created_at],
    ['started', s.started_at ?? '-'],
    ['stopped', s.stopped_at ?? '-'],
    ['strokes', s.state === 'complete' ? String(strokes) : f.strokes],
    ['duration', f.duration],
    ['top speed', f.top],
    ['notes', s.notes ?? '-'],
  ];
  for (const p of s.progress) lines.push([`board ${p.device_id}`, `${p.samples} samples, ${p.frames} frames${p.complete ? ', complete' : ''}`]);
  return lines.map(([k, v]) => `${k!.padEnd(16)}${v}`).join('\n') + `\nexport:         courtside export --session ${s.session_id} --out ${s.session_id}.zip\n`;
}

export function sessionsCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(
    io,
    async () => {
      const { values, positionals } = parse(argv, { search: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, ...DATABASE_FLAGS, ...HELP_OPTION }, true);
      if (values.help) {
        io.stdout.write(SESSIONS_HELP);
        return 0;
      }
      const [sub, ...rest] = positionals;
      if (sub !== 'list' && sub !== 'show') throw new UsageError(sub === undefined ? 'expected list or show' : `unknown subcommand '${sub}', expected list or show`);
      if (sub === 'show' && rest.length !== 1) throw new UsageError('show takes one session id');
      if (sub === 'list' && rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
      const state = choiceFlag<SessionState>('state', values.state, SessionStates);
      const limit = intFlag('limit', values.limit, 1, 500) ?? 50;
      const { store } = await openGatewayDatabase(values, io);
      try {
        if (sub === 'list') {
          const page = await store.listSessionSummaries({ ...(values.search ? { search: values.search } : {}), ...(state ? { state } : {}), limit });
          const list = page.map(({ row, chunks, finals }) => sessionJson(row, progressFrom(row, chunks, finals)));
          io.stdout.write(values.json ? JSON.stringify(list, null, 2) + '\n' : sessionsTable(list));
          return 0;
        }
        const id = rest[0]!;
        const [found] = (await store.listSessionSummaries({ search: id, limit: 500 })).filter((x) => x.row.sessionId === id);
        const row = found?.row ?? (await store.getSession(id));
        if (!row) {
          io.stderr.write(`courtside sessions: session ${id} not found\n`);
          return 1;
        }
        const s = sessionJson(row, progressFrom(row, found?.chunks ?? [], found?.finals ?? []));
        const strokes = s.state === 'complete' ? await store.listStrokes(id) : [];
        io.stdout.write(values.json ? JSON.stringify({ session: s, strokes: strokes.map((k) => ({ device_id: k.deviceId, index: k.idx, t_ms: k.tMs, type: k.type, speed_kmh: k.speedKmh, peak_dps: k.peakDps, peak_g: k.peakG, confidence: k.confidence, saturated: k.saturated })) }, null, 2) + '\n' : showText(s, strokes.length));
        return 0;
      } finally {
        await store.close();
      }
    },
    { prefix: 'courtside sessions', seeHelp: true },
  );
}
