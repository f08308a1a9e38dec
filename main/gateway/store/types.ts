/**
 * The one storage interface of the gateway. SQLite (better-sqlite3, WAL) and
 * MySQL/MariaDB (mysql2) implement it with the same schema and migrations, and
 * one contract suite (test/store/contract.ts) runs against both.
 *
 * Times are JavaScript Dates (stored as UTC milliseconds in SQLite and as
 * DATETIME(3) UTC in MySQL); JSON columns are plain values in and out.
 */

/** Which kind of client a row in `devices` is. */
export type DeviceKind = 'client' | 'board' | 'user' | 'signal' | 'operator';

export interface RoomRow {
  roomId: string;
  createdAt: Date;
}

export interface RoomActivity {
  roomId: string;
  createdAt: Date;
  lastMessageAt: Date | null;
  messages: number;
}

export interface DeviceRow {
  deviceId: string;
  kind: DeviceKind;
  /** the room protocol's identity string ("mobile_user", "sensor_node"), null for boards. */
  identity: string | null;
  lastConnectedAt: Date | null;
  lastRoomId: string | null;
}

export interface ConnectionOpen {
  deviceId: string;
  kind: DeviceKind;
  roomId: string | null;
  clientIp: string;
  connectedAt: Date;
  /** The gateway holding the socket (several gateways share one database); absent in rows written before gateways had ids. */
  gatewayId?: string | null;
}

export interface ConnectionRow extends ConnectionOpen {
  id: number;
  disconnectedAt: Date | null;
}

export type MessageType = 'broadcast' | 'direct';
/**
 * sent: handed to the socket(s); queued: target offline, waiting; delivered: queued then handed
 * over; expired: queued past its `expiresAt`, never delivered (it left the target's queue).
 */
export type MessageStatus = 'sent' | 'queued' | 'delivered' | 'expired';

export interface MessageInsert {
  roomId: string | null;
  fromDeviceId: string;
  /** null for broadcasts. */
  toDeviceId: string | null;
  messageType: MessageType;
  content: string;
  sentAt: Date;
  status: MessageStatus;
  /** True when `content` is the JSON text of a non-string value (so it can be handed back as that value). Default false. */
  contentJson?: boolean;
  /** 0 high, 1 normal (default), 2 low: a queue is delivered in this order. */
  priority?: number;
  /** The sender asked for the receiver's ack: delivered only once acked. Default false. */
  ackRequested?: boolean;
  /** Past this a queued message is no longer delivered. Default null: never. */
  expiresAt?: Date | null;
}

export interface MessageRow extends MessageInsert {
  id: number;
  deliveredAt: Date | null;
  contentJson: boolean;
  priority: number;
  ackRequested: boolean;
  expiresAt: Date | null;
}

/** Who may join a room: the listed devices and the holders of its token (SHA-256 hex). Both null: anyone. */
export interface RoomAccess {
  allowedDeviceIds: string[] | null;
  tokenHash: string | null;
}

/** A page of a device's queue (see queuedMessagesPage). */
export interface QueuePageOptions {
  /** One room's messages; null: those of no room (a player's notifications). */
  roomId: string | null;
  /** Instead of roomId: the messages of every room (a room device's whole queue). */
  anyRoom?: boolean;
  fromDeviceId?: string;
  afterId: number;
  /**
   * Given: priority order (high first), then id, and the page starts after (afterPriority,
   * afterId). Absent: id order after afterId.
   */
  afterPriority?: number;
  /** Given: only messages not expired at this time. */
  liveAt?: Date;
  limit: number;
}

/** How much a target's queue or a room holds: rows and bytes of content. */
export interface MessageCount {
  count: number;
  bytes: number;
}

export interface MessageUsage {
  /** Queued direct messages to the target. */
  target?: MessageCount;
  /** Every stored message of the room (queued, sent, delivered, broadcasts). */
  room?: MessageCount;
}

/** A queued message that passed its expiry and was marked expired (see expireMessages). */
export interface ExpiredMessage {
  id: number;
  roomId: string | null;
  fromDeviceId: string;
  toDeviceId: string;
  /** Its content's size, as counted against the target's queue. */
  bytes: number;
  /** Sent with `ack: true`: its sender waits to hear `delivered` or `expired`. */
  ackRequested: boolean;
}

/** Rows removed by one retention pass. */
export interface PruneCounts {
  messages: number;
  roomQueries: number;
  connections: number;
}

