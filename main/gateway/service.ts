/**
 * What operators can ask and do, shared by the operator WebSocket and the HTTP
 * API so both answer the same thing in the same shape.
 */
import type { DeviceInfo, RoomDetail, StoredMessage, SystemStatus } from '../../firmware-protocol/index.js';
import type { Core } from './core.js';
import type { DiscoveredService } from './discovery/browse.js';
import { VERSION } from './version.js';
import { storedContent } from './rooms.js';

/** What the views read beyond the core: the LAN (discovery's hook) and the parts' status. */
export interface GatewayView {
  readonly core: Core;
  lanDevices(): DiscoveredService[];
  partStatus(): Record<string, unknown>;
  /** The parts plugged in, in start order. */
  partNames(): string[];
  /** Every operator request type the gateway answers. */
  requestTypes(): string[];
}

export function systemStatus(view: GatewayView): SystemStatus {
  const ctx = view.core;
  const m = ctx.metrics;
  return {
    version: VERSION,
    uptime_s: Math.round((Date.now() - m.startedAt) / 1000),
    database: { kind: ctx.store.kind, description: ctx.store.description },
    data_dir: ctx.options.dataDir,
    device_auth: ctx.options.deviceAuth,
    connections: connectionCounts(ctx),
    rooms: ctx.rooms.activeRooms().length,
    boards_online: ctx.boards.onlineCount(),
    boards_known: ctx.boards.list().length,
    devices_on_lan: view.lanDevices().length,
    commands_pending: ctx.commands.pendingCount(),
    totals: {
      frames_in: m.framesIn,
      frames_out: m.framesOut,
      room_messages: m.messagesRelayed,
      signals: m.signalsRelayed,
      sensor_frames: m.sensorFrames,
      sensor_samples: m.sensorSamples,
      store_errors: m.storeErrors,
    },
    urls: ctx.urls(),
    board_addresses: ctx.addresses(),
    parts: view.partNames(),
    requests: view.requestTypes(),
    // Each part's own fields (sessions_open, ingest, usb, discovery), typed by the schema's optional members.
    ...(view.partStatus() as Partial<SystemStatus>),
  };
}

export function connectionCounts(ctx: Core): SystemStatus['connections'] {
  return {
    room: ctx.rooms.connectionCount(),
    signaling: ctx.signaling.count(),
    board: ctx.boards.onlineCount(),
    user: ctx.users.count(),
    operator: ctx.operators.count(),
  };
}

export function roomsList(ctx: Core) {
  return ctx.rooms.activeRooms().map(({ roomId, members }) => ({
    room_id: roomId,
    total_clients: members.length,
    members: members.map((m) => ({ device_id: m.deviceId, identity: m.identity, joined_at: new Date(m.joinedAt).toISOString(), presence: m.presence })),
  }));
}

export async function roomDetail(ctx: Core, roomId: string): Promise<RoomDetail | null> {
  const id = roomId.trim().toUpperCase();
  const members = ctx.rooms.membersOf(id);
  if (members.length === 0 && !(await ctx.store.roomExists(id))) return null;
  const messages = await ctx.store.listMessages({ roomId: id, limit: 100 });
  return {
    room_id: id,
    total_clients: members.length,
    members: members.map((m) => ({ device_id: m.deviceId, identity: m.identity, joined_at: new Date(m.joinedAt).toISOString() })),
    messages: messages.map(messageJson),
    queries: await ctx.store.countRoomQueries(id),
  };
}

export function messageJson(m: Awaited<ReturnType<Core['store']['listMessages']>>[number]): StoredMessage {
  return {
    id: m.id,
    room_id: m.roomId,
    from_device_id: m.fromDeviceId,
    to_device_id: m.toDeviceId,
    message_type: m.messageType,
    content: storedContent(m),
    sent_at: m.sentAt.toISOString(),
    status: m.status,
    delivered_at: m.deliveredAt?.toISOString() ?? null,
  };
}

