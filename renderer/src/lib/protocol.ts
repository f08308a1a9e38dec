/**
 * The shapes the UI reads from the gateway: the operator endpoint's replies
 * and events (PROTOCOL.md, "Operators"), written out as plain types so the
 * renderer bundle carries no schema library. Sessions and USB come from the
 * firmware-protocol schemas as types only (erased at build time).
 */
import type { SessionJson } from '../../../firmware-protocol/sessions.js';

export type { SessionJson };
export type SessionState = SessionJson['state'];

export interface SystemStatus {
  version: string;
  uptime_s: number;
  database: { kind: string; description: string };
  device_auth: 'open' | 'token';
  connections: Record<string, number>;
  rooms: number;
  boards_online: number;
  boards_known: number;
  commands_pending: number;
  totals: {
    frames_in: number;
    frames_out: number;
    room_messages: number;
    signals: number;
    sensor_frames: number;
    sensor_samples: number;
    store_errors: number;
  };
  urls: { board: string[]; operator: string[] };
  /** Extensions add fields (sessions, usb, discovery, data_dir...). */
  [extra: string]: unknown;
}

export interface BoardStatus {
  battery?: number;
  rssi?: number;
  firmware?: string;
  state?: string;
  session_id?: string | null;
  [k: string]: unknown;
}

export interface DeviceInfo {
  device_id: string;
  online: boolean;
  ip: string | null;
  connected_at: string | null;
  disconnected_at: string | null;
  last_seen_at: string | null;
  last_seen_age_ms: number | null;
  last_heartbeat_at: string | null;
  last_heartbeat_age_ms: number | null;
  status: BoardStatus | null;
  status_at: string | null;
}

export interface RoomMember {
  device_id: string;
  identity: string;
  joined_at: string;
  presence?: boolean;
}

export interface RoomSummary {
  room_id: string;
  total_clients: number;
  members: RoomMember[];
}

export interface StoredMessage {
  id: number;
  room_id: string | null;
  from_device_id: string;
  to_device_id: string | null;
  message_type: 'broadcast' | 'direct';
  content: unknown;
  sent_at: string;
  status?: string;
  delivered_at?: string | null;
}

export interface RoomDetail extends RoomSummary {
  messages: StoredMessage[];
  queries: number;
}

export interface DeviceToken {
  device_id: string;
  label: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** A board found on the LAN by mDNS (the gateway's discovery part). */
export interface DiscoveredDevice {
  device_id: string;
  name?: string;
  host?: string;
  addresses?: string[];
  port?: number;
  service_type?: string;
  txt?: Record<string, string>;
  first_seen?: string | number;
  last_seen?: string | number;
  interface?: string;
}

export type { SensorBatch } from '../../../firmware-protocol/operator.js';

export interface EventFrame {
  type: 'event';
  topic: string;
  at: string;
  event: string;
  [field: string]: unknown;
}

export interface NotificationFrame {
  type: 'system_notification';
  message: string;
  level: 'info' | 'warning' | 'error';
  timestamp: string;
}

type NoFields = Record<string, never>;

/**
 * Request type -> [fields sent, reply body]. Parts whose requests are not
 * listed here (USB, discovery) go through `client.requestAny` and their stores
 * read the replies defensively.
 */
export interface RequestMap {
  get_system_status: [NoFields, SystemStatus];
  get_device_list: [NoFields, { devices: DeviceInfo[] }];
  get_rooms: [NoFields, { rooms: RoomSummary[]; signaling_clients: string[] }];
  get_room: [{ room_id: string }, RoomDetail];
  get_messages: [{ room_id?: string; limit?: number }, { messages: StoredMessage[] }];
  subscribe: [{ topics: string[] }, { topics: string[] }];
  unsubscribe: [{ topics: string[] }, { topics: string[] }];
  send_command: [{ device_id: string; command: string; params?: unknown }, { command_id: string; device_id: string; pushed: boolean }];
  broadcast_devices: [{ command: string; params?: unknown }, { command_ids: string[]; devices: number }];
  send_room_message: [{ room_id: string; content: unknown; target_device_id?: string }, { recipients: number }];
  system_notification: [{ message: string; level?: 'info' | 'warning' | 'error' }, { operators: number }];
  create_device_token: [{ device_id: string; label?: string }, { device_id: string; token: string }];
  list_device_tokens: [NoFields, { tokens: DeviceToken[] }];
  revoke_device_token: [{ device_id: string }, { device_id: string; revoked: number }];
  create_session: [
    { boards: string[]; player_id?: string; court?: string; room_id?: string; notes?: string; sample_rate_hz?: number },
    SessionReply,
  ];
  start_session: [{ session_id: string }, SessionReply];
  stop_session: [{ session_id: string }, SessionReply];
  get_session: [{ session_id: string }, SessionReply & { strokes?: unknown[] }];
  list_sessions: [{ search?: string; state?: SessionState; limit?: number }, { sessions: SessionJson[] }];
}

/** A session reply carries the session object, either as `session` or spread in the reply. */
export type SessionReply = { session?: SessionJson } & Partial<SessionJson>;

export function sessionOf(reply: SessionReply): SessionJson {
  return (reply.session ?? reply) as SessionJson;
}