export interface RoomQueryInsert {
  deviceId: string;
  roomId: string;
  queriedAt: Date;
}

export type CommandState = 'queued' | 'sent' | 'acked' | 'failed';

export interface CommandInsert {
  /** Gateway-minted id the board echoes in its ack. */
  commandId: string;
  deviceId: string;
  command: string;
  params: unknown;
  createdAt: Date;
  /** Wait this long for the ack after each push before resending; null: the gateway's commandResendMs. */
  timeoutMs?: number | null;
  /** Resends after the first push before the command fails; null: the default (5). */
  maxRetries?: number | null;
  /** 0 high, 1 normal (default), 2 low: pending commands go out in this order. */
  priority?: number;
}

export interface CommandRow extends CommandInsert {
  timeoutMs: number | null;
  maxRetries: number | null;
  priority: number;
  failedAt: Date | null;
  state: CommandState;
  /** How many times it was pushed to the board. */
  attempts: number;
  lastSentAt: Date | null;
  ackedAt: Date | null;
  result: unknown;
}

export interface DeviceStatusRow {
  deviceId: string;
  status: unknown;
  updatedAt: Date;
}

export interface DeviceTokenRow {
  deviceId: string;
  /** sha256 hex of the token; the token itself is shown once and never stored. */
  tokenHash: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export type SessionState = 'created' | 'recording' | 'uploading' | 'analyzing' | 'complete' | 'failed';

export interface SessionRow {
  sessionId: string;
  state: SessionState;
  boards: string[];
  playerId: string | null;
  /** Board -> the player holding it, when they are not all the session's player (null: none named). */
  boardPlayers?: Record<string, string> | null;
  court: string | null;
  roomId: string | null;
  notes: string | null;
  sampleRateHz: number;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
  completedAt: Date | null;
  failureReason: string | null;
  /** Analysis summary (JSON) once complete. */
  summary: unknown;
}

export type SessionPatch = Partial<Omit<SessionRow, 'sessionId' | 'createdAt' | 'boards'>>;

/**
 * One frame of samples as stored: a row per batch, not per sample. `data` is
 * little-endian Float32, six values per sample (ax ay az gx gy gz).
 */
export interface SampleChunk {
  sessionId: string;
  deviceId: string;
  seq: number;
  startMs: number;
  rateHz: number;
  count: number;
  data: Buffer;
  receivedAt: Date;
}

export interface ChunkStats {
  deviceId: string;
  frames: number;
  samples: number;
  maxSeq: number | null;
}

/** A stored session with what its progress is computed from: a row of the session list. */
export interface SessionSummary {
  row: SessionRow;
  /** Per board with stored chunks, by device. */
  chunks: ChunkStats[];
  /** Per board that reported upload_complete, by device. */
  finals: { deviceId: string; finalSeq: number }[];
}

export interface StrokeRow {
  sessionId: string;
  deviceId: string;
  idx: number;
  tMs: number;
  peakDps: number;
  speedKmh: number;
  peakG: number;
  saturated: boolean;
  type: string;
  confidence: number;
}

/**
 * A coach's correction of one stroke of a session: "there is a stroke of
 * `type` at `tMs` on this board" (type a stroke type), or "what was detected
 * there is not a stroke" (type `not_a_stroke`).
 */
export interface CorrectionRow {
  correctionId: string;
  sessionId: string;
  deviceId: string;
  /** The session's player when the correction was made: whose profile it teaches. */
  playerId: string | null;
  tMs: number;
  type: string;
  /** What the analysis said of the stroke then; null when the coach added a stroke the detector missed. */
  originalType: string | null;
  /** The stroke's features as the classifier saw them (the profile's example); null when not a stroke. */
  features: number[] | null;
  /** Measurements of an added stroke (peak_dps, speed_kmh, peak_g, saturated), JSON; null otherwise. */
  stroke: unknown;
  madeBy: string;
  madeAt: Date;
}

export interface Store {
  readonly kind: 'sqlite' | 'mysql';
  /** A description safe to show an operator (no password). */
  readonly description: string;

  /** Runs pending migrations; idempotent. Called by openStore. */
  migrate(): Promise<void>;
  /** Current schema version (highest migration applied). */
  schemaVersion(): Promise<number>;
  /** Flushes and closes; later calls reject. */
  close(): Promise<void>;

