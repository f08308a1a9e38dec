/**
 * Endpoint `/ws/esp32/{device_code}/`: the badminton protocol's boards (the Django Channels app Courtside replaces). The device code is
 * the board's id; auth (in token mode) was checked at the upgrade.
 */
import { BoardFrames, FrameParser, SampleObject, binaryFrameValues, compile, decodeBinaryBatch, errorFrame, isObject, parseJson, reservedIdError, type FrameOf, type Parsed } from '../../../firmware-protocol/index.js';
import { NotStored, type IncomingBatch, type SinkResult } from '../samples.js';
import type { Base } from '../base.js';
import type { BoardConn, BoardHub } from '../boards.js';
import type { CommandQueue } from '../commands.js';
import { LiveBatch, type OperatorHub } from '../operators.js';
import type { SampleSink } from '../samples.js';
import type { Peer } from '../peer.js';
import type { RecentSamples } from '../recent-samples.js';
import { FrameIntake, type Intake } from './frames.js';
import { AckRounds, CumulativeAcks } from './acks.js';
import type { Socket } from 'node:net';
import { sampleValues } from '../sessions/ingest.js';
import { batchTail } from '../sample-text.js';

/** What the board endpoint uses; `sampleSink` null: samples are live-only. */
export type BoardEndpointDeps = Intake &
  Pick<Base, 'clock'> & { readonly boards: BoardHub; readonly commands: CommandQueue; readonly operators: OperatorHub; readonly sampleSink: SampleSink | null; readonly recent?: RecentSamples };

const parser = new FrameParser(BoardFrames);

type BoardFrame = FrameOf<typeof BoardFrames>;

/**
 * The frames a board sends many times a second, checked in one pass: the
 * compiled schema alone, when the frame has no field the schema does not name
 * (objects in them: `data` of sensor_data). Such a frame is bounded by its
 * schema (depth, count of values), so the generic walk for hostile shapes
 * before the schema (validate.ts) could not refuse it; any other frame, and
 * any that fails here, takes the full path, with the same JSON already parsed.
 */
const HOT = new Map(
  (['batch_sensor_data', 'sensor_data', 'heartbeat'] as const).map((t) => {
    const schema = BoardFrames[t];
    return [t, { check: compile(schema), keys: new Set(Object.keys(schema.properties)) }] as const;
  }),
);
const SAMPLE_KEYS = new Set(Object.keys(SampleObject.properties));

function onlyKeys(v: object, keys: ReadonlySet<string>): boolean {
  for (const k in v) if (!keys.has(k)) return false;
  return true;
}

/** Whether the frame parseBoardFrame last passed took the one-pass check (then its text holds no key but its schema's). */
let lastHot = false;

function parseBoardFrame(text: string): Parsed<BoardFrame> {
  lastHot = false;
  const j = parseJson(text);
  if (!j.ok) return { ok: false, error: errorFrame('INVALID_JSON') };
  const v = j.value;
  if (isObject(v) && typeof v.type === 'string') {
    const hot = HOT.get(v.type as 'heartbeat');
    if (hot && onlyKeys(v, hot.keys) && (v.type !== 'sensor_data' || (isObject(v.data) && onlyKeys(v.data, SAMPLE_KEYS))) && hot.check.Check(v)) {
      lastHot = true;
      return { ok: true, frame: v as BoardFrame };
    }
  }
  return parser.check(v);
}

const corked = new WeakSet<Socket>();
/**
 * What is sent to the peer until this turn's promise callbacks have run goes out in one write:
 * a commit acks up to a window of a board's frames at once, and a write each was a syscall each.
 */
function writeTogether(peer: Peer): void {
  const s = (peer.ws as unknown as { _socket?: Socket })._socket;
  if (!s || corked.has(s)) return;
  corked.add(s);
  s.cork();
  process.nextTick(() => {
    corked.delete(s);
    s.uncork();
  });
}

/** Board sockets whose live acks wait for the end of this turn of the loop (ackAfterFanOut). */
let turnCorked: Socket[] = [];
const turnCorkedSet = new WeakSet<Socket>();

function uncorkTurn(): void {
  const list = turnCorked;
  turnCorked = [];
  for (const s of list) {
    turnCorkedSet.delete(s);
    s.uncork();
  }
}

/**
 * A live frame's `data_ack` leaves after this turn's operator fan-out, not before it: frames
 * read in one turn each wrote their ack first, so the operators' frame waited for all those
 * writes. Held until the check phase, after the fan-out's own immediate (queued earlier, when
 * the frame's batch went to the operators); the same writes, in another order.
 */
function ackAfterFanOut(peer: Peer): void {
  const s = (peer.ws as unknown as { _socket?: Socket })._socket;
  if (!s || turnCorkedSet.has(s)) return;
  turnCorkedSet.add(s);
  s.cork();
  if (turnCorked.push(s) === 1) setImmediate(uncorkTurn);
}

