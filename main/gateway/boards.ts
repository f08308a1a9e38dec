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

/** What parts (OTA) hear of boards: connects, stored statuses, disconnects, ota_progress frames. */
export interface BoardListener {
  connected?(deviceId: string): void;
  status?(deviceId: string, status: Record<string, unknown>): void;
  disconnected?(deviceId: string): void;
  otaProgress?(deviceId: string, frame: OtaProgressFrame): void;
  commandAck?(deviceId: string, commandId: string, ok: boolean, result: unknown): void;
}

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

export class BoardHub {
  private readonly conns = new Map<string, BoardConn>();
  private readonly states = new Map<string, BoardState>();

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
      s.connectedAt = d.lastConnectedAt?.getTime() ?? null;
    }
    for (const st of statuses) {
      const s = this.states.get(st.deviceId);
      if (!s) continue;
      s.status = (st.status ?? null) as Record<string, unknown> | null;
      s.statusAt = st.updatedAt.getTime();
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
    if (!this.states.has(deviceId)) await this.ctx.store.upsertDevice({ deviceId, kind: 'board' });
    await this.ctx.store.setDeviceTags(deviceId, list);
    this.tagsOf.set(deviceId, list);
    const s = this.state(deviceId);
    this.ctx.operators.publish('devices', { event: 'status', device: this.describe(s) });
    return list;
  }

  private state(deviceId: string): BoardState {
    let s = this.states.get(deviceId);
    if (!s) {
      s = blankState(deviceId);
      this.states.set(deviceId, s);
    }
    return s;
  }

  get(deviceId: string): BoardConn | undefined {
    return this.conns.get(deviceId);
  }

  isConnected(deviceId: string): boolean {
    return this.conns.has(deviceId);
  }

  connected(): BoardConn[] {
    return [...this.conns.values()];
  }

  onlineCount(): number {
    return this.conns.size;
  }

  /** `conn`: the socket's own object, kept as its connection (its `connectionId` is set here). */
  connect(conn: BoardConn): void {
    const { deviceId, peer } = conn;
    const { store, clock } = this.ctx;
    // Every board the store knows was loaded at start: an id not here is new. Past the
    // address's budget it gets no row, no state and no socket, whatever frames follow.
    if (!this.states.has(deviceId) && !this.newDevices.take(peer.ip)) {
      peer.error('QUOTA_EXCEEDED', this.newDevices.message(peer.ip));
      peer.close(TOO_MANY_NEW_DEVICES_CLOSE, 'too many new device ids from this address');
      conn.connectionId = null;
      return;
    }
    const old = this.conns.get(deviceId);
    if (old) {
      this.conns.delete(deviceId);
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
    this.conns.set(deviceId, conn);
    const s = this.state(deviceId);
    s.online = true;
    s.ip = peer.ip;
    s.connectedAt = now;
    s.lastSeenAt = now;
    this.ctx.fleet?.connected(deviceId, peer.ip);
    this.ctx.operators.publish('devices', { event: 'online', device: this.describe(s) });
    this.tell('connected', deviceId);
  }

  /** Closes the board's socket, if connected (its close handler then disconnects it). */
  closeDevice(deviceId: string, code: number, reason: string): boolean {
    const c = this.conns.get(deviceId);
    c?.peer.close(code, reason);
    return c !== undefined;
  }

  disconnect(conn: BoardConn): void {
    if (this.conns.get(conn.deviceId) !== conn) return;
    this.conns.delete(conn.deviceId);
    this.closeRow(conn);
    this.ctx.fleet?.disconnected(conn.deviceId);
    const s = this.state(conn.deviceId);
    s.online = false;
    s.disconnectedAt = this.ctx.clock.now();
    this.ctx.operators.publish('devices', { event: 'offline', device: this.describe(s) });
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
    return this.conns.has(deviceId);
  }

  /** An error the gateway answered a connected board's frame with (shown among the board's events). */
  noteError(deviceId: string, code: string, message: string): void {
    if (this.live(deviceId)) this.history.error(deviceId, this.ctx.clock.now(), code, message);
  }

  seen(deviceId: string): void {
    const s = this.states.get(deviceId);
    if (s) s.lastSeenAt = this.ctx.clock.now();
  }

  heartbeat(deviceId: string, battery: number | undefined, rssi: number | undefined): void {
    if (!this.live(deviceId)) return;
    const s = this.state(deviceId);
    const now = this.ctx.clock.now();
    s.lastHeartbeatAt = now;
    if (battery === undefined && rssi === undefined) return;
    const st = s.status;
    // The same values again (an idle board's every heartbeat): the status as it is, no copy of it.
    // Both keys are set, as a heartbeat always set them (one it does not carry: undefined).
    if (st === null || st.battery !== battery || st.rssi !== rssi || !('battery' in st) || !('rssi' in st)) s.status = { ...(st ?? {}), battery, rssi };
    this.history.heartbeat(deviceId, now, battery, rssi);
  }

  async setStatus(deviceId: string, status: Record<string, unknown>): Promise<void> {
    if (!this.live(deviceId)) return;
    const now = this.ctx.clock.now();
    // Kept only once stored: a status the store refuses must not reach the device list.
    await this.ctx.store.saveDeviceStatus(deviceId, status, new Date(now));
    const s = this.state(deviceId);
    s.status = status;
    s.statusAt = now;
    this.history.status(deviceId, now, 'status_update', status);
    this.ctx.fleet?.status(deviceId, status);
    this.ctx.operators.publish('devices', { event: 'status', device: this.describe(s) });
    this.tell('status', deviceId, status);
  }

  /** The device list as operators see it: every board the gateway knows, online first. */
  list(): ReturnType<BoardHub['describe']>[] {
    const states = [...this.states.values()];
    // Boards other gateways hold show as online there; this gateway may not have heard of them yet.
    if (this.ctx.fleet) for (const [id] of this.ctx.fleet.remoteAll()) if (!this.states.has(id)) states.push(blankState(id));
    return states
      .map((s) => this.describe(s))
      .sort((a, b) => Number(b.online) - Number(a.online) || a.device_id.localeCompare(b.device_id));
  }

  find(deviceId: string): ReturnType<BoardHub['describe']> | undefined {
    // A board only another gateway has seen is described, not remembered here.
    const s = this.states.get(deviceId) ?? (this.ctx.fleet?.remote(deviceId) ? blankState(deviceId) : undefined);
    return s && this.describe(s);
  }

  /** Connected to this gateway or to another of the fleet. */
  isOnline(deviceId: string): boolean {
    return this.conns.has(deviceId) || this.ctx.fleet?.remote(deviceId) !== undefined;
  }

  describe(s: BoardState) {
    const fleet = this.ctx.fleet;
    const remote = fleet && !this.conns.has(s.deviceId) ? fleet.remote(s.deviceId) : undefined;
    if (remote) s = { ...s, online: true, ip: remote.ip, connectedAt: remote.connectedAt, status: remote.status ?? s.status };
    const gateway = fleet ? { gateway_id: remote ? remote.gatewayId : this.conns.has(s.deviceId) ? fleet.gatewayId : null } : {};
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

function blankState(deviceId: string): BoardState {
  return { deviceId, online: false, ip: null, connectedAt: null, disconnectedAt: null, lastSeenAt: null, lastHeartbeatAt: null, status: null, statusAt: null };
}