  // rooms
  /** Inserts the room; false if the id is already taken. */
  /** False if the id is taken. `access` limits who may join (both null or absent: anyone). */
  createRoom(roomId: string, createdAt: Date, access?: RoomAccess): Promise<boolean>;
  /** Who may join a room; undefined if there is no such room. */
  getRoomAccess(roomId: string): Promise<RoomAccess | undefined>;
  roomExists(roomId: string): Promise<boolean>;
  listRooms(): Promise<RoomRow[]>;
  /**
   * Rooms with their stored message count and last message, those with a message or created at
   * or after `since` (older ones are what retention removed), last active first, at most `limit`,
   * none of `exclude`. Found from the newest 5000 messages of those rooms and the newest rooms,
   * so a busy room may leave fewer than `limit`, never a wrong one.
   */
  listRoomActivity(opts: { since: Date; limit: number; exclude?: readonly string[] }): Promise<RoomActivity[]>;

  // devices
  getDevice(deviceId: string): Promise<DeviceRow | undefined>;
  /** Insert or update; fields given as undefined keep their stored value. */
  upsertDevice(d: { deviceId: string; kind: DeviceKind; identity?: string | null; lastConnectedAt?: Date; lastRoomId?: string | null }): Promise<void>;
  listDevices(kind?: DeviceKind): Promise<DeviceRow[]>;

  // connections
  openConnection(c: ConnectionOpen): Promise<number>;
  closeConnection(id: number, disconnectedAt: Date): Promise<void>;
  /**
   * Marks still-open connections closed (after a crash); returns how many. Without a scope every
   * open row; with one, rows of `own`, rows with no gateway id, and (when `live` is given) rows of
   * any gateway not in `live`: another gateway's open sockets are never closed while it runs.
   */
  closeDanglingConnections(at: Date, scope?: { own: string; live?: readonly string[] }): Promise<number>;
  /** Newest first; `before`: only those connected before it (paging). */
  listConnections(opts?: { open?: boolean; deviceId?: string; limit?: number; before?: Date }): Promise<ConnectionRow[]>;

  // messages
  insertMessage(m: MessageInsert): Promise<number>;
  /** Newest first. */
  listMessages(opts?: { roomId?: string; deviceId?: string; limit?: number }): Promise<MessageRow[]>;
  /** Queued direct messages for a device, oldest first. */
  queuedMessagesFor(toDeviceId: string): Promise<MessageRow[]>;
  markMessageDelivered(id: number, at: Date): Promise<void>;
  /**
   * Marks queued messages whose expiry is at or before `at` expired, up to `limit` of them
   * (oldest expiry first), and returns those this call changed: with several gateways on one
   * database each expired message is returned to one of them only.
   */
  expireMessages(at: Date, limit: number): Promise<ExpiredMessage[]>;
  /** Marks one queued message expired; false if it was no longer queued (delivered, or expired already). */
  markMessageExpired(id: number): Promise<boolean>;
  /** Usage of a target's queue and of a room, from the indexes (no content is read). */
  messageUsage(scope: { queuedFor?: string; roomId?: string }): Promise<MessageUsage>;
  /**
   * Up to `limit` queued messages for a device with id > afterId, oldest first: those of one
   * room, or with roomId null those of no room (a player's notifications), optionally from one sender.
   */
  queuedMessagesPage(toDeviceId: string, opts: QueuePageOptions): Promise<MessageRow[]>;
  /**
   * Retention: deletes messages (queued ones too) sent before `before`, room queries made
   * before it and connections closed before it, in batches. Sessions, sample chunks and
   * strokes are never deleted by retention.
   */
  pruneOlderThan(before: Date): Promise<PruneCounts>;

  // room queries
  insertRoomQuery(q: RoomQueryInsert): Promise<void>;
  countRoomQueries(roomId?: string): Promise<number>;

  // commands to boards
  enqueueCommand(c: CommandInsert): Promise<void>;
  getCommand(commandId: string): Promise<CommandRow | undefined>;
  /** Commands not yet acked (queued or sent), by priority (high first), then oldest first. */
  pendingCommands(deviceId: string): Promise<CommandRow[]>;
  markCommandSent(commandId: string, at: Date): Promise<void>;
  /** Returns false if unknown or already acked. */
  ackCommand(commandId: string, at: Date, result: unknown): Promise<boolean>;
  /** Marks a queued or sent command failed (retries spent); false if it was acked or failed already. */
  failCommand(commandId: string, at: Date): Promise<boolean>;
  /** Newest first; `before`: only those created before it (paging). */
  listCommands(opts?: { deviceId?: string; limit?: number; before?: Date }): Promise<CommandRow[]>;

