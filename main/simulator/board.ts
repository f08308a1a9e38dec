/**
 * A virtual ESP32 racket board that speaks the gateway's board protocol
 * (`/ws/esp32/{device_code}/`). Used by the demo, the tests and the load
 * generator, so it behaves like the firmware where that matters to the
 * gateway: it keeps every data frame until the gateway acks its seq and sends
 * the unacked ones again (in seq order) after a reconnect, it acks every
 * command (duplicates too) but runs each command_id once, and it keeps
 * sampling while offline.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { createImuSource } from './swing.js';
import { encodeBinaryBatch } from '../../firmware-protocol/sessions.js';
import { batchSensorDataFrame, boardEndpoint, hashSeed, prng, sampleRow, sensorDataFrame, type ImuSourceLike, type SampleRow } from './frames.js';

export * from './frames.js';

export type StreamMode = 'sample' | 'batch' | 'binary';

/** Full scale of the simulated IMU (±16 g, ±2000 dps) over int16, as an MPU-6050/ICM-42688 reports it. */
const ACCEL_SCALE = 16 / 32768;
const GYRO_SCALE = 2000 / 32768;

export interface BoardTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface VirtualBoardOptions {
  /** Gateway base URL such as `ws://127.0.0.1:8765`; the board appends `/ws/esp32/{deviceCode}/`. Required. */
  url: string;
  /** The board's device code. Default `racket-1`. */
  deviceCode?: string;
  /** Per-device token sent as `?token=`. Default none (lab mode). */
  token?: string;
  /** Heartbeat period while connected. Default 10000 ms. */
  heartbeatIntervalMs?: number;
  /** status_update period while connected (one is also sent on every connect). Default 30000 ms. */
  statusIntervalMs?: number;
  /** poll_commands period while connected (one is also sent on every connect); 0 polls only on connect. Default 0. */
  pollIntervalMs?: number;
  /** IMU sample rate. Default 100 Hz. */
  rateHz?: number;
  /** `sample`: one sensor_data per sample; `batch`: one batch_sensor_data every `batchMs`; `binary`: the binary frame every `batchMs`. Default `batch`. */
  mode?: StreamMode;
  /** Batch period in batch mode. Default 100 ms. */
  batchMs?: number;
  /** Stream from start() on instead of only between start_collection and stop_collection. Default false. */
  streamAlways?: boolean;
  /** Reconnect after the socket closes. Default true. */
  reconnect?: boolean;
  /** First reconnect delay; doubles per failed attempt, with jitter. Default 250 ms. */
  reconnectMinMs?: number;
  /** Reconnect delay ceiling. Default 5000 ms. */
  reconnectMaxMs?: number;
  /** Most unacked data frames kept; the oldest are dropped past it, as a board with full RAM would. Default 6000. */
  maxUnacked?: number;
  /** Seed for the swing generator and the jitter. Default derived from deviceCode. */
  seed?: number;
  /** Swings per minute of the default IMU source. Default 20. */
  strokesPerMinute?: number;
  /** Reported firmware version. Default `1.2.0`. */
  firmware?: string;
  /** Replaces the swing generator (tests use fixed values). Default createImuSource(). */
  imuSource?: ImuSourceLike;
  /** Wall clock in ms since the epoch; sample timestamps come from it. Default Date.now. */
  now?: () => number;
  /** Timer functions, injectable so tests can drive time. Default the globals. */
  timers?: BoardTimers;
}

export interface BoardStats {
  /** Data frames produced (sensor_data or batch_sensor_data), each with its own seq. */
  dataFrames: number;
  /** Data frames written to a socket, resends included. */
  framesSent: number;
  /** Data frames sent again after a reconnect. */
  resent: number;
  /** Distinct seqs the gateway acked. */
  acked: number;
  samples: number;
  /** Gateway error frames and socket errors. */
  errors: number;
  reconnects: number;
  /** Unacked frames dropped because maxUnacked was reached. */
  dropped: number;
}

