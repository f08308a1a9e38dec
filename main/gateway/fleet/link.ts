/**
 * One gateway's place in the fleet: the hooks the hubs are built with (what they tell the
 * fleet, what they ask of it) over the bus and the mirror, and the handler that delivers
 * what other gateways send to this gateway's own sockets. The gateways never talk to each
 * other but through Redis (and the database).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Core } from '../core.js';
import { FleetBus, GATEWAY_PREFIX, OWN_PREFIX, type BusEvent, type GapReason } from './bus.js';
import { FleetMirror, type GatewayInfo, type Owned, type OwnKind } from './mirror.js';
import type { BoardFleet, CommandFleet, OperatorFleet, RemoteBoard, RoomFleet, SessionFleet, SignalFleet, UserFleet } from './hooks.js';
import { errorFrame, type SensorBatch } from '../../../firmware-protocol/index.js';

export interface FleetLinkOptions {
  url: string;
  gatewayId: string;
  log: Logger;
  /** Keys live this long without a heartbeat (a dead gateway's ghosts go after it). */
  ttlMs?: number;
  heartbeatMs?: number;
  history?: number;
}

const RELEASE = "local v = redis.call('GET', KEYS[1]) if v and cjson.decode(v).gw == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** Close code of a socket whose device connected again through another gateway. */
export const REPLACED_CLOSE = 4000;

export class FleetLink {
  readonly bus: FleetBus;
  readonly mirror: FleetMirror;
  readonly gatewayId: string;
  private readonly local = new Map<string, Owned>();
  private core: Core | null = null;
  private readonly ttlMs: number;
  private info: () => GatewayInfo = () => ({ gateway_id: this.gatewayId, address: null, urls: [], started_at: new Date().toISOString(), boards: 0, clients: 0, operators: 0, sensor_watchers: 0, health: 'ok', reason: null, version: '' });
  private beats = 0;
  private watchersNow = 0;
  /** Called when events were lost, with the reason (the fleet part tells clients and operators). */
  onGap: (reason: GapReason, detail: { gatewayId?: string; lost?: number }) => void = () => undefined;
  onState: (up: boolean, reason: string | null) => void = () => undefined;

  readonly rooms: RoomFleet;
  readonly signaling: SignalFleet;
  readonly boards: BoardFleet;
  readonly commands: CommandFleet;
  readonly users: UserFleet;
  readonly operators: OperatorFleet;
  readonly sessions: SessionFleet;
  private sessionChanged: (sessionId: string | null) => void = () => undefined;

  constructor(o: FleetLinkOptions) {
    this.gatewayId = o.gatewayId;
    this.ttlMs = o.ttlMs ?? 6000;
    this.mirror = new FleetMirror(o.gatewayId);
    this.bus = new FleetBus({
      url: o.url,
      gatewayId: o.gatewayId,
      log: o.log,
      history: o.history,
      heartbeatMs: o.heartbeatMs,
      onEvent: (e) => this.receive(e),
      onGap: (r, d) => {
        // Session events may be among the lost: the database has every open session's truth.
        this.sessionChanged(null);
        this.onGap(r, d);
      },
      onState: (up, reason) => this.onState(up, reason),
      onHeartbeat: (p) => this.heartbeat(p),
      onResync: () => this.resync(),
    });
    const mirror = this.mirror;
    const send = (kind: string, data: Record<string, unknown>) => this.bus.publish(kind, data);
    this.rooms = {
      joined: (m) => this.hold('room', m.deviceId, { room_id: m.roomId, identity: m.identity, presence: m.presence }),
      left: (m) => this.release('room', m.deviceId),
      remoteMembers: (roomId) => mirror.roomMembers(roomId),
      toRoom(roomId, except, text) {
        const n = mirror.roomMembers(roomId).filter((m) => m.deviceId !== except).length;
        if (n > 0) send('room.msg', { room_id: roomId, except, text });
        return n;
      },
      toDevice(deviceId, text, roomId) {
        const o = mirror.get('room', deviceId);
        if (!o || (roomId !== undefined && o.info.room_id !== roomId)) return false;
        send('dev.msg', { to: o.gw, kind: 'room', id: deviceId, text });
        return true;
      },
    };
    this.signaling = {
      registered: (id) => this.hold('sig', id, {}),
      unregistered: (id) => this.release('sig', id),
      toClient(id, text) {
        const o = mirror.get('sig', id);
        if (!o) return false;
        send('dev.msg', { to: o.gw, kind: 'sig', id, text });
        return true;
      },
      toAll(except, text) {
        const n = [...mirror.of('sig')].filter(([id]) => id !== except).length;
        if (n > 0) send('sig.all', { except, text });
        return n;
      },
      remoteIds: () => [...mirror.of('sig')].map(([id]) => id),
    };
    this.boards = {
      gatewayId: o.gatewayId,
      connected: (id, ip) => this.hold('board', id, { ip, status: null }),
      disconnected: (id) => this.release('board', id),
      status: (id, status) => {
        const mine = this.local.get(FleetMirror.key('board', id));
        if (mine) mine.info = { ...mine.info, status };
      },
      remote: (id) => remoteBoard(mirror.get('board', id)),
      remoteAll: () => [...mirror.of('board')].map(([id, b]) => [id, remoteBoard(b)!]),
    };
    this.commands = {
      push(deviceId, commandId) {
        const o = mirror.get('board', deviceId);
        if (!o) return false;
        send('cmd.push', { to: o.gw, device_id: deviceId, command_id: commandId });
        return true;
      },
    };
    this.users = {
      online: (id) => this.hold('user', id, {}),
      offline: (id) => this.release('user', id),
      notify(userId, frame) {
        const o = mirror.get('user', userId);
        if (!o) return false;
        send('user.notify', { to: o.gw, user_id: userId, frame });
        return true;
      },
    };
    this.sessions = {
      changed: (id) => send('session', { session_id: id }),
      onChange: (fn) => (this.sessionChanged = fn),
    };
    this.operators = {
      event: (topic, payload, at) => send('op.event', { topic, payload, at }),
      notifyAll(frame) {
        let n = 0;
        for (const g of mirror.gateways.values()) if (g.gateway_id !== o.gatewayId) n += g.operators;
        send('op.notify', { frame });
        return n;
      },
      sensor(batch) {
        if (mirror.sensorWanted()) send('op.sensor', { batch });
      },
      watchers: (n) => (this.watchersNow = n),
    };
  }