  // device status (last status_update of a board)
  saveDeviceStatus(deviceId: string, status: unknown, at: Date): Promise<void>;
  getDeviceStatus(deviceId: string): Promise<DeviceStatusRow | undefined>;
  listDeviceStatuses(): Promise<DeviceStatusRow[]>;
  /** Replaces a board's tags (an empty list removes them). */
  setDeviceTags(deviceId: string, tags: readonly string[]): Promise<void>;
  /** Every (board, tag) pair, by board then tag. */
  listDeviceTags(): Promise<{ deviceId: string; tag: string }[]>;

  // device tokens
  saveDeviceToken(t: { deviceId: string; tokenHash: string; label: string | null; createdAt: Date }): Promise<void>;
  /** True if the device has this hash and it is not revoked. */
  checkDeviceToken(deviceId: string, tokenHash: string): Promise<boolean>;
  listDeviceTokens(): Promise<DeviceTokenRow[]>;
  /** Revokes every token of the device; returns how many. */
  revokeDeviceTokens(deviceId: string, at: Date): Promise<number>;

  // sessions
  createSession(s: SessionRow): Promise<void>;
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
  /**
   * Applies the patch only if the session is in state `from`; true if it was. Gateways of a
   * fleet share the table: the one whose claim succeeds is the one that goes on (analysis).
   */
  claimSession(sessionId: string, from: SessionState, patch: SessionPatch): Promise<boolean>;
  getSession(sessionId: string): Promise<SessionRow | undefined>;
  /**
   * Newest first; `search` matches player, court, notes and board ids (substring); `deviceId`: only
   * sessions with that board (exactly); `before`: only those created before it (paging).
   */
  listSessions(opts?: { search?: string; state?: SessionState; playerId?: string; limit?: number; deviceId?: string; before?: Date }): Promise<SessionRow[]>;
  /**
   * listSessions with each session's chunk stats and final seqs, in three
   * queries for a page of up to 500 sessions (one more pair per further 500),
   * instead of two more per session.
   */
  listSessionSummaries(opts?: { search?: string; state?: SessionState; playerId?: string; limit?: number }): Promise<SessionSummary[]>;
  /** Sessions not yet complete or failed (to resume after a restart). */
  openSessions(): Promise<SessionRow[]>;

  // samples
  /**
   * Stores chunks, ignoring any whose (session, device, seq) is already stored,
   * and resolves only once they are durable. Returns how many were new.
   */
  insertChunks(chunks: SampleChunk[]): Promise<number>;
  /** Stored seqs of one board in a session, ascending. */
  chunkSeqs(sessionId: string, deviceId: string): Promise<number[]>;
  chunkStats(sessionId: string): Promise<ChunkStats[]>;
  /** Chunks in (device, seq) order, fetched a page at a time so memory stays bounded. */
  readChunks(sessionId: string, opts?: { deviceId?: string; pageSize?: number }): AsyncIterable<SampleChunk>;
  /** The last seq a board reported in upload_complete. */
  setFinalSeq(sessionId: string, deviceId: string, finalSeq: number, at: Date): Promise<void>;
  finalSeqs(sessionId: string): Promise<{ deviceId: string; finalSeq: number }[]>;

  // analysis results
  /** Replaces the session's strokes. */
  saveStrokes(sessionId: string, strokes: StrokeRow[]): Promise<void>;
  /** By device, then idx. */
  listStrokes(sessionId: string): Promise<StrokeRow[]>;
  /** Removes a session with its samples, upload state, strokes and corrections; false when there was none. */
  deleteSession(sessionId: string): Promise<boolean>;

  // stroke corrections (never touched by saveStrokes or retention)
  /** Stores the correction and deletes `replaces` (the corrections it supersedes) in one transaction. */
  saveCorrection(c: CorrectionRow, replaces?: readonly string[]): Promise<void>;
  /** False if there was no such correction in the session. */
  deleteCorrection(sessionId: string, correctionId: string): Promise<boolean>;
  /** Of one session or of one player (every session of theirs), oldest first. */
  listCorrections(by: { sessionId: string } | { playerId: string }): Promise<CorrectionRow[]>;
}
