import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LogLevel } from './log.js';
import type { TlsFiles, TlsMaterial } from './tls/cert.js';
import { DEFAULT_PORT } from '../../firmware-protocol/index.js';

export type DeviceAuthMode = 'open' | 'token';

/** Where and how discovery runs. */
export interface DiscoveryOptions {
  /** mDNS advertise and browse. Default true. */
  mdns?: boolean;
  /** UDP port of the probe responder; false turns it off. Default 8766. */
  udpProbePort?: number | false;
  /** Interface names or IPv4 addresses; empty: every non-internal IPv4 interface (or the operator's saved choice). Default []. */
  interfaces?: readonly string[];
}

/**
 * The gateway's settings, as plain values (flags, the settings file).
 * Every field is optional; defaults are given per field. `startGateway`
 * takes these plus the parts and injected services (index.ts).
 */
export interface CoreOptions {
  /** Address to listen on. Default `0.0.0.0` (every interface, so boards on the LAN reach it). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8765 (the port of the room server Courtside replaces). */
  port?: number;
  /** A SQLite file path or `mysql://user:pass@host:port/db`. Default `<dataDir>/courtside.sqlite`. */
  db?: string;
  /**
   * `redis://host:port[/db]`: this gateway joins every other that names the same Redis and the
   * same MySQL/MariaDB database as one fleet. Default none (a gateway on its own).
   */
  redis?: string;
  /** Folder for the database, the saved operator token and logs. Default: the user's data folder + `courtside`. */
  dataDir?: string;
  /** Token for the operator UI and API. Default: one made at first start and kept in `<dataDir>/operator-token`. */
  operatorToken?: string;
  /** `open` admits any board or room client (what the systems Courtside replaces did); `token` requires a device token. Default `open`. */
  deviceAuth?: DeviceAuthMode;
  /** HS256 secret: a JWT signed with it (and `sub` the id connecting) is accepted wherever a device token is. Setting any JWT key makes `token` the default device auth. Default none. */
  jwtSecret?: string;
  /** A PEM public key (RSA for RS256, EC P-256 for ES256) or a JWKS file, for JWTs as jwtSecret. Default none. */
  jwtPublicKeyFile?: string;
  /** When set, a JWT's `iss` must be this. Default: not checked. */
  jwtIssuer?: string;
  /** When set, a JWT's `aud` must contain this. Default: not checked. */
  jwtAudience?: string;
  /** permessage-deflate on every WebSocket endpoint, when the client offers it. Default true. */
  compression?: boolean;
  /** Frames smaller than this many bytes are sent uncompressed. Default 1024. */
  compressionThreshold?: number;
  /** Default `info`. */
  logLevel?: LogLevel;
  /** WebSocket ping interval; a silent socket is closed after two. Default 15000 ms (offline within 30 s). */
  heartbeatIntervalMs?: number;
  /** Largest frame accepted, bytes. Default 262144 (256 KiB). */
  maxPayloadBytes?: number;
  /** Frames per second a client may send, sustained; twice that as a burst. Default 500. */
  maxFramesPerSecond?: number;
  /** Bytes per second a client may send, sustained (twice that as a burst); past it its socket is read more slowly, nothing is dropped. 0: no limit. Default 4194304 (4 MiB/s). */
  maxBytesPerSecond?: number;
  /** Frames per second all connections from one IP address may send together (not 127.0.0.1, ::1); twice that as a burst. Default 2000. */
  maxFramesPerSecondPerAddress?: number;
  /** Bytes per second all connections from one IP address may send together (not 127.0.0.1, ::1). 0: no limit. Default 8388608 (8 MiB/s). */
  maxBytesPerSecondPerAddress?: number;
  /**
   * A connection with more than this many bytes sent to it and not yet read is closed (1008).
   * Operators first lose live sample batches (a `samples_dropped` frame says how many) once a
   * quarter of it waits. 0: no cap. Default 8388608 (8 MiB).
   */
  maxSendBufferBytes?: number;
  /**
   * Past this many bytes waiting unsent to a connection, what is sent to it waits in a small
   * priority queue (high-priority commands, messages and notifications first) until the socket
   * drains below it. 0: off. Default 65536 (64 KiB).
   */
  sendQueueThresholdBytes?: number;
  /** Open WebSocket connections at most, all endpoints together. Default 2000. */
  maxConnections?: number;
  /**
   * Open WebSocket connections at most from one IP address (127.0.0.1 and ::1, the machine
   * itself, are not counted: the demo fleet and local tools). Default 64.
   */
  maxConnectionsPerAddress?: number;
  /** On `/`, a connection that has not identified (identity or register frame) this long is closed with 4408. Default 10000 ms. */
  identifyTimeoutMs?: number;
  /** Resend a pushed, unacked command to a connected board after this long. Default 10000 ms. */
  commandResendMs?: number;
  /** Interval of the status line in the log (the room protocol's per-minute report). Default 60000 ms; 0 turns it off. */
  statusLogIntervalMs?: number;
  /**
   * Sensor batches to operators are gathered this long and sent as one frame; 0 (the default):
   * what arrived in one turn of the event loop, so batches are gathered only while the loop is busy.
   */
  sensorFlushMs?: number;
  /** Boards on cumulative acks (`?ack=cumulative`): the longest an ack waits to share a data_acks frame. Default 50 ms. */
  cumulativeAckMs?: number;
  /**
   * Extra origins allowed to use the operator API (besides the gateway's own), and the only
   * browser origins the device endpoints (boards, players, rooms on `/`) accept: a request
   * there with any other Origin header gets 403. Default none.
   */
  allowedOrigins?: string[];
  /**
   * Extra names the operator API and UI answer to in `Host`, besides this machine's addresses,
   * `localhost`, its host name, `<hostname>.local` and the hosts of `allowedOrigins`
   * (DNS rebinding); `*` accepts any. Default none.
   */
  allowedHosts?: string[];
  /**
   * Days messages (queued ones too), room queries and closed connections are kept; older ones
   * are deleted every hour. Recorded sessions and their samples are never deleted by it. 0: keep
   * everything. Default 30.
   */
  retentionDays?: number;
  /** Direct messages queued for one device that is away, all rooms together; 0: no cap. Default 1000. */
  maxQueuedPerTarget?: number;
  /** Bytes of content queued for one device; 0: no cap. Default 16777216 (16 MiB). */
  maxQueuedBytesPerTarget?: number;
  /**
   * Messages one room keeps (broadcasts, direct messages, queued ones); past it broadcasts and
   * live direct messages are still relayed but not stored, and queuing is refused. 0: no cap. Default 50000.
   */
  maxStoredPerRoom?: number;
  /** Bytes of content one room keeps; as maxStoredPerRoom. 0: no cap. Default 67108864 (64 MiB). */
  maxStoredBytesPerRoom?: number;
  /** Device ids never seen before that one IP address may bring, per hour (not 127.0.0.1, ::1); 0: no cap. Default 120. */
  maxNewDevicesPerAddress?: number;
  /** Folder of the built UI served at `/`. Default `dist/renderer` next to the package. */
  uiDir?: string;
  /** mDNS and the UDP probe. Default on, on every interface; `COURTSIDE_DISCOVERY=off` in the environment turns both off. */
  discovery?: DiscoveryOptions;
  /**
   * HTTPS and WSS on the port (plain HTTP there only redirects, and answers /api/health):
   * `true` with a certificate made and kept in the data folder, or the operator's own files.
   * Default off.
   */
  tls?: boolean | TlsFiles;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  db: string;
  redis: string | null;
  dataDir: string;
  operatorToken: string;
  deviceAuth: DeviceAuthMode;
  jwtSecret: string | null;
  jwtPublicKeyFile: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  compression: boolean;
  compressionThreshold: number;
  logLevel: LogLevel;
  heartbeatIntervalMs: number;
  maxPayloadBytes: number;
  maxFramesPerSecond: number;
  maxBytesPerSecond: number;
  maxFramesPerSecondPerAddress: number;
  maxBytesPerSecondPerAddress: number;
  maxSendBufferBytes: number;
  sendQueueThresholdBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  identifyTimeoutMs: number;
  commandResendMs: number;
  statusLogIntervalMs: number;
  allowedOrigins: string[];
  allowedHosts: string[];
  retentionDays: number;
  maxQueuedPerTarget: number;
  maxQueuedBytesPerTarget: number;
  maxStoredPerRoom: number;
  maxStoredBytesPerRoom: number;
  maxNewDevicesPerAddress: number;
  sensorFlushMs: number;
  cumulativeAckMs: number;
  uiDir: string | null;
  discovery: { mdns: boolean; udpProbePort: number | false; interfaces: readonly string[] };
  /** The certificate in use, null without TLS. Replaced when a made certificate is renewed while running. */
  tls: TlsMaterial | null;
}