/** One ack round timer per gateway (its board endpoint's deps), shared by all its boards on cumulative acks. */
const ackRounds = new WeakMap<BoardEndpointDeps, AckRounds>();

function roundsOf(ctx: BoardEndpointDeps): AckRounds {
  let r = ackRounds.get(ctx);
  if (r === undefined) ackRounds.set(ctx, (r = new AckRounds(ctx.clock, ctx.options.cumulativeAckMs)));
  return r;
}

/** `cumulative`: the board asked for `data_acks` (`?ack=cumulative`) instead of a `data_ack` per frame. */
export function attachBoard(ctx: BoardEndpointDeps, peer: Peer, deviceId: string, cumulative = false): void {
  const reserved = reservedIdError('device code', deviceId);
  if (reserved !== null) {
    // A player's id (and its token, minted for user:<id>) never acts as a board. The route
    // should refuse such a path before the upgrade; this holds even if it does not.
    peer.error('UNAUTHORIZED', reserved);
    return peer.close(4401, 'reserved device code');
  }
  const link = new BoardLink(ctx, peer, deviceId, cumulative ? new CumulativeAcks(peer, roundsOf(ctx)) : null);
  peer.send(link.acks ? { type: 'connection_established', device_code: deviceId, server_time: ctx.clock.now(), ack: 'cumulative' } : { type: 'connection_established', device_code: deviceId, server_time: ctx.clock.now() });
  ctx.log.info('board connected', { device_id: deviceId, ip: peer.ip });
  ctx.commands.onBoardConnected(deviceId).catch((err: unknown) => {
    ctx.metrics.storeErrors++;
    ctx.log.warn('could not load queued commands', { device_id: deviceId, error: String(err) });
  });
  link.listen();
  peer.owner = link;
}

/**
 * One board's socket. A class, not closures per socket: with thousands of
 * idle boards connected, what each one keeps is memory per board.
 */
class BoardLink extends FrameIntake implements BoardConn {
  private paused = false;
  /** Set by the hub (BoardConn): this link is the board's connection there too. */
  connectionId: Promise<number | null> | number | null = null;
  declare protected readonly ctx: BoardEndpointDeps;

  constructor(
    ctx: BoardEndpointDeps,
    peer: Peer,
    readonly deviceId: string,
    readonly acks: CumulativeAcks | null,
  ) {
    // Its own frame intake too: one object per board socket.
    super(ctx, peer);
    ctx.boards.connect(this);
  }

  text(text: string): unknown {
    const { ctx, peer, deviceId } = this;
    ctx.boards.seen(deviceId);
    const p = parseBoardFrame(text);
    if (!p.ok) {
      ctx.boards.noteError(deviceId, p.error.code, p.error.message);
      return peer.refuse(p.error, text);
    }
    const f = p.frame;
    switch (f.type) {
      case 'heartbeat':
        ctx.boards.heartbeat(deviceId, f.battery, f.rssi);
        // The one frame every idle board costs: a template, not an object and JSON.stringify.
        return peer.sendText(`{"type":"heartbeat_ack","server_time":${ctx.clock.now()}}`);
      case 'status_update': {
        // A word with flat fields beside it is kept as sent, the whole frame but its type.
        const { type: _type, ...flat } = f as Record<string, unknown>;
        const status = typeof f.status === 'string' ? flat : f.status;
        return ctx.boards.setStatus(deviceId, status).then(() => peer.send({ type: 'status_ack' }));
      }
      case 'poll_commands':
        return ctx.commands.poll(deviceId).then((commands) => peer.send({ type: 'commands', commands }));
      case 'command_ack': {
        ctx.boards.commandAcked(deviceId, f.command_id, f.ok !== false, f.result);
        const ack = () => ctx.commands.ack(deviceId, f.command_id, f.ok !== false, f.result).then(() => undefined);
        const marked = ctx.sampleSink?.commandAcked?.(deviceId, f.command_id, f.ok !== false);
        return marked instanceof Promise ? marked.then(ack, ack) : ack();
      }
      case 'ota_progress':
        return ctx.boards.otaProgress(deviceId, f);
      case 'sensor_data': {
        const d = f.data;
        return this.batch({ deviceId, sessionId: f.session_id || null, seq: f.seq ?? null, startMs: f.timestamp, rateHz: 0, samples: [[d.ax, d.ay, d.az, d.gx, d.gy, d.gz]] });
      }
      case 'batch_sensor_data': {
        // Operators get the numbers as the board wrote them (sample-text.ts), when the frame's text is known to be plain.
        const json = lastHot && ctx.operators.wantsSensor() ? (batchTail(text) ?? undefined) : undefined;
        return this.batch({ deviceId, sessionId: f.session_id || null, seq: f.seq, startMs: f.start_ms, rateHz: f.rate_hz, samples: f.samples }, json);
      }
      case 'upload_complete': {
        ctx.operators.publish('devices', { event: 'upload_complete', device_id: deviceId, session_id: f.session_id ?? null, last_seq: f.last_seq });
        const sink = ctx.sampleSink;
        if (!sink) return peer.send({ type: 'upload_ack', session_id: f.session_id ?? null, last_seq: f.last_seq, missing: [] });
        return sink.uploadComplete(deviceId, f.session_id || null, f.last_seq).then((r) => {
          peer.send({ type: 'upload_ack', session_id: r.sessionId, last_seq: f.last_seq, missing: r.missing });
        });
      }
    }
  }