  /** The hubs to deliver to, once built (they were built with this link's hooks). */
  attach(core: Core, info: () => GatewayInfo): void {
    this.core = core;
    this.info = info;
  }

  start(): Promise<void> {
    return this.bus.start();
  }

  close(): Promise<void> {
    return this.bus.close();
  }

  selfInfo(): GatewayInfo {
    return this.info();
  }

  sensorWatchers(): number {
    return this.watchersNow;
  }

  /** Live gateways by their heartbeat keys (this one included). */
  async liveGateways(): Promise<GatewayInfo[]> {
    const keys = await scanAll(this.bus.cmd, GATEWAY_PREFIX + '*');
    if (keys.length === 0) return [];
    const vals = await this.bus.cmd.mget(...keys);
    return vals.flatMap((v) => (v ? [JSON.parse(v) as GatewayInfo] : []));
  }

  private hold(kind: OwnKind, id: string, info: Record<string, unknown>): void {
    // Wall-clock time on purpose: it orders claims made by different processes (the newer socket wins).
    const o: Owned = { gw: this.gatewayId, at: Date.now(), info };
    this.local.set(FleetMirror.key(kind, id), o);
    this.mirror.set(kind, id, o);
    this.bus.cmd.set(OWN_PREFIX + FleetMirror.key(kind, id), JSON.stringify(o), 'PX', this.ttlMs).catch(() => undefined);
    this.bus.publish('own', { kind, id, o });
  }

  private release(kind: OwnKind, id: string): void {
    const k = FleetMirror.key(kind, id);
    if (!this.local.delete(k)) return;
    this.mirror.drop(kind, id, this.gatewayId);
    // Only our own claim goes: a device that moved to another gateway keeps that one's key.
    this.bus.cmd.eval(RELEASE, 1, OWN_PREFIX + k, this.gatewayId).catch(() => undefined);
    this.bus.publish('disown', { kind, id });
  }

  private heartbeat(p: ReturnType<Redis['pipeline']>): void {
    p.set(GATEWAY_PREFIX + this.gatewayId, JSON.stringify(this.info()), 'PX', this.ttlMs);
    for (const [k, o] of this.local) p.set(OWN_PREFIX + k, JSON.stringify(o), 'PX', this.ttlMs);
    // Every few beats: who is alive, and the ghosts of those that are not.
    if (this.beats++ % 2 === 0) void this.refreshGateways().catch(() => undefined);
  }

  private async refreshGateways(): Promise<void> {
    const list = await this.liveGateways();
    this.mirror.gateways = new Map(list.map((g) => [g.gateway_id, g]));
    const live = new Set(this.mirror.gateways.keys());
    live.add(this.gatewayId);
    for (const [kind, id, o] of this.mirror.prune(live)) this.lost(kind, id, o);
  }

  /** After Redis answers again (and at start): our keys written anew, theirs read anew. */
  private async resync(): Promise<void> {
    const p = this.bus.cmd.pipeline();
    this.heartbeat(p);
    await p.exec();
    const keys = await scanAll(this.bus.cmd, OWN_PREFIX + '*');
    const vals = keys.length ? await this.bus.cmd.mget(...keys) : [];
    const before = new Map(this.mirror.owned);
    this.mirror.owned.clear();
    for (const [k, o] of this.local) this.mirror.owned.set(k, o);
    keys.forEach((key, i) => {
      const v = vals[i];
      if (!v) return;
      const o = JSON.parse(v) as Owned;
      if (o.gw !== this.gatewayId) this.mirror.owned.set(key.slice(OWN_PREFIX.length), o);
    });
    // Presence of what changed while we could not hear.
    for (const [k, o] of this.mirror.owned) if (!before.has(k) && o.gw !== this.gatewayId) this.gained(k, o);
    for (const [k, o] of before) if (!this.mirror.owned.has(k) && o.gw !== this.gatewayId) this.lost(...splitKey(k), o);
    await this.refreshGateways();
    this.sessionChanged(null);
  }

