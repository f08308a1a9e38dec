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
import { createSystemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { DEFAULTS, GatewayError, type BoardEvents, type BoardStats, type VirtualBoardOptions } from './board-options.js';
import { batchSensorDataFrame, boardEndpoint, hashSeed, prng, sampleRow, sensorDataFrame, type ImuSourceLike, type SampleRow } from './frames.js';
import { Outbox } from './outbox.js';
import { pinnedConnection } from './pinned-tls.js';
import { otaParams, runOta } from './ota.js';
export type { OtaBehaviour, OtaFailure } from './ota.js';

export * from './frames.js';
export * from './board-options.js';

/** Full scale of the simulated IMU (±16 g, ±2000 dps) over int16, as an MPU-6050/ICM-42688 reports it. */
const ACCEL_SCALE = 16 / 32768;
const GYRO_SCALE = 2000 / 32768;
/** The commands this board executes, reported in its status as `commands`. */
export const SUPPORTED_COMMANDS = ['start_collection', 'stop_collection', 'status'] as const;

interface Outcome { ok: boolean; result: Record<string, unknown> }

/** Timers that keep the process alive, as the globals do: a board retries until stopped. */
const defaultClock: Clock = createSystemClock({ unref: false });

export class VirtualBoard extends EventEmitter<BoardEvents> {
  readonly deviceCode: string;
  private readonly endpoints: string[];
  private at = 0;
  readonly stats: BoardStats = { dataFrames: 0, framesSent: 0, resent: 0, acked: 0, samples: 0, errors: 0, reconnects: 0, dropped: 0 };

  private readonly o: Required<Omit<VirtualBoardOptions, 'token' | 'imuSource' | 'seed' | 'clock' | 'fingerprint'>>;
  private readonly tlsOptions: WebSocket.ClientOptions;
  private readonly clock: Clock;
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
  private readonly outbox: Outbox;
  private readonly executed = new Map<string, Outcome>();
  private collecting = false;
  private sessionId: string | null = null;
  private rateHz: number;
  private streamStart = 0;
  private produced = 0;
  private batch: SampleRow[] = [];
  private batchStartMs = 0;
  private streamTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private statusTimer: TimerHandle | null = null;
  private pollTimer: TimerHandle | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(options: VirtualBoardOptions) {
    super();
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const { clock, ...rest } = given as VirtualBoardOptions;
    this.o = { ...DEFAULTS, ...rest } as VirtualBoard['o'];
    this.clock = clock ?? defaultClock;
    this.outbox = new Outbox(this.o.maxUnacked, this.stats);
    const deviceCode = this.o.deviceCode;
    if (!(this.o.rateHz > 0)) throw new RangeError('rateHz must be positive');
    this.deviceCode = deviceCode;
    this.endpoints = [options.url, ...(options.fallbackUrls ?? [])].map((u) => boardEndpoint(u, deviceCode, options.token));
    this.tlsOptions = options.fingerprint ? { createConnection: pinnedConnection(options.fingerprint) as unknown as WebSocket.ClientOptions['createConnection'] } : {};
    this.seed = options.seed ?? hashSeed(deviceCode);
    this.rand = prng(this.seed ^ 0x9e3779b9);
    this.rateHz = this.o.rateHz;
    this.ownImu = options.imuSource === undefined;
    this.imu = options.imuSource ?? this.swings();
    this.bornAt = this.clock.now();
  }

  private swings(): ImuSourceLike {
    return createImuSource({ rateHz: this.rateHz, seed: this.seed, strokesPerMinute: this.o.strokesPerMinute });
  }

  /** The address the board connects to now. */
  get endpoint(): string { return this.endpoints[this.at]!; }
  get connected(): boolean { return this.ready; }
  get unackedCount(): number { return this.outbox.size; }
  get lastSeq(): number { return this.outbox.lastSeq(this.sessionId); }
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
    this.clock.clear(this.reconnectTimer ?? undefined);
    this.reconnectTimer = null;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = this.clock.setTimeout(() => { ws.terminate(); resolve(); }, 1000);
      ws.once('close', () => { this.clock.clear(t); resolve(); });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'board stopped');
    });
  }

  /** Drops the link from the board's side, as a Wi-Fi loss would; the board reconnects. */
  simulateDrop(): void { this.ws?.terminate(); }

  private connect(): void {
    // A real board that said `rebooting` restarts at once: whenever it connects next, it runs the new image.
    if (this.rebootTo !== null) {
      this.o.firmware = this.rebootTo;
      this.rebootTo = null;
    }
    if (this.stopped) return;
    const ws = new WebSocket(this.endpoint, { handshakeTimeout: 5000, ...(this.endpoint.startsWith('wss:') ? this.tlsOptions : {}) });
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
      // A gateway that closed or never answered: the next one of the fleet, if there is one.
      this.at = (this.at + 1) % this.endpoints.length;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || !this.o.reconnect) return;
    const ceiling = Math.min(this.o.reconnectMaxMs, this.o.reconnectMinMs * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    // Full-range jitter would let a whole fleet reconnect in one burst after a gateway restart.
    const delay = Math.round(ceiling * (0.5 + this.rand() * 0.5));
    this.reconnectTimer = this.clock.setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay);
  }

  private fail(err: Error): void {
    this.stats.errors++;
    // An EventEmitter 'error' with no listener throws; a simulator in a CLI must not die of a refused connection.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private send(msg: Record<string, unknown>): void { this.sendRaw(JSON.stringify(msg)); }

  private readonly sendData = (data: string | Uint8Array): boolean => this.sendRaw(data);

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
        this.outbox.ack(msg.session_id, seq);
        this.emit('ack', { type: 'data_ack', seq });
        return;
      }
      case 'upload_ack':
        this.outbox.uploadAcked(msg.session_id);
        return void this.emit('ack', { type: 'upload_ack', seq: Number(msg.last_seq) });
      case 'resend':
        if (Array.isArray(msg.seqs)) this.outbox.resendSeqs(msg.session_id, msg.seqs, this.sendData);
        return;
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
    this.outbox.resendAll(this.sendData);
    const t = this.clock;
    this.heartbeatTimer = t.setInterval(() => this.send({ type: 'heartbeat', battery: this.battery(), rssi: this.rssi() }), this.o.heartbeatIntervalMs);
    this.statusTimer = t.setInterval(() => this.sendStatus(), this.o.statusIntervalMs);
    if (this.o.pollIntervalMs > 0) this.pollTimer = t.setInterval(() => this.send({ type: 'poll_commands' }), this.o.pollIntervalMs);
    this.emit('connected', { deviceCode: this.deviceCode, serverTime, reconnect });
    this.firstConnect?.resolve();
    this.firstConnect = null;
  }

  private clearSessionTimers(): void {
    for (const h of [this.heartbeatTimer, this.statusTimer, this.pollTimer]) if (h !== null) this.clock.clear(h);
    this.heartbeatTimer = this.statusTimer = this.pollTimer = null;
  }

  private battery(): number {
    // About one percent per three minutes of uptime: enough for a UI to show movement.
    return Math.max(5, 100 - Math.floor((this.clock.now() - this.bornAt) / 180_000));
  }

  private rssi(): number { return -48 - Math.floor(this.rand() * 12); }

  statusObject(): Record<string, unknown> {
    return {
      battery: this.battery(),
      rssi: this.rssi(),
      firmware: this.o.firmware,
      state: this.isStreaming ? 'recording' : 'idle',
      session_id: this.sessionId,
      // What execute() knows, so the operator UI offers only these.
      commands: [...SUPPORTED_COMMANDS],
    };
  }

  private sendStatus(): void { this.send({ type: 'status_update', status: this.statusObject() }); }

  private onCommand(c: Record<string, unknown>): void {
    const commandId = typeof c.command_id === 'string' ? c.command_id : '';
    const command = typeof c.command === 'string' ? c.command : '';
    const params = c.params && typeof c.params === 'object' ? (c.params as Record<string, unknown>) : {};
    const prior = commandId ? this.executed.get(commandId) : undefined;
    const outcome = prior ?? (command === 'ota_update' ? this.startOta(commandId, params) : this.execute(command, params));
    if (!prior && commandId) {
      this.executed.set(commandId, outcome);
      // Bounded like the firmware's ring of recent ids; a resend arrives within seconds, not thousands of commands later.
      if (this.executed.size > 256) this.executed.delete(this.executed.keys().next().value as string);
    }
    this.send({ type: 'command_ack', command_id: commandId, ok: outcome.ok, result: outcome.result });
    this.emit('command', { commandId, command, params, duplicate: prior !== undefined, ok: outcome.ok });
  }

  /** The firmware version the board reports now (changes after an update). */
  get firmware(): string { return this.o.firmware; }

  private otaRunning = false;
  /** The image a board that reported `rebooting` comes back with, until it has. */
  private rebootTo: string | null = null;

  private startOta(commandId: string, params: Record<string, unknown>): Outcome {
    const p = otaParams(params);
    if (!p) return { ok: false, result: { error: 'bad_params' } };
    if (this.o.ota.fail === 'refuse') return { ok: false, result: { error: 'ota_unsupported' } };
    if (this.otaRunning) return { ok: false, result: { error: 'ota_in_progress' } };
    this.otaRunning = true;
    const io = {
      send: (f: Record<string, unknown>) => this.send(f),
      rebooting: (firmware: string) => { this.rebootTo = firmware; },
      reboot: (firmware: string) => {
        // Already done if the link dropped during the reboot: the board came back on the new image.
        if (this.rebootTo === null) return;
        this.rebootTo = null;
        this.o.firmware = firmware;
        this.simulateDrop();
      },
      firmware: () => this.o.firmware,
      clock: this.clock,
      behaviour: this.o.ota,
    };
    // After the ack has gone out, as a board starts its OTA task.
    queueMicrotask(() => void runOta(io, commandId, p).finally(() => { this.otaRunning = false; }));
    return { ok: true, result: { state: 'downloading', version: p.version } };
  }

  private execute(command: string, params: Record<string, unknown>): Outcome {
    // Every case here is in SUPPORTED_COMMANDS.
    switch (command) {
      case 'start_collection': {
        if (this.streamTimer !== null) { this.tick(); this.flushBatch(); } // earlier samples keep their session
        if (typeof params.session_id === 'string' && params.session_id !== this.sessionId) {
          this.sessionId = params.session_id;
          this.outbox.restartSeqs(this.sessionId);
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
          this.outbox.uploadSent(sessionId, text);
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
    this.streamStart = this.clock.now();
    this.produced = 0;
    this.batch = [];
    const period = this.o.mode === 'sample' ? 1000 / this.rateHz : this.o.batchMs;
    this.streamTimer = this.clock.setInterval(() => this.tick(), Math.max(1, Math.floor(period)));
  }

  private stopStream(): void {
    if (this.streamTimer === null) return;
    this.tick();
    this.flushBatch();
    this.clock.clear(this.streamTimer);
    this.streamTimer = null;
  }

  /** Generates every sample due by now on a fixed schedule, so timer lateness costs no samples. */
  private tick(): void {
    const periodMs = 1000 / this.rateHz;
    const due = Math.floor((this.clock.now() - this.streamStart) / periodMs) + 1;
    // A clock that jumps hours (a suspended laptop, a fake clock) must not freeze the process making samples.
    const upTo = Math.min(due, this.produced + this.rateHz * 10);
    const perBatch = Math.max(1, Math.round((this.o.batchMs * this.rateHz) / 1000));
    for (; this.produced < upTo; this.produced++) {
      const at = this.streamStart + this.produced * periodMs;
      const row = sampleRow(this.imu.next());
      if (this.o.mode === 'sample') {
        const seq = this.outbox.nextSeq(this.sessionId);
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
    const seq = this.outbox.nextSeq(this.sessionId);
    const data = this.o.mode === 'binary'
      ? encodeBinaryBatch({ seq, startMs: this.batchStartMs, rateHz: this.rateHz, accelScale: ACCEL_SCALE, gyroScale: GYRO_SCALE, samples: rows })
      : JSON.stringify(batchSensorDataFrame(seq, this.batchStartMs, this.rateHz, rows, this.sessionId));
    this.emitData(seq, data, rows.length);
  }

  private emitData(seq: number, data: string | Uint8Array, samples: number): void {
    this.stats.dataFrames++;
    this.stats.samples += samples;
    this.outbox.add(this.sessionId, seq, data, this.sendRaw(data));
  }
}