/** The platform's per-user data folder, as Electron's app.getPath('userData') would pick it. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.COURTSIDE_DATA_DIR) return env.COURTSIDE_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Courtside');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Courtside');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'courtside');
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  deviceAuth: 'open' as DeviceAuthMode,
  logLevel: 'info' as LogLevel,
  compression: true,
  compressionThreshold: 1024,
  heartbeatIntervalMs: 15_000,
  maxPayloadBytes: 256 * 1024,
  maxFramesPerSecond: 500,
  maxBytesPerSecond: 4 * 1024 * 1024,
  maxFramesPerSecondPerAddress: 2000,
  maxBytesPerSecondPerAddress: 8 * 1024 * 1024,
  maxSendBufferBytes: 8 * 1024 * 1024,
  sendQueueThresholdBytes: 64 * 1024,
  maxConnections: 2000,
  maxConnectionsPerAddress: 64,
  identifyTimeoutMs: 10_000,
  commandResendMs: 10_000,
  statusLogIntervalMs: 60_000,
  sensorFlushMs: 0,
  cumulativeAckMs: 50,
  retentionDays: 30,
  maxQueuedPerTarget: 1000,
  maxQueuedBytesPerTarget: 16 * 1024 * 1024,
  maxStoredPerRoom: 50_000,
  maxStoredBytesPerRoom: 64 * 1024 * 1024,
  maxNewDevicesPerAddress: 120,
};
