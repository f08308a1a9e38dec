import type { Store } from './store/types.js';
import type { Logger } from './log.js';
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { RoomHub } from './rooms.js';
import type { SignalHub } from './signaling.js';
import type { BoardHub } from './boards.js';
import type { CommandQueue } from './commands.js';
import type { UserHub } from './users.js';
import type { OperatorHub } from './operators.js';
import type { GatewayExtension } from './extensions.js';
import type { SampleSink } from './samples.js';
import type { KeepaliveManager } from './keepalive.js';
import type { DiscoveredService } from './discovery/browse.js';

/** What every endpoint and hub can reach: one object, built once in index.ts. */
export interface GatewayContext {
  readonly options: ResolvedOptions;
  readonly store: Store;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly rooms: RoomHub;
  readonly signaling: SignalHub;
  readonly boards: BoardHub;
  readonly commands: CommandQueue;
  readonly users: UserHub;
  readonly operators: OperatorHub;
  /** Answers a player's session_status; set by the sessions part. Null: always "no session". */
  sessionStatus: ((userId: string, sessionId: string | undefined) => Promise<Record<string, unknown> | null>) | null;
  /** Services seen on the LAN (mDNS); set by the discovery part. */
  lanDevices: (() => DiscoveredService[]) | null;
  /** Where sample frames go; set by the sessions part. Null: live view only. */
  sampleSink: SampleSink | null;
  /** WebSocket liveness; any frame counts as a sign of life. Set by the server. */
  keepalive: KeepaliveManager | null;
  /** Parts plugged in at start (sessions, USB, discovery). */
  readonly extensions: GatewayExtension[];
  /** The port actually listened on (known after listen; the configured one before). */
  readonly port: number;
  /** Runs a store write whose failure must be logged and counted but not awaited by the sender. */
  persist(work: Promise<unknown>, what: string): void;
  /** Public (LAN) addresses the gateway answers on, for printed URLs and discovery. */
  urls(): { board: string[]; operator: string[] };
}