  private gained(k: string, o: Owned): void {
    const [kind, id] = splitKey(k);
    if (kind === 'room') this.core?.rooms.presence(String(o.info.room_id), 'join', { deviceId: id, identity: String(o.info.identity ?? '') });
  }

  private lost(kind: OwnKind, id: string, o: Owned): void {
    if (kind === 'room') this.core?.rooms.presence(String(o.info.room_id), 'leave', { deviceId: id, identity: String(o.info.identity ?? '') });
  }

  /**
   * A direct message for a room device that left this gateway while the message was on its
   * way: the sender heard "sent" from its own gateway, so it is told now, as it would have
   * been had the target been gone a moment earlier (TARGET_NOT_FOUND).
   */
  private undelivered(target: string, text: string): void {
    let f: { type?: unknown; from_device_id?: unknown; message_type?: unknown };
    try {
      f = JSON.parse(text) as typeof f;
    } catch {
      return;
    }
    if (f.type !== 'message' || f.message_type !== 'direct' || typeof f.from_device_id !== 'string') return;
    const o = this.mirror.get('room', f.from_device_id);
    const error = JSON.stringify(errorFrame('TARGET_NOT_FOUND', LEFT(target)));
    if (o) this.bus.publish('dev.msg', { to: o.gw, kind: 'room', id: f.from_device_id, text: error });
    else this.core?.rooms.member(f.from_device_id)?.peer.sendText(error);
  }

  private receive(e: BusEvent): void {
    const core = this.core;
    if (!core) return;
    const d = e.data;
    if (typeof d.to === 'string' && d.to !== this.gatewayId) return;
    switch (e.kind) {
      case 'own': {
        const kind = d.kind as OwnKind;
        const id = String(d.id);
        const o = d.o as Owned;
        const before = this.mirror.set(kind, id, o);
        const mine = this.local.get(FleetMirror.key(kind, id));
        // The device connected again through another gateway: the newer socket wins.
        if (mine && mine.at <= o.at) {
          this.local.delete(FleetMirror.key(kind, id));
          const why = 'replaced by a newer connection through another gateway';
          if (kind === 'room') core.rooms.closeDevice(id, REPLACED_CLOSE, why);
          else if (kind === 'sig') core.signaling.closeClient(id, REPLACED_CLOSE, why);
          else if (kind === 'board') core.boards.closeDevice(id, REPLACED_CLOSE, why);
        }
        if (kind === 'room' && (before?.gw !== o.gw || before.info.room_id !== o.info.room_id)) this.gained(FleetMirror.key(kind, id), o);
        return;
      }
      case 'disown': {
        const o = this.mirror.drop(d.kind as OwnKind, String(d.id), e.gw);
        if (o) this.lost(d.kind as OwnKind, String(d.id), o);
        return;
      }
      case 'room.msg':
        core.rooms.deliverLocal(String(d.room_id), String(d.except), String(d.text));
        return;
      case 'dev.msg':
        if (d.kind === 'room') {
          const m = core.rooms.member(String(d.id));
          if (m) m.peer.sendText(String(d.text));
          else this.undelivered(String(d.id), String(d.text));
        } else core.signaling.deliverLocal(String(d.text), String(d.id));
        return;
      case 'sig.all':
        core.signaling.deliverLocal(String(d.text), undefined, String(d.except));
        return;
      case 'cmd.push':
        void core.commands.pushStored(String(d.command_id)).catch(() => undefined);
        return;
      case 'user.notify':
        void core.users.notify(String(d.user_id), d.frame as Record<string, unknown>).catch(() => undefined);
        return;
      case 'session':
        this.sessionChanged(String(d.session_id));
        return;
      case 'op.event':
        core.operators.publishLocal(String(d.topic), { ...(d.payload as Record<string, unknown>), gateway_id: e.gw }, String(d.at));
        return;
      case 'op.notify':
        core.operators.notifyAllLocal(d.frame as Record<string, unknown>);
        return;
      case 'op.sensor':
        core.operators.pushSensorLocal(d.batch as SensorBatch);
        return;
    }
  }
}

/** Keeps the mirror's word: a device another gateway said it holds, gone when the message came. */
const LEFT = (id: string) => `target ${id} left before the message reached it`;

function splitKey(k: string): [OwnKind, string] {
  const at = k.indexOf(':');
  return [k.slice(0, at) as OwnKind, k.slice(at + 1)];
}

function remoteBoard(o: Owned | undefined): RemoteBoard | undefined {
  if (!o) return undefined;
  return { gatewayId: o.gw, ip: typeof o.info.ip === 'string' ? o.info.ip : null, connectedAt: o.at, status: (o.info.status ?? null) as Record<string, unknown> | null };
}

async function scanAll(r: Redis, match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', match, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}
