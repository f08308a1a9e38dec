/**
 * A board's page as operators read it: what it reported over time, its connects, disconnects
 * and refused frames, the commands sent to it with their answers, and the sessions it was in.
 * Every list is one page (`limit`, newest first, older than `before`), so a board with years
 * of rows answers as fast as a new one.
 */
import type { OperatorReplyBody } from '../../firmware-protocol/index.js';
import type { Core } from './core.js';
import { gatewayError } from './errors.js';
import { priorityName } from './priority.js';
import type { CommandRow } from './store/types.js';

type History = OperatorReplyBody<'device_history'>;
type Only = 'statuses' | 'events' | 'commands' | 'sessions';

/** Entries per list when the request names no limit. */
export const DEFAULT_HISTORY_LIMIT = 50;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function commandJson(core: Core, c: CommandRow): History['commands'][number] {
  return {
    command_id: c.commandId,
    command: c.command,
    params: c.params,
    state: c.state,
    attempts: c.attempts,
    created_at: c.createdAt.toISOString(),
    acked_at: iso(c.ackedAt),
    result: c.result,
    priority: priorityName(c.priority),
    timeout_ms: core.commands.timeoutOf(c),
    max_retries: core.commands.maxRetriesOf(c),
    failed_at: iso(c.failedAt),
  };
}

export async function deviceHistory(core: Core, f: { device_id: string; limit?: number; before?: string; only?: Only }): Promise<History> {
  if (!core.boards.find(f.device_id)) throw gatewayError('NOT_FOUND', `device ${f.device_id} not found`);
  const limit = f.limit ?? DEFAULT_HISTORY_LIMIT;
  let before: Date | undefined;
  if (f.before !== undefined) {
    before = new Date(f.before);
    if (Number.isNaN(before.getTime())) throw gatewayError('BAD_REQUEST', `before is not a time: ${f.before}`);
  }
  const want = (k: Only) => f.only === undefined || f.only === k;
  const none = { items: [], more: false };
  // One more than the page tells whether older rows are left, without counting them.
  const page = <T>(rows: T[]) => ({ items: rows.slice(0, limit), more: rows.length > limit });
  const id = f.device_id;
  const [conns, cmds, sessions] = await Promise.all([
    want('events') ? core.store.listConnections({ deviceId: id, limit: limit + 1, before }).then(page) : none,
    want('commands') ? core.store.listCommands({ deviceId: id, limit: limit + 1, before }).then(page) : none,
    want('sessions') ? core.store.listSessions({ deviceId: id, limit: limit + 1, before }).then(page) : none,
  ]);
  const statuses = want('statuses') ? core.boards.history.statusPage(id, limit, before?.getTime()) : none;
  const errors = want('events') ? core.boards.history.errorPage(id, limit, before?.getTime()) : none;

  // A connection row is two events; merged with the errors, newest first, cut to the page.
  const events: (History['events'][number] & { t: number })[] = [];
  for (const c of conns.items) {
    const gw = c.gatewayId === undefined ? {} : { gateway_id: c.gatewayId };
    if (c.disconnectedAt && (!before || c.disconnectedAt < before)) events.push({ t: c.disconnectedAt.getTime(), at: c.disconnectedAt.toISOString(), event: 'disconnected', ip: c.clientIp, ...gw });
    events.push({ t: c.connectedAt.getTime(), at: c.connectedAt.toISOString(), event: 'connected', ip: c.clientIp, ...gw });
  }
  for (const e of errors.items) events.push({ t: e.at, at: new Date(e.at).toISOString(), event: 'error', code: e.code, message: e.message });
  events.sort((a, b) => b.t - a.t);
  return {
    device_id: id,
    statuses: statuses.items.map((s) => ({ at: new Date(s.at).toISOString(), source: s.source, values: s.values })),
    events: events.slice(0, limit).map(({ t: _t, ...e }) => e),
    commands: cmds.items.map((c) => commandJson(core, c)),
    sessions: sessions.items.map((s) => ({ session_id: s.sessionId, state: s.state, created_at: s.createdAt.toISOString(), started_at: iso(s.startedAt), stopped_at: iso(s.stoppedAt), player_id: s.playerId, boards: s.boards })),
    more: { statuses: statuses.more, events: conns.more || errors.more || events.length > limit, commands: cmds.more, sessions: sessions.more },
  };
}

/** Rooms nobody is in, still holding messages (or made within the retention), last active first. */
export async function emptyRooms(core: Core, limit = 50): Promise<OperatorReplyBody<'rooms'>['empty_rooms'] & object> {
  const days = core.options.retentionDays;
  const since = new Date(days > 0 ? core.clock.now() - days * 86_400_000 : 0);
  const active = core.rooms.activeRooms().map((r) => r.roomId);
  const rows = await core.store.listRoomActivity({ since, limit, exclude: active });
  return rows.map((r) => ({ room_id: r.roomId, created_at: r.createdAt.toISOString(), last_message_at: iso(r.lastMessageAt), messages: r.messages }));
}