export type AckType = 'data_ack' | 'heartbeat_ack' | 'status_ack' | 'upload_ack';

export interface BoardEvents {
  connected: [info: { deviceCode: string; serverTime: number; reconnect: boolean }];
  disconnected: [info: { code: number; reason: string }];
  command: [cmd: { commandId: string; command: string; params: Record<string, unknown>; duplicate: boolean; ok: boolean }];
  ack: [ack: { type: AckType; seq?: number }];
  error: [err: Error];
  /** Every JSON frame from the gateway, before it is handled. */
  frame: [msg: Record<string, unknown>];
}

/** A gateway `{"type":"error"}` frame. */
export class GatewayError extends Error {
  constructor(readonly code: string, message: string) { super(message); this.name = 'GatewayError'; }
}

const defaultTimers: BoardTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

interface Outcome { ok: boolean; result: Record<string, unknown> }

const DEFAULTS = {
  deviceCode: 'racket-1', heartbeatIntervalMs: 10_000, statusIntervalMs: 30_000, pollIntervalMs: 0, rateHz: 100,
  mode: 'batch' as StreamMode, batchMs: 100, streamAlways: false, reconnect: true, reconnectMinMs: 250,
  reconnectMaxMs: 5000, maxUnacked: 6000, strokesPerMinute: 20, firmware: '1.2.0',
};

export class VirtualBoard extends EventEmitter<BoardEvents> {
  readonly deviceCode: string;
  readonly endpoint: string;
  readonly stats: BoardStats = { dataFrames: 0, framesSent: 0, resent: 0, acked: 0, samples: 0, errors: 0, reconnects: 0, dropped: 0 };

  private readonly o: Required<Omit<VirtualBoardOptions, 'token' | 'imuSource' | 'seed'>>;
  private imu: ImuSourceLike;
  private readonly seed: number;
  private readonly ownImu: boolean;
  private readonly rand: () => number;
  private readonly bornAt: number;
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = true;
  private everConnected = false;
  private attempt = 0;
  /** Last seq per session ('' outside a session): seqs start at 0 in every session. */
  private readonly seqs = new Map<string, number>();
  /** `${session}#${seq}` -> frame and whether it ever left the board (to tell resends from first sends). */
  private readonly unacked = new Map<string, { data: string | Uint8Array; sent: boolean }>();
  /** upload_complete frames not yet answered by upload_ack, by session: sent again after a reconnect. */
  private readonly pendingUploads = new Map<string, string>();
  private readonly executed = new Map<string, Outcome>();
  private collecting = false;
  private sessionId: string | null = null;
  private rateHz: number;
  private streamStart = 0;
  private produced = 0;
  private batch: SampleRow[] = [];
  private batchStartMs = 0;
  private streamTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private statusTimer: unknown = null;
  private pollTimer: unknown = null;
  private reconnectTimer: unknown = null;
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(options: VirtualBoardOptions) {
    super();
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = { ...DEFAULTS, now: Date.now, timers: defaultTimers, ...given } as VirtualBoard['o'];
    const deviceCode = this.o.deviceCode;
    if (!(this.o.rateHz > 0)) throw new RangeError('rateHz must be positive');
    this.deviceCode = deviceCode;
    this.endpoint = boardEndpoint(options.url, deviceCode, options.token);
    this.seed = options.seed ?? hashSeed(deviceCode);
    this.rand = prng(this.seed ^ 0x9e3779b9);
    this.rateHz = this.o.rateHz;
    this.ownImu = options.imuSource === undefined;
    this.imu = options.imuSource ?? this.swings();
    this.bornAt = this.o.now();
  }

  private swings(): ImuSourceLike {
    return createImuSource({ rateHz: this.rateHz, seed: this.seed, strokesPerMinute: this.o.strokesPerMinute });
  }

  get connected(): boolean { return this.ready; }
  get unackedCount(): number { return this.unacked.size; }
  get lastSeq(): number { return this.seqs.get(this.sessionId ?? '') ?? -1; }
  get isStreaming(): boolean { return this.streamTimer !== null; }