/** The badminton protocol's HTTP command names (start, stop) map onto the board commands. */
export function boardCommandName(command: string): string {
  if (command === 'start') return 'start_collection';
  if (command === 'stop') return 'stop_collection';
  return command;
}

export async function broadcastToBoards(ctx: Core, command: string, params: unknown) {
  const ids: string[] = [];
  for (const b of ctx.boards.connected()) ids.push((await ctx.commands.send(b.deviceId, command, params)).commandId);
  return ids;
}

export async function mintDeviceToken(ctx: Core, deviceId: string, label: string | null) {
  const token = await ctx.tokens.mint(deviceId, label);
  ctx.log.info('device token created', { device_id: deviceId });
  return { device_id: deviceId, token };
}

export async function deviceTokens(ctx: Core) {
  return (await ctx.store.listDeviceTokens()).map((t) => ({
    device_id: t.deviceId,
    label: t.label,
    created_at: t.createdAt.toISOString(),
    revoked_at: t.revokedAt?.toISOString() ?? null,
  }));
}

/** An operator message into a room, from "operator", as a broadcast or a direct message. */
export async function operatorRoomMessage(ctx: Core, roomId: string, content: unknown, target?: string) {
  const id = roomId.trim().toUpperCase();
  if (ctx.rooms.membersOf(id).length === 0) return null;
  if (!target) return { recipients: ctx.rooms.broadcast(id, 'operator', content) };
  const r = await ctx.rooms.direct(id, 'operator', target, content, false);
  return r.kind === 'sent' ? { recipients: 1 } : { recipients: 0 };
}

/**
 * The device list operators see: every board the gateway knows (socket,
 * heartbeat, status), merged with what mDNS sees on the LAN by device id.
 * Each source keeps its own age; `online` is the socket alone, so a stale
 * mDNS record never shows a dead board as online.
 */
export function deviceList(view: GatewayView): DeviceInfo[] {
  const ctx = view.core;
  const now = ctx.clock.now();
  const lan = view.lanDevices();
  const byId = new Map<string, typeof lan>();
  for (const d of lan) byId.set(d.deviceId, [...(byId.get(d.deviceId) ?? []), d]);
  const mdnsJson = (ds: typeof lan | undefined) =>
    ds?.length
      ? ds.map((d) => ({ name: d.name, service_type: d.serviceType, host: d.host, addresses: d.addresses, port: d.port, txt: d.txt, last_seen_age_ms: Math.max(0, now - d.lastSeen) }))
      : null;
  // Each board's object is fresh from list(): the two fields are added to it, not to a copy
  // (a spread per board was a third of the request's time at 2,000 boards). Same keys, same order.
  const boards = ctx.boards.list().map((b) => {
    const m = byId.get(b.device_id);
    byId.delete(b.device_id);
    const d = b as typeof b & { source: 'connected' | 'known'; mdns: ReturnType<typeof mdnsJson> };
    d.source = b.online ? 'connected' : 'known';
    d.mdns = mdnsJson(m);
    return d;
  });
  const lanOnly = [...byId].map(([id, ds]) => ({
    device_id: id,
    online: false,
    source: 'lan' as const,
    ip: ds[0]!.addresses[0] ?? null,
    connected_at: null,
    disconnected_at: null,
    last_seen_at: new Date(Math.max(...ds.map((d) => d.lastSeen))).toISOString(),
    last_seen_age_ms: Math.max(0, now - Math.max(...ds.map((d) => d.lastSeen))),
    last_heartbeat_at: null,
    last_heartbeat_age_ms: null,
    status: ds[0]!.txt.fw ? { firmware: ds[0]!.txt.fw, board: ds[0]!.txt.board ?? null, mac: ds[0]!.txt.mac ?? null } : null,
    status_at: null,
    mdns: mdnsJson(ds),
  }));
  return [...boards, ...lanOnly];
}
