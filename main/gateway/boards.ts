/**
 * Boards on /ws/esp32/{device_code}/: who is connected, when each was last
 * heard, and its last status. Online status has its ages so an operator can
 * tell a fresh board from one that went quiet.
 */
import type { Base, EventPublisher } from './base.js';
import { NewDeviceBudget } from './quotas.js';

/** What the board hub uses. */
export type BoardHubDeps = Pick<Base, 'store' | 'clock' | 'persist' | 'options' | 'metrics'> & { readonly operators: EventPublisher; readonly fleet?: BoardFleet };
import type { BoardFleet } from './fleet/hooks.js';

/** Close code of a board refused for bringing too many new device codes from one address. */
export const TOO_MANY_NEW_DEVICES_CLOSE = 4429;
import type { Peer } from './peer.js';
import type { OtaProgressFrame } from '../../firmware-protocol/index.js';
import { BoardHistory } from './board-history.js';
import { fromLoad, sinceLoad } from './epoch.js';

/** What parts (OTA) hear of boards: connects, stored statuses, disconnects, ota_progress frames. */
export interface BoardListener {
  connected?(deviceId: string): void;
  status?(deviceId: string, status: Record<string, unknown>): void;
  disconnected?(deviceId: string): void;
  otaProgress?(deviceId: string, frame: OtaProgressFrame): void;
  commandAck?(deviceId: string, commandId: string, ok: boolean, result: unknown): void;
}

/** A board as the device list describes it (`BoardHub.describe`). */
export interface BoardState {
  deviceId: string;
  online: boolean;
  ip: string | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  /** Any frame from the board. */
  lastSeenAt: number | null;
  lastHeartbeatAt: number | null;
  status: Record<string, unknown> | null;
  statusAt: number | null;
}

/**
 * A board's socket as the hub keeps it; the board endpoint's own object per socket is one (no
 * second object per board). `connectionId`: the store's row for this connection, a promise
 * until it is written, then its id (or null: not written).
 */
export interface BoardConn {
  readonly deviceId: string;
  readonly peer: Peer;
  connectionId: Promise<number | null> | number | null;
}

/** A board record's times are ms since load (epoch.ts): three small integers a heartbeating board, not three boxed numbers. */
const abs = (t: number | null): number | null => (t === null ? null : fromLoad(t));

/**
 * What the hub keeps of one board: one record a board, its socket's
 * connection in it while connected here (not a second map keyed by device
 * id). Online is having a connection.
 */
class Board {
  conn: BoardConn | null = null;
  ip: string | null = null;
  /** ms since EPOCH (sinceLoad). */
  connectedAt: number | null = null;
  disconnectedAt: number | null = null;
  lastSeenAt: number | null = null;
  lastHeartbeatAt: number | null = null;
  status: Record<string, unknown> | null = null;
  statusAt: number | null = null;
}

/** The record's state as the device list reads it, times back in ms since 1970. */
function stateOf(deviceId: string, b: Board | null): BoardState {
  if (b === null) return { deviceId, online: false, ip: null, connectedAt: null, disconnectedAt: null, lastSeenAt: null, lastHeartbeatAt: null, status: null, statusAt: null };
  return {
    deviceId,
    online: b.conn !== null,
    ip: b.ip,
    connectedAt: abs(b.connectedAt),
    disconnectedAt: abs(b.disconnectedAt),
    lastSeenAt: abs(b.lastSeenAt),
    lastHeartbeatAt: abs(b.lastHeartbeatAt),
    status: b.status,
    statusAt: abs(b.statusAt),
  };
}

export class BoardHub {
  /** Every board the gateway knows, connected here or not. */
  private readonly boards = new Map<string, Board>();
  /** Of those, connected here. */
  private online = 0;

  private readonly newDevices: NewDeviceBudget;
  private readonly listeners: BoardListener[] = [];
  /** Tags by board, as the store keeps them. */
  private readonly tagsOf = new Map<string, string[]>();
  /** Statuses, heartbeats and errors over time, for the device page (bounded, in memory). */
  readonly history = new BoardHistory();

