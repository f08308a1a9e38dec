/**
 * `POST /api/esp32/{device_code}/data`: sample upload over HTTP for boards not yet moved to
 * WebSocket. The body is a `batch_sensor_data` frame (its `type` may be left out); the board's
 * own token admits it (as on its socket, so open mode admits any), and the answer is the
 * `data_ack` the socket would get, sent only once the batch is durable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BatchSensorDataFrame, checkOne, compile, isObject, reservedIdError } from '../../firmware-protocol/index.js';
import { presentedToken } from './auth.js';
import type { Core } from './core.js';
import { readBody, sendError, sendJson } from './dispatch.js';
import { gatewayError } from './errors.js';
import type { SampleSink } from './samples.js';

const batchCheck = compile(BatchSensorDataFrame);
export const UPLOAD_PATH = /^\/api\/esp32\/([A-Za-z0-9_.:@-]{1,128})\/data\/?$/;

export async function handleBoardUpload(core: Core, sink: SampleSink | null, req: IncomingMessage, res: ServerResponse, url: URL, deviceId: string): Promise<void> {
  if (req.method !== 'POST') return sendError(res, gatewayError('METHOD_NOT_ALLOWED', req.method ?? '?', url.pathname));
  // As on the board endpoint: a page in a browser does not get to act as a board.
  const origin = req.headers.origin;
  if (origin !== undefined && !core.options.allowedOrigins.includes(origin)) return sendError(res, gatewayError('FORBIDDEN_ORIGIN', origin));
  const reserved = reservedIdError('device code', deviceId);
  if (reserved !== null) return sendError(res, gatewayError('BAD_REQUEST', reserved));
  if (!(await core.tokens.check(deviceId, presentedToken(req, url), deviceId))) {
    return sendError(res, gatewayError('UNAUTHORIZED', `device token missing or invalid for '${deviceId}'`));
  }
  // A batch at most as large as a frame may be on the socket.
  const text = (await readBody(req, core.options.maxPayloadBytes)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return sendError(res, gatewayError('INVALID_JSON'));
  }
  if (!isObject(value)) return sendError(res, gatewayError('NOT_AN_OBJECT'));
  const r = checkOne(batchCheck, { type: 'batch_sensor_data', ...value });
  if (!r.ok) return sendError(res, gatewayError('BAD_FRAME', r.error.message));
  const f = r.frame;
  core.boards.seen(deviceId);
  core.metrics.sensorFrames++;
  core.metrics.sensorSamples += f.samples.length;
  const result = sink ? sink.accept({ deviceId, sessionId: f.session_id || null, seq: f.seq, startMs: f.start_ms, rateHz: f.rate_hz, samples: f.samples }) : { kind: 'live' as const, sessionId: null };
  if (result.kind === 'error') return sendError(res, gatewayError(result.code, result.message));
  core.operators.pushSensor({ device_id: deviceId, seq: f.seq, session_id: result.sessionId, start_ms: f.start_ms, rate_hz: f.rate_hz, samples: f.samples });
  if (result.kind === 'live') {
    return sendJson(res, 200, { type: 'data_ack', seq: f.seq, session_id: result.sessionId, stored: false, ...(result.reason ? { reason: result.reason } : {}) });
  }
  try {
    await result.durable;
  } catch (err) {
    core.log.warn('sample batch not stored', { device_id: deviceId, seq: f.seq, error: String(err) });
    // Not acked: the board keeps the batch and posts it again.
    return sendError(res, gatewayError('UNAVAILABLE', 'the batch could not be stored; send it again'));
  }
  sendJson(res, 200, { type: 'data_ack', seq: f.seq, session_id: result.sessionId, stored: true });
}
