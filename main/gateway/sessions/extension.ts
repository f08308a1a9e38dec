/**
 * Sessions as a gateway part: the sample sink, the operator requests
 * (create/start/stop/get/list) and `/api/sessions` routes, the player's
 * session_status, and a clean shutdown that flushes the write queue.
 */
import { Type } from '@sinclair/typebox';
import { SessionOperatorFrames, SessionStates, compile, validate, type SessionState } from '../../../firmware-protocol/index.js';
import type { ExtensionFactory, GatewayExtension, OperatorRequest } from '../extensions.js';
import type { GatewayContext } from '../context.js';
import { IngestWriter, type IngestOptions } from './ingest.js';
import { SessionError, SessionManager } from './manager.js';
import { exportSession, ExportError } from './export.js';
import { boardSamples } from './analysis-run.js';
import type { ImuSample } from './analysis/types.js';

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
      const m = Math.hypot(s.gx, s.gy, s.gz);
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

const { type: _t, id: _i, ...createFields } = SessionOperatorFrames.create_session.properties;
const createBody = compile(Type.Object(createFields));

function strokeJson(s: { deviceId: string; idx: number; tMs: number; type: string; confidence: number; peakDps: number; speedKmh: number; peakG: number; saturated: boolean }) {
  return { device_id: s.deviceId, index: s.idx, t_ms: s.tMs, type: s.type, confidence: s.confidence, peak_dps: s.peakDps, speed_kmh: s.speedKmh, peak_g: s.peakG, saturated: s.saturated };
}

export function sessionsExtension(ingest: IngestOptions = {}): ExtensionFactory {
  return async (ctx: GatewayContext): Promise<GatewayExtension> => {
    const writer = new IngestWriter(ctx.store, ctx.clock, ctx.log, ingest);
    const sessions = new SessionManager(ctx, writer);
    await sessions.load();
    (ctx as { sampleSink: GatewayContext['sampleSink'] }).sampleSink = sessions;
    (ctx as { sessionStatus: GatewayContext['sessionStatus'] }).sessionStatus = (userId, sessionId) => sessions.forPlayer(userId, sessionId);

    const withStrokes = async (sessionId: string) => {
      const s = await sessions.get(sessionId);
      if (!s) return null;
      const strokes = s.state === 'complete' ? (await ctx.store.listStrokes(sessionId)).map(strokeJson) : [];
      return { session: s, strokes };
    };

    const list = async (search?: string, state?: SessionState, limit = 100) => {
      const rows = await ctx.store.listSessions({ search, state, limit });
      return Promise.all(rows.map(async (r) => (await sessions.get(r.sessionId))!));
    };

    const failFor = (err: unknown): { code: 'NOT_FOUND' | 'BAD_FRAME' | 'UNAVAILABLE'; message: string; status: number } => {
      if (err instanceof SessionError) return { code: err.code, message: err.message, status: err.code === 'NOT_FOUND' ? 404 : 409 };
      throw err;
    };

    return {
      name: 'sessions',
      frames: SessionOperatorFrames,
      async handle(frame: OperatorRequest, op) {
        try {
          switch (frame.type) {
            case 'create_session': {
              const f = frame as unknown as { boards: string[]; player_id?: string; court?: string; room_id?: string; notes?: string; sample_rate_hz?: number };
              const s = await sessions.create({ boards: f.boards, playerId: f.player_id, court: f.court, roomId: f.room_id, notes: f.notes, sampleRateHz: f.sample_rate_hz });
              return op.reply('session', { session: s });
            }
            case 'start_session':
              return op.reply('session', { session: await sessions.start(String(frame.session_id)) });
            case 'stop_session':
              return op.reply('session', { session: await sessions.stop(String(frame.session_id)) });
            case 'get_session': {
              const r = await withStrokes(String(frame.session_id));
              if (!r) return op.error('NOT_FOUND', `session ${String(frame.session_id)} not found`);
              return op.reply('session', r);
            }
            case 'list_sessions':
              return op.reply('sessions', { sessions: await list(frame.search as string | undefined, frame.state as SessionState | undefined, (frame.limit as number | undefined) ?? 100) });
          }
        } catch (err) {
          const f = failFor(err);
          op.error(f.code, f.message);
        }
      },
      async http(h) {
        const [root, id, action] = h.segments;
        if (root !== 'sessions') return false;
        try {
          if (h.method === 'GET' && id === undefined) {
            const state = h.url.searchParams.get('state') ?? undefined;
            if (state !== undefined && !(SessionStates as readonly string[]).includes(state)) {
              h.fail(400, 'BAD_REQUEST', `state must be one of ${SessionStates.join(', ')}`);
              return true;
            }
            const limit = Math.min(500, Math.max(1, Number(h.url.searchParams.get('limit') ?? 100) || 100));
            h.json(200, { sessions: await list(h.url.searchParams.get('search') ?? undefined, state as SessionState | undefined, limit) });
            return true;
          }
          if (h.method === 'POST' && id === undefined) {
            const body = await h.readJson();
            if (!body.ok) return (h.fail(400, 'BAD_REQUEST', body.message), true);
            const v = validate(createBody, body.value);
            if (!v.ok) return (h.fail(400, 'BAD_REQUEST', v.error), true);
            const b = v.value;
            h.json(201, { session: await sessions.create({ boards: b.boards, playerId: b.player_id, court: b.court, roomId: b.room_id, notes: b.notes, sampleRateHz: b.sample_rate_hz }) });
            return true;
          }
          if (id === undefined) return false;
          if (h.method === 'GET' && action === undefined) {
            const r = await withStrokes(id);
            if (!r) h.fail(404, 'NOT_FOUND', `session ${id} not found`);
            else h.json(200, r);
            return true;
          }
          if (h.method === 'POST' && (action === 'start' || action === 'stop')) {
            h.json(200, { session: action === 'start' ? await sessions.start(id) : await sessions.stop(id) });
            return true;
          }
          if (h.method === 'GET' && action === 'signal') {
            const points = Math.min(20_000, Math.max(10, Number(h.url.searchParams.get('points') ?? 2000) || 2000));
            const row = await ctx.store.getSession(id);
            if (!row) return (h.fail(404, 'NOT_FOUND', `session ${id} not found`), true);
            const boards = [];
            for (const deviceId of row.boards) boards.push({ device_id: deviceId, ...downsampleGyro(await boardSamples(ctx.store, id, deviceId), points) });
            h.json(200, { session_id: id, boards });
            return true;
          }
          if (h.method === 'GET' && action === 'export') {
            if (!(await ctx.store.getSession(id))) return (h.fail(404, 'NOT_FOUND', `session ${id} not found`), true);
            h.res.writeHead(200, {
              'content-type': 'application/zip',
              'content-disposition': `attachment; filename="courtside-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.zip"`,
              'cache-control': 'no-store',
            });
            await exportSession(ctx.store, id, h.res).catch((err: unknown) => {
              ctx.log.warn('export failed', { session_id: id, error: String(err) });
              h.res.destroy();
            });
            return true;
          }
          return false;
        } catch (err) {
          if (err instanceof ExportError) return (h.fail(404, 'NOT_FOUND', err.message), true);
          const f = failFor(err);
          h.fail(f.status, f.code, f.message);
          return true;
        }
      },
      status: () => sessions.status(),
      async close() {
        await sessions.idle();
        await writer.close();
        (ctx as { sampleSink: GatewayContext['sampleSink'] }).sampleSink = null;
      },
    };
  };
}