  constructor(private readonly ctx: BoardHubDeps) {
    this.newDevices = new NewDeviceBudget(ctx.clock, ctx.options.maxNewDevicesPerAddress);
  }

  /** Loads what the store knows of boards, so the device list shows offline ones too. */
  async load(): Promise<void> {
    const [devices, statuses, tags] = await Promise.all([this.ctx.store.listDevices('board'), this.ctx.store.listDeviceStatuses(), this.ctx.store.listDeviceTags()]);
    for (const t of tags) this.tagsOf.set(t.deviceId, [...(this.tagsOf.get(t.deviceId) ?? []), t.tag]);
    for (const d of devices) {
      const s = this.state(d.deviceId);
      const at = d.lastConnectedAt?.getTime();
      s.connectedAt = at === undefined ? null : sinceLoad(at);
    }
    for (const st of statuses) {
      const s = this.boards.get(st.deviceId);
      if (!s) continue;
      s.status = (st.status ?? null) as Record<string, unknown> | null;
      s.statusAt = sinceLoad(st.updatedAt.getTime());
    }
  }

  listen(l: BoardListener): void {
    this.listeners.push(l);
  }

  private tell<K extends keyof BoardListener>(what: K, ...args: Parameters<NonNullable<BoardListener[K]>>): void {
    for (const l of this.listeners) {
      try {
        (l[what] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (err) {
        this.ctx.persist(Promise.reject(err), `board listener ${what}`);
      }
    }
  }

  /** A command_ack from a connected board. */
  commandAcked(deviceId: string, commandId: string, ok: boolean, result: unknown): void {
    if (this.live(deviceId)) this.tell('commandAck', deviceId, commandId, ok, result);
  }

  /** An ota_progress frame from a connected board. */
  otaProgress(deviceId: string, frame: OtaProgressFrame): void {
    if (this.live(deviceId)) this.tell('otaProgress', deviceId, frame);
  }

  tags(deviceId: string): string[] {
    return this.tagsOf.get(deviceId) ?? [];
  }

  /** Boards carrying a tag, known ones included. */
  withTag(tag: string): string[] {
    return [...this.tagsOf].filter(([, t]) => t.includes(tag)).map(([id]) => id).sort();
  }

  allTags(): { device_id: string; tags: string[] }[] {
    return [...this.tagsOf].filter(([, t]) => t.length > 0).map(([device_id, tags]) => ({ device_id, tags })).sort((a, b) => a.device_id.localeCompare(b.device_id));
  }

  /** Stores a board's tags (a board not seen yet gets a row, so tags written at provisioning are there when it connects). */
  async setTags(deviceId: string, tags: readonly string[]): Promise<string[]> {
    const list = [...new Set(tags)].sort();
    if (!this.boards.has(deviceId)) await this.ctx.store.upsertDevice({ deviceId, kind: 'board' });
    await this.ctx.store.setDeviceTags(deviceId, list);
    this.tagsOf.set(deviceId, list);
    const s = this.state(deviceId);
    this.ctx.operators.publish('devices', { event: 'status', device: this.describe(stateOf(deviceId, s)) });
    return list;
  }

  private state(deviceId: string): Board {
    let s = this.boards.get(deviceId);
    if (!s) {
      s = new Board();
      this.boards.set(deviceId, s);
    }
    return s;
  }

  /** The board's connection here, if connected here. */
  private connOf(deviceId: string): BoardConn | null {
    return this.boards.get(deviceId)?.conn ?? null;
  }

  get(deviceId: string): BoardConn | undefined {
    return this.connOf(deviceId) ?? undefined;
  }

  isConnected(deviceId: string): boolean {
    return this.connOf(deviceId) !== null;
  }

  /** In the order they connected, as a map of connections kept them. */
  connected(): BoardConn[] {
    const held: Board[] = [];
    for (const b of this.boards.values()) if (b.conn !== null) held.push(b);
    return held.sort((x, y) => x.connectedAt! - y.connectedAt!).map((b) => b.conn!);
  }

  onlineCount(): number {
    return this.online;
  }

  /** `conn`: the socket's own object, kept as its connection (its `connectionId` is set here). */
  connect(conn: BoardConn): void {
    const { deviceId, peer } = conn;
    const { store, clock } = this.ctx;
    // Every board the store knows was loaded at start: an id not here is new. Past the
    // address's budget it gets no row, no state and no socket, whatever frames follow.
    if (!this.boards.has(deviceId) && !this.newDevices.take(peer.ip)) {
      peer.error('QUOTA_EXCEEDED', this.newDevices.message(peer.ip));
      peer.close(TOO_MANY_NEW_DEVICES_CLOSE, 'too many new device ids from this address');
      conn.connectionId = null;
      return;
    }
    const s = this.state(deviceId);
    const old = s.conn;
    if (old) {
      s.conn = null;
      this.online--;
      this.closeRow(old);
      old.peer.close(4000, 'replaced by a newer connection of the same board');
    }
    const now = clock.now();
    const at = new Date(now);
    const write = (async () => {
      await store.upsertDevice({ deviceId, kind: 'board', lastConnectedAt: at });
      return store.openConnection({ deviceId, kind: 'board', roomId: null, clientIp: peer.ip, connectedAt: at });
    })();
    this.ctx.persist(write, 'board connect');
    // Once written, the id itself: a settled promise held per board is memory every board pays.
    const pending = write.catch(() => null);
    conn.connectionId = pending;
    pending.then((id) => {
      if (conn.connectionId === pending) conn.connectionId = id;
    });
    s.conn = conn;
    this.online++;
    s.ip = peer.ip;
    s.connectedAt = sinceLoad(now);
    s.lastSeenAt = sinceLoad(now);
    this.ctx.fleet?.connected(deviceId, peer.ip);
    this.ctx.operators.publish('devices', { event: 'online', device: this.describe(stateOf(deviceId, s)) });
    this.tell('connected', deviceId);
  }

  /** Closes the board's socket, if connected (its close handler then disconnects it). */
  closeDevice(deviceId: string, code: number, reason: string): boolean {
    const c = this.connOf(deviceId);
    c?.peer.close(code, reason);
    return c !== null;
  }

  disconnect(conn: BoardConn): void {
    const s = this.boards.get(conn.deviceId);
    if (s === undefined || s.conn !== conn) return;
    s.conn = null;
    this.online--;
    this.closeRow(conn);
    this.ctx.fleet?.disconnected(conn.deviceId);
    s.disconnectedAt = sinceLoad(this.ctx.clock.now());
    this.ctx.operators.publish('devices', { event: 'offline', device: this.describe(stateOf(conn.deviceId, s)) });
    this.tell('disconnected', conn.deviceId);
  }

  private closeRow(conn: BoardConn): void {
    const at = new Date(this.ctx.clock.now());
    const row = conn.connectionId;
    if (row === null) return;
    this.ctx.persist(
      typeof row === 'number' ? this.ctx.store.closeConnection(row, at) : row.then((id) => (id === null ? undefined : this.ctx.store.closeConnection(id, at))),
      'board disconnect',
    );
  }

  /** Frames of a socket refused at connect (read before its close) change nothing. */
  private live(deviceId: string): boolean {
    return this.connOf(deviceId) !== null;
  }

  /** An error the gateway answered a connected board's frame with (shown among the board's events). */
  noteError(deviceId: string, code: string, message: string): void {
    if (this.live(deviceId)) this.history.error(deviceId, this.ctx.clock.now(), code, message);
  }

  seen(deviceId: string): void {
    const s = this.boards.get(deviceId);
    if (s) s.lastSeenAt = sinceLoad(this.ctx.clock.now());
  }

  heartbeat(deviceId: string, battery: number | undefined, rssi: number | undefined): void {
    const s = this.boards.get(deviceId);
    if (s === undefined || s.conn === null) return;
    const now = this.ctx.clock.now();
    s.lastHeartbeatAt = sinceLoad(now);
    if (battery === undefined && rssi === undefined) return;
    const st = s.status;
    // The same values again (an idle board's every heartbeat): the status as it is, no copy of it.
    // Both keys are set, as a heartbeat always set them (one it does not carry: undefined).
    if (st === null || st.battery !== battery || st.rssi !== rssi || !('battery' in st) || !('rssi' in st)) s.status = { ...(st ?? {}), battery, rssi };
    // The status, when it holds just these values, is the history entry's values too (neither is changed once kept).
    this.history.heartbeat(deviceId, now, battery, rssi, s.status);
  }

  async setStatus(deviceId: string, status: Record<string, unknown>): Promise<void> {
    if (!this.live(deviceId)) return;
    const now = this.ctx.clock.now();
    // Kept only once stored: a status the store refuses must not reach the device list.
    await this.ctx.store.saveDeviceStatus(deviceId, status, new Date(now));
    const s = this.state(deviceId);
    s.status = status;
    s.statusAt = sinceLoad(now);
    this.history.status(deviceId, now, 'status_update', status);
    this.ctx.fleet?.status(deviceId, status);
    this.ctx.operators.publish('devices', { event: 'status', device: this.describe(stateOf(deviceId, s)) });
    this.tell('status', deviceId, status);
  }

  /** The device list as operators see it: every board the gateway knows, online first. */
  list(): ReturnType<BoardHub['describe']>[] {
    const states: BoardState[] = [];
    for (const [id, b] of this.boards) states.push(stateOf(id, b));
    // Boards other gateways hold show as online there; this gateway may not have heard of them yet.
    if (this.ctx.fleet) for (const [id] of this.ctx.fleet.remoteAll()) if (!this.boards.has(id)) states.push(stateOf(id, null));
    return states
      .map((s) => this.describe(s))
      .sort((a, b) => Number(b.online) - Number(a.online) || a.device_id.localeCompare(b.device_id));
  }

  find(deviceId: string): ReturnType<BoardHub['describe']> | undefined {
    // A board only another gateway has seen is described, not remembered here.
    const b = this.boards.get(deviceId);
    if (b !== undefined) return this.describe(stateOf(deviceId, b));
    return this.ctx.fleet?.remote(deviceId) ? this.describe(stateOf(deviceId, null)) : undefined;
  }

  /** Connected to this gateway or to another of the fleet. */
  isOnline(deviceId: string): boolean {
    return this.isConnected(deviceId) || this.ctx.fleet?.remote(deviceId) !== undefined;
  }

  describe(s: BoardState) {
    const fleet = this.ctx.fleet;
    const here = this.isConnected(s.deviceId);
    const remote = fleet && !here ? fleet.remote(s.deviceId) : undefined;
    if (remote) s = { ...s, online: true, ip: remote.ip, connectedAt: remote.connectedAt, status: remote.status ?? s.status };
    const gateway = fleet ? { gateway_id: remote ? remote.gatewayId : here ? fleet.gatewayId : null } : {};
    const now = this.ctx.clock.now();
    const age = (t: number | null) => (t === null ? null : Math.max(0, now - t));
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      device_id: s.deviceId,
      online: s.online,
      ip: s.ip,
      connected_at: iso(s.connectedAt),
      disconnected_at: iso(s.disconnectedAt),
      last_seen_at: iso(s.lastSeenAt),
      last_seen_age_ms: age(s.lastSeenAt),
      last_heartbeat_at: iso(s.lastHeartbeatAt),
      last_heartbeat_age_ms: age(s.lastHeartbeatAt),
      status: s.status,
      status_at: iso(s.statusAt),
      ...gateway,
      // Only when set: a board without tags reads as it always did.
      ...(this.tags(s.deviceId).length > 0 ? { tags: this.tags(s.deviceId) } : {}),
    };
  }
}
