/**
 * Sessions as a gateway part: the sample sink, the operator requests
 * (create/start/stop/get/list, the chart signal) with their `/api/sessions`
 * routes, the zip export, the player's session_status, and a clean shutdown
 * that flushes the write queue.
 */
import { SessionOperatorFrames, type SessionState } from '../../../firmware-protocol/index.js';
import type { Core, PartFactory } from '../core.js';
import { answer, defineRequest, type GatewayPart } from '../parts.js';
import { gatewayError } from '../errors.js';
import { IngestWriter, type IngestOptions } from './ingest.js';
import { SessionManager } from './manager.js';
import { exportSession, ExportError } from './export.js';
import { boardSamples } from './analysis-run.js';
import { correctionRequests, sessionStrokes } from './corrections-part.js';
import { playerRequests } from './players.js';
import type { ImuSample } from './analysis/types.js';
import { gyroMagnitude } from './analysis/detect.js';

/**
 * The gyroscope magnitude cut to about `points` points for a chart: each
 * bucket keeps its largest value, so stroke peaks survive the thinning.
 */
export function downsampleGyro(samples: readonly ImuSample[], points: number): { t_ms: number[]; gyro_dps: number[] } {
  const t_ms: number[] = [];
  const gyro_dps: number[] = [];
  const per = Math.max(1, Math.ceil(samples.length / points));
  for (let i = 0; i < samples.length; i += per) {
    let best = -1;
    let at = i;
    for (let j = i; j < Math.min(samples.length, i + per); j++) {
      const s = samples[j]!;
      const m = gyroMagnitude(s);
      if (m > best) {
        best = m;
        at = j;
      }
    }
    t_ms.push(samples[at]!.t);
    gyro_dps.push(Math.round(best * 10) / 10);
  }
  return { t_ms, gyro_dps };
}


export function sessionsPart(ingest: IngestOptions = {}): PartFactory {
  return async (core: Core): Promise<GatewayPart> => {
    const { store } = core;
    const writer = new IngestWriter(store, core.clock, core.log, ingest);
    const sessions = new SessionManager(core, writer, core.fleet?.sessions ?? null);
    await sessions.load();

    const withStrokes = async (sessionId: string) => {
      const s = await sessions.get(sessionId);
      if (!s) throw gatewayError('NOT_FOUND', `session ${sessionId} not found`);
      // Corrections laid over: a corrected stroke is listed with the coach's type.
      const strokes = s.state === 'complete' ? (await sessionStrokes(store, sessionId)).strokes : [];
      return { session: s, strokes };
    };

    const list = async (search?: string, state?: SessionState, limit = 100) => sessions.list({ search, state, limit });

    const corrections = correctionRequests(core, sessions);
    /** The session's boards: the ids given, or every board with the tag (sessions by tag). */
    const boardsOf = (f: { boards?: string[]; tag?: string }): string[] => {
      if ((f.boards === undefined) === (f.tag === undefined)) throw gatewayError('BAD_FRAME', 'give boards or tag (one of them)');
      if (f.boards) return f.boards;
      const ids = core.boards.withTag(f.tag!);
      if (ids.length === 0) throw gatewayError('BAD_FRAME', `no board carries the tag '${f.tag}'`);
      // The same bound as a list of boards: say so rather than record some of them.
      if (ids.length > 64) throw gatewayError('BAD_FRAME', `the tag '${f.tag}' is on ${ids.length} boards; a session takes at most 64 (give boards, or a narrower tag)`);
      return ids;
    };

    const F = SessionOperatorFrames;
    return {
      name: 'sessions',
      hooks: { sampleSink: sessions, sessionStatus: (userId, sessionId) => sessions.forPlayer(userId, sessionId) },
      requests: {
        create_session: defineRequest(F.create_session, {
          http: 'POST /sessions',
          status: 201,
          handle: async (f) => ({
            type: 'session',
            body: { session: await sessions.create({ boards: boardsOf(f), playerId: f.player_id, boardPlayers: f.board_players, court: f.court, roomId: f.room_id, notes: f.notes, sampleRateHz: f.sample_rate_hz }) },
          }),
        }),
        start_session: defineRequest(F.start_session, { http: 'POST /sessions/:session_id/start', handle: async (f) => answer('session', { session: await sessions.start(f.session_id) }) }),
        stop_session: defineRequest(F.stop_session, { http: 'POST /sessions/:session_id/stop', handle: async (f) => answer('session', { session: await sessions.stop(f.session_id) }) }),
        get_session: defineRequest(F.get_session, { http: 'GET /sessions/:session_id', handle: async (f) => answer('session', await withStrokes(f.session_id)) }),
        update_session: defineRequest(F.update_session, {
          http: 'PUT /sessions/:session_id',
          handle: async (f) => answer('session', { session: await sessions.describe(f.session_id, { playerId: f.player_id, boardPlayers: f.board_players, court: f.court, notes: f.notes }) }),
        }),
        delete_session: defineRequest(F.delete_session, {
          http: 'DELETE /sessions/:session_id',
          handle: async (f) => {
            await sessions.remove(f.session_id);
            return answer('session_deleted', { session_id: f.session_id });
          },
        }),
        list_sessions: defineRequest(F.list_sessions, { http: 'GET /sessions', handle: async (f) => answer('sessions', { sessions: await list(f.search, f.state, f.limit ?? 100) }) }),
        get_session_signal: defineRequest(F.get_session_signal, {
          http: 'GET /sessions/:session_id/signal',
          async handle(f) {
            const row = await store.getSession(f.session_id);
            if (!row) throw gatewayError('NOT_FOUND', `session ${f.session_id} not found`);
            const boards = [];
            for (const deviceId of row.boards) boards.push({ device_id: deviceId, ...downsampleGyro(await boardSamples(store, f.session_id, deviceId), f.points ?? 2000) });
            return answer('session_signal', { session_id: f.session_id, boards });
          },
        }),
        ...corrections.requests,
        ...playerRequests(core),
      },
      rawRoutes: [
        {
          http: 'GET /sessions/:session_id/export',
          async handle(h) {
            const id = h.params.session_id!;
            if (!(await store.getSession(id))) throw gatewayError('NOT_FOUND', `session ${id} not found`);
            h.res.writeHead(200, {
              'content-type': 'application/zip',
              'content-disposition': `attachment; filename="courtside-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.zip"`,
              'cache-control': 'no-store',
            });
            await exportSession(store, id, h.res).catch((err: unknown) => {
              if (err instanceof ExportError && !h.res.headersSent) throw gatewayError('NOT_FOUND', err.message);
              core.log.warn('export failed', { session_id: id, error: String(err) });
              h.res.destroy();
            });
          },
        },
      ],
      status: () => sessions.status(),
      async close() {
        await sessions.idle();
        await corrections.idle();
        await writer.close();
      },
    };
  };
}