  binary(buf: Buffer): void | Promise<void> {
    this.ctx.boards.seen(this.deviceId);
    const d = decodeBinaryBatch(buf);
    if (!d.ok) {
      this.ctx.boards.noteError(this.deviceId, 'BAD_BINARY', d.error);
      return this.peer.error('BAD_BINARY', d.error);
    }
    const b = d.batch;
    return this.batch({ deviceId: this.deviceId, sessionId: null, seq: b.seq, startMs: b.startMs, rateHz: b.rateHz, samples: b.samples, values: binaryFrameValues(buf, sampleValues(b.samples.length)) });
  }

  /**
   * Every sample frame: fanned out live at once, stored if it belongs to a
   * recording session, and acked only when durable. While the write queue is
   * over its mark the socket stops being read, so TCP slows the board down
   * instead of the gateway buffering without bound.
   */
  private batch(b: IncomingBatch, tailJson?: string): void | Promise<void> {
    const { ctx, peer, acks } = this;
    ctx.metrics.sensorFrames++;
    ctx.metrics.sensorSamples += b.samples.length;
    const sink = ctx.sampleSink;
    const r: SinkResult = sink ? sink.accept(b) : { kind: 'live', sessionId: null };
    if (r.kind === 'error') {
      ctx.boards.noteError(this.deviceId, r.code, r.message);
      return peer.error(r.code, r.message);
    }
    ctx.operators.pushSensor(new LiveBatch(this.deviceId, b.seq, r.sessionId, b.startMs, b.rateHz, b.samples), tailJson);
    ctx.recent?.add(this.deviceId, b.startMs, b.rateHz, b.samples);
    if (r.kind === 'live') {
      if (acks && !r.reason && b.seq !== null) return acks.add(b.seq, r.sessionId, false);
      if (r.reason) return peer.send({ type: 'data_ack', seq: b.seq, session_id: r.sessionId, stored: false, reason: r.reason });
      // The hot path of live streaming: a template, not JSON.stringify, for the one frame a sample costs.
      if (ctx.operators.wantsSensor()) ackAfterFanOut(peer);
      return peer.sendText(r.sessionId === null ? `{"type":"data_ack","seq":${b.seq === null ? 'null' : b.seq},"session_id":null,"stored":false}` : JSON.stringify({ type: 'data_ack', seq: b.seq, session_id: r.sessionId, stored: false }));
    }
    this.ackWhenDurable(r, b.seq, r.sessionId);
    if (sink!.pressured && !this.paused) {
      this.paused = true;
      // Through the peer: what the board sends while it is not read is our backlog, not its burst.
      peer.pause('writer');
      sink!.onRelief(() => {
        this.paused = false;
        peer.resume('writer');
      });
    }
  }

  /** Only what the ack names waits for the write, not the frame's samples. */
  private ackWhenDurable(r: Extract<SinkResult, { kind: 'stored' }>, seq: number | null, sessionId: string): void {
    const { ctx, peer, acks } = this;
    const ok = (): void => {
      if (acks && seq !== null) return acks.add(seq, sessionId, true);
      writeTogether(peer);
      // A template, as for live frames: the one frame every stored frame costs.
      peer.sendText(`{"type":"data_ack","seq":${seq === null ? 'null' : seq},"session_id":${JSON.stringify(sessionId)},"stored":true}`);
    };
    const fail = (err: unknown): void => {
      // Refused for a reason the board should hear (per frame, also on cumulative acks: it carries the reason).
      if (err instanceof NotStored) return peer.send({ type: 'data_ack', seq, session_id: sessionId, stored: false, reason: err.message });
      // Not acked: the board keeps the batch and sends it again after reconnecting.
      ctx.log.warn('sample batch not stored', { device_id: this.deviceId, seq, error: String(err) });
    };
    // Without a promise when the sink offers that (StoredFrame).
    if (r.onDurable) r.onDurable(ok, fail);
    else r.durable.then(ok, fail);
  }

  /** The socket closed (the gateway's one close handler calls this). */
  closed(): void {
    this.acks?.stop();
    this.ctx.boards.disconnect(this);
    this.ctx.log.info('board disconnected', { device_id: this.deviceId });
  }
}
