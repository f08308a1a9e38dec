/**
 * What a VirtualBoard is configured with and what it reports: options and
 * their defaults, counters, events, and the gateway's error frame as an Error.
 */
import type { Clock } from '../shared/clock.js';
import type { ImuSourceLike } from './frames.js';
import type { OtaBehaviour } from './ota.js';

export type StreamMode = 'sample' | 'batch' | 'binary';

export interface VirtualBoardOptions {
  /** Gateway base URL such as `ws://127.0.0.1:8765`; the board appends `/ws/esp32/{deviceCode}/`. Required. */
  url: string;
  /** The board's device code. Default `racket-1`. */
  deviceCode?: string;
  /** Other gateways of a fleet: after the link drops, the board tries the next address in turn (firmware with several known gateways, or mDNS finding another). Default none. */
  fallbackUrls?: string[];
  /** Per-device token sent as `?token=`. Default none (lab mode). */
  token?: string;
  /**
   * SHA-256 of the gateway's certificate (hex, colons allowed) for a `wss://` URL: the board
   * connects only to a gateway with exactly that certificate, as firmware with it in NVS does.
   * Without it a `wss://` URL is checked against the system's CAs. Default none.
   */
  fingerprint?: string;
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
  /** How the board takes ota_update: succeeds by default; `fail` makes the download break, the check fail, the new image roll back, or the command be refused. */
  ota?: OtaBehaviour;
  /** Replaces the swing generator (tests use fixed values). Default createImuSource(). */
  imuSource?: ImuSourceLike;
  /** Wall clock (sample timestamps come from it) and timers, injectable so tests drive time. Default the system clock, whose timers keep the process alive as the globals do. */
  clock?: Clock;
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

export const DEFAULTS = {
  deviceCode: 'racket-1', heartbeatIntervalMs: 10_000, statusIntervalMs: 30_000, pollIntervalMs: 0, rateHz: 100,
  mode: 'batch' as StreamMode, batchMs: 100, streamAlways: false, reconnect: true, reconnectMinMs: 250,
  reconnectMaxMs: 5000, maxUnacked: 6000, strokesPerMinute: 20, firmware: '1.2.0', fallbackUrls: [] as string[], ota: {} as OtaBehaviour,
};