  /** Connects (and keeps reconnecting); resolves on the first connection_established. */
  start(): Promise<void> {
    if (!this.stopped) return Promise.resolve();
    this.stopped = false;
    const p = new Promise<void>((resolve, reject) => { this.firstConnect = { resolve, reject }; });
    p.catch(() => {}); // callers that never await start() must not see an unhandled rejection
    if (this.o.streamAlways) this.startStream();
    this.connect();
    return p;
  }

  /** Closes for good: no reconnect, no more sampling. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.firstConnect?.reject(new Error(`${this.deviceCode} stopped before it connected`));
    this.firstConnect = null;
    this.stopStream();
    this.clearSessionTimers();
    if (this.reconnectTimer !== null) this.o.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
      ws.once('close', () => { clearTimeout(t); resolve(); });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'board stopped');
    });
  }

  /** Drops the link from the board's side, as a Wi-Fi loss would; the board reconnects. */
  simulateDrop(): void { this.ws?.terminate(); }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.endpoint, { handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws || isBinary) return;
      this.onFrame(data.toString());
    });
    ws.on('error', (err) => this.fail(err));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasReady = this.ready;
      this.ready = false;
      this.clearSessionTimers();
      if (wasReady) this.emit('disconnected', { code, reason: reason.toString() });
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || !this.o.reconnect) return;
    const ceiling = Math.min(this.o.reconnectMaxMs, this.o.reconnectMinMs * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    // Full-range jitter would let a whole fleet reconnect in one burst after a gateway restart.
    const delay = Math.round(ceiling * (0.5 + this.rand() * 0.5));
    this.reconnectTimer = this.o.timers.setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay);
  }

  private fail(err: Error): void {
    this.stats.errors++;
    // An EventEmitter 'error' with no listener throws; a simulator in a CLI must not die of a refused connection.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private send(msg: Record<string, unknown>): void { this.sendRaw(JSON.stringify(msg)); }

  private sendRaw(data: string | Uint8Array): boolean {
    // Nothing before connection_established: the gateway may not have registered the board yet.
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data);
    return true;
  }

  private onFrame(text: string): void {
    let msg: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      msg = v as Record<string, unknown>;
    } catch {
      this.fail(new Error(`${this.deviceCode}: gateway sent a non-JSON frame`));
      return;
    }
    this.emit('frame', msg);
    switch (msg.type) {
      case 'connection_established': return this.onEstablished(Number(msg.server_time));
      case 'data_ack': {
        // stored:false (no recording session, or a closed one) is final too: drop the frame.
        const seq = Number(msg.seq);
        if (this.unacked.delete(unackedKey(msg.session_id, seq))) this.stats.acked++;
        this.emit('ack', { type: 'data_ack', seq });
        return;
      }
      case 'upload_ack':
        this.pendingUploads.delete(typeof msg.session_id === 'string' ? msg.session_id : '');
        return void this.emit('ack', { type: 'upload_ack', seq: Number(msg.last_seq) });
      case 'resend': {
        // Gaps found at upload_complete: send those frames again if still held.
        if (Array.isArray(msg.seqs)) for (const seq of msg.seqs) this.resendOne(unackedKey(msg.session_id, Number(seq)));
        return;
      }
      case 'heartbeat_ack':
      case 'status_ack': return void this.emit('ack', { type: msg.type });
      case 'command': return this.onCommand(msg);
      case 'commands':
        if (Array.isArray(msg.commands)) for (const c of msg.commands) if (c && typeof c === 'object') this.onCommand(c as Record<string, unknown>);
        return;
      case 'error':
        return this.fail(new GatewayError(String(msg.code ?? 'error'), String(msg.message ?? '')));
      default:
        return;
    }
  }

  private onEstablished(serverTime: number): void {
    const reconnect = this.everConnected;
    if (reconnect) this.stats.reconnects++;
    this.everConnected = true;
    this.ready = true;
    this.attempt = 0;
    this.sendStatus();
    this.send({ type: 'poll_commands' });
    this.resendUnacked();
    const t = this.o.timers;
    this.heartbeatTimer = t.setInterval(() => this.send({ type: 'heartbeat', battery: this.battery(), rssi: this.rssi() }), this.o.heartbeatIntervalMs);
    this.statusTimer = t.setInterval(() => this.sendStatus(), this.o.statusIntervalMs);
    if (this.o.pollIntervalMs > 0) this.pollTimer = t.setInterval(() => this.send({ type: 'poll_commands' }), this.o.pollIntervalMs);
    this.emit('connected', { deviceCode: this.deviceCode, serverTime, reconnect });
    this.firstConnect?.resolve();
    this.firstConnect = null;
  }

  /** In the order produced (Map order), which is seq order within each session. */
  private resendUnacked(): void {
    for (const key of [...this.unacked.keys()]) if (!this.resendOne(key)) return;
    for (const text of this.pendingUploads.values()) this.sendRaw(text);
  }

  private resendOne(key: string): boolean {
    const entry = this.unacked.get(key);
    if (!entry) return true;
    if (!this.sendRaw(entry.data)) return false;
    this.stats.framesSent++;
    if (entry.sent) this.stats.resent++;
    entry.sent = true;
    return true;
  }

  private nextSeq(): number {
    const key = this.sessionId ?? '';
    const seq = (this.seqs.get(key) ?? -1) + 1;
    this.seqs.set(key, seq);
    return seq;
  }

  private clearSessionTimers(): void {
    const t = this.o.timers;
    for (const h of [this.heartbeatTimer, this.statusTimer, this.pollTimer]) if (h !== null) t.clearInterval(h);
    this.heartbeatTimer = this.statusTimer = this.pollTimer = null;
  }

  private battery(): number {
    // About one percent per three minutes of uptime: enough for a UI to show movement.
    return Math.max(5, 100 - Math.floor((this.o.now() - this.bornAt) / 180_000));
  }

  private rssi(): number { return -48 - Math.floor(this.rand() * 12); }

  statusObject(): Record<string, unknown> {
    return {
      battery: this.battery(),
      rssi: this.rssi(),
      firmware: this.o.firmware,
      state: this.isStreaming ? 'recording' : 'idle',
      session_id: this.sessionId,
    };
  }

  private sendStatus(): void { this.send({ type: 'status_update', status: this.statusObject() }); }

  private onCommand(c: Record<string, unknown>): void {
    const commandId = typeof c.command_id === 'string' ? c.command_id : '';
    const command = typeof c.command === 'string' ? c.command : '';
    const params = c.params && typeof c.params === 'object' ? (c.params as Record<string, unknown>) : {};
    const prior = commandId ? this.executed.get(commandId) : undefined;
    const outcome = prior ?? this.execute(command, params);
    if (!prior && commandId) {
      this.executed.set(commandId, outcome);
      // Bounded like the firmware's ring of recent ids; a resend arrives within seconds, not thousands of commands later.
      if (this.executed.size > 256) this.executed.delete(this.executed.keys().next().value as string);
    }
    this.send({ type: 'command_ack', command_id: commandId, ok: outcome.ok, result: outcome.result });
    this.emit('command', { commandId, command, params, duplicate: prior !== undefined, ok: outcome.ok });
  }

  private execute(command: string, params: Record<string, unknown>): Outcome {
    switch (command) {
      case 'start_collection': {
        if (this.streamTimer !== null) { this.tick(); this.flushBatch(); } // earlier samples keep their session
        if (typeof params.session_id === 'string' && params.session_id !== this.sessionId) {
          this.sessionId = params.session_id;
          this.seqs.delete(this.sessionId);
        }
        const rate = Number(params.rate_hz);
        if (rate > 0 && rate <= 2000 && rate !== this.rateHz) {
          this.stopStream();
          this.rateHz = rate;
          if (this.ownImu) this.imu = this.swings(); // the swing shapes are sampled at the rate they were made for
        }
        this.collecting = true;
        this.startStream();
        return { ok: true, result: { state: 'recording', session_id: this.sessionId, rate_hz: this.rateHz } };
      }
      case 'stop_collection': {
        const sessionId = this.sessionId;
        if (this.collecting) {
          this.collecting = false;
          if (this.o.streamAlways) this.flushBatch();
          else this.stopStream();
          const lastSeq = this.lastSeq;
          const text = JSON.stringify(sessionId === null ? { type: 'upload_complete', last_seq: lastSeq } : { type: 'upload_complete', session_id: sessionId, last_seq: lastSeq });
          this.pendingUploads.set(sessionId ?? '', text);
          this.sendRaw(text);
          this.sessionId = null;
          return { ok: true, result: { state: this.isStreaming ? 'recording' : 'idle', last_seq: lastSeq } };
        }
        return { ok: true, result: { state: this.isStreaming ? 'recording' : 'idle', last_seq: this.lastSeq } };
      }
      case 'status':
        return { ok: true, result: this.statusObject() };
      default:
        return { ok: false, result: { error: 'unknown_command', command } };
    }
  }

  private startStream(): void {
    if (this.streamTimer !== null) return;
    this.streamStart = this.o.now();
    this.produced = 0;
    this.batch = [];
    const period = this.o.mode === 'sample' ? 1000 / this.rateHz : this.o.batchMs;
    this.streamTimer = this.o.timers.setInterval(() => this.tick(), Math.max(1, Math.floor(period)));
  }

  private stopStream(): void {
    if (this.streamTimer === null) return;
    this.tick();
    this.flushBatch();
    this.o.timers.clearInterval(this.streamTimer);
    this.streamTimer = null;
  }

  /** Generates every sample due by now on a fixed schedule, so timer lateness costs no samples. */
  private tick(): void {
    const periodMs = 1000 / this.rateHz;
    const due = Math.floor((this.o.now() - this.streamStart) / periodMs) + 1;
    // A clock that jumps hours (a suspended laptop, a fake clock) must not freeze the process making samples.
    const upTo = Math.min(due, this.produced + this.rateHz * 10);
    const perBatch = Math.max(1, Math.round((this.o.batchMs * this.rateHz) / 1000));
    for (; this.produced < upTo; this.produced++) {
      const at = this.streamStart + this.produced * periodMs;
      const row = sampleRow(this.imu.next());
      if (this.o.mode === 'sample') {
        const seq = this.nextSeq();
        this.emitData(seq, JSON.stringify(sensorDataFrame(seq, Math.round(at), row, this.sessionId)), 1);
      } else {
        if (this.batch.length === 0) this.batchStartMs = Math.round(at);
        this.batch.push(row);
        if (this.batch.length >= perBatch) this.flushBatch();
      }
    }
    if (upTo < due) this.produced = due; // skipped, as a board's overrun FIFO would
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const seq = this.nextSeq();
    const data = this.o.mode === 'binary'
      ? encodeBinaryBatch({ seq, startMs: this.batchStartMs, rateHz: this.rateHz, accelScale: ACCEL_SCALE, gyroScale: GYRO_SCALE, samples: rows })
      : JSON.stringify(batchSensorDataFrame(seq, this.batchStartMs, this.rateHz, rows, this.sessionId));
    this.emitData(seq, data, rows.length);
  }

  private emitData(seq: number, data: string | Uint8Array, samples: number): void {
    this.stats.dataFrames++;
    this.stats.samples += samples;
    const sent = this.sendRaw(data);
    if (sent) this.stats.framesSent++;
    this.unacked.set(unackedKey(this.sessionId, seq), { data, sent });
    if (this.unacked.size > this.o.maxUnacked) {
      this.unacked.delete(this.unacked.keys().next().value as string);
      this.stats.dropped++;
    }
  }
}

function unackedKey(sessionId: unknown, seq: number): string {
  return `${typeof sessionId === 'string' ? sessionId : ''}#${seq}`;
}
