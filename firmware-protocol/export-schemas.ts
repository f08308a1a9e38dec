/**
 * Writes every frame's schema as a JSON Schema (draft 2020-12) file under
 * firmware-protocol/schemas/, plus schemas/index.json listing them, so
 * firmware and app authors in any language can validate frames without
 * TypeScript.
 *
 *   node --import tsx firmware-protocol/export-schemas.ts            write the files
 *   node --import tsx firmware-protocol/export-schemas.ts --check    exit 1 and name the files that are out of date
 *   ... --dir <folder>                                               another output folder (tests)
 *
 * This is a build script, not part of the contract module: nothing imports it
 * at run time, so it may use node:fs while the rest of firmware-protocol/ stays
 * free of I/O.
 *
 * Layout: `<endpoint>/<type>.json` is a frame a client sends, `<endpoint>/server/<type>.json`
 * one the gateway sends, `error.json` the error frame of every endpoint.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import {
  BoardFrames,
  FrameErrorCodes,
  GatewayToBoardFrames,
  IdentityFrame,
  OperatorFrames,
  PROTOCOL_VERSION,
  Paths,
  QueryRoomFrame,
  RegisterFrame,
  RoomMessageFrame,
  ServerRoomFrames,
  SignalFrame,
  UserFrames,
  ResendFrame,
  SessionJson,
  SessionOperatorFrames,
  UsbFrames,
} from './index.js';
import { UsbErrorCodes } from '../main/gateway/usb/errors.js';
import { DiscoveryOperatorFrames, ProbeAnswerFrame, ProbeFrame, PROBE_ANSWER_TYPE, PROBE_MAX_BYTES, PROBE_PORT, PROBE_TYPE } from './discovery.js';
export { DiscoveryOperatorFrames };

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
export const DEFAULT_SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'schemas');

export type Endpoint = 'legacy' | 'esp32' | 'user' | 'operator' | 'discovery';
export type Direction = 'client-to-gateway' | 'gateway-to-client';

export interface SchemaEntry {
  /** Path under schemas/, with forward slashes: `esp32/heartbeat.json`. */
  file: string;
  endpoint: Endpoint | null;
  direction: Direction;
  /** The frame's `type` (for legacy: `identity` and `signal` name frames whose type is absent or free). */
  type: string;
  schema: TSchema;
  /** One line for readers of the JSON file. */
  description: string;
}

const WHERE: Record<Endpoint, string> = {
  legacy: `${Paths.legacy} (seed 000 rooms, seed 004 signaling)`,
  esp32: `${Paths.board}{device_code}/`,
  user: `${Paths.user}{user_id}/`,
  operator: `${Paths.operator} (operator token)`,
  discovery: `UDP port ${PROBE_PORT} (discovery probe)`,
};

// ---------------------------------------------------------------------------
// Frames the gateway sends on /ws/miniprogram/ and /ws/admin/ (USB replies
// included), and the discovery part's operator requests. The endpoint code
// builds them inline and firmware-protocol/user.ts, operator.ts, usb.ts and
// discovery.ts have no schemas for them yet, so they are described here; test/protocol checks them against a
// live gateway so they cannot drift. They belong in those files once they are
// next edited.
// ---------------------------------------------------------------------------

const Str = Type.String();
const Int = Type.Integer();
const Iso = Type.String({ description: 'ISO 8601, UTC' });
const IsoOrNull = Type.Union([Iso, Type.Null()]);
const StrOrNull = Type.Union([Type.String(), Type.Null()]);
const ServerTime = Type.Number({ description: 'Gateway clock, ms since epoch' });
const EchoId = Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'The request\'s id, when it had one.' }));

/** Sent to the session's player and to every operator when a session's analysis is done. */
const AnalysisCompleteNotification = Type.Object(
  {
    type: Type.Literal('analysis_complete_notification'),
    session_id: Str,
    player_id: StrOrNull,
    summary: Type.Unknown({ description: 'The session\'s analysis summary (as in the session object).' }),
    completed_at: Iso,
  },
  { description: 'A session finished its analysis.' },
);

const UserServerFrames = {
  connection_established: Type.Object({ type: Type.Literal('connection_established'), user_id: Str, server_time: ServerTime }),
  pong: Type.Object({ type: Type.Literal('pong'), server_time: ServerTime }),
  session_status: Type.Object({
    type: Type.Literal('session_status'),
    user_id: Str,
    session: Type.Union([SessionJson, Type.Null()], { description: 'The session asked for, else the player\'s newest (an open one first); null when there is none.' }),
  }),
  analysis_complete_notification: AnalysisCompleteNotification,
} as const;



function reply<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: EchoId, ...props });
}

/** A service seen over mDNS, as the device list shows it. */
const MdnsRecord = Type.Object({
  name: Type.String({ description: 'DNS-SD instance name.' }),
  service_type: Type.String({ description: 'e.g. `_courtside-dev._tcp`.' }),
  host: Str,
  addresses: Type.Array(Str),
  port: Int,
  txt: Type.Record(Type.String(), Type.String()),
  last_seen_age_ms: Type.Number(),
});

const BoardDescription = Type.Object({
  device_id: Str,
  online: Type.Boolean({ description: 'Connected now (the socket alone decides).' }),
  source: Type.Union([Type.Literal('connected'), Type.Literal('known'), Type.Literal('lan')], {
    description: 'connected: online now; known: has connected before; lan: only seen over mDNS.',
  }),
  ip: StrOrNull,
  connected_at: IsoOrNull,
  disconnected_at: IsoOrNull,
  last_seen_at: IsoOrNull,
  last_seen_age_ms: Type.Union([Type.Number(), Type.Null()]),
  last_heartbeat_at: IsoOrNull,
  last_heartbeat_age_ms: Type.Union([Type.Number(), Type.Null()]),
  status: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  status_at: IsoOrNull,
  mdns: Type.Union([Type.Array(MdnsRecord), Type.Null()], { description: 'What mDNS sees of this device id; null when nothing (or discovery is off).' }),
});

const StoredMessage = Type.Object({
  id: Int,
  room_id: StrOrNull,
  from_device_id: Str,
  to_device_id: StrOrNull,
  message_type: Type.Union([Type.Literal('broadcast'), Type.Literal('direct')]),
  content: Type.String({ description: 'As stored: text as sent, other JSON values serialized.' }),
  sent_at: Iso,
  status: Str,
  delivered_at: IsoOrNull,
});

const SensorBatch = Type.Object({
  device_id: Str,
  seq: Type.Union([Type.Integer(), Type.Null()]),
  session_id: StrOrNull,
  start_ms: Type.Number(),
  rate_hz: Type.Number({ description: '0 for a single sensor_data sample.' }),
  samples: Type.Array(Type.Array(Type.Number(), { minItems: 6, maxItems: 6 })),
});

const Counts = (keys: string[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Int])));

/** A stroke of a complete session (get_session). */
const Stroke = Type.Object({
  device_id: Str,
  index: Int,
  t_ms: Type.Number({ description: 'Time of the stroke, on the board\'s sample clock (ms).' }),
  type: Type.String({ description: 'clear, drive, lift or smash.' }),
  confidence: Type.Number(),
  peak_dps: Type.Number(),
  speed_kmh: Type.Number(),
  peak_g: Type.Number(),
  saturated: Type.Boolean(),
});

/** A service seen on the LAN (get_discovered, `discovery` events). */
const DiscoveredDevice = Type.Object({
  device_id: Type.String({ description: 'TXT `id`, else the instance name.' }),
  name: Str,
  host: Str,
  addresses: Type.Array(Str),
  port: Int,
  service_type: Str,
  txt: Type.Record(Type.String(), Type.String()),
  interface: Str,
  first_seen: Iso,
  last_seen: Iso,
  last_seen_age_ms: Type.Number(),
});

// USB provisioning replies (main/gateway/usb/manager.ts builds them).

const SerialPortInfo = Type.Object({
  path: Type.String({ description: 'What to pass as `port`: /dev/ttyUSB0, /dev/cu.usbserial-0001, COM3.' }),
  vendor_id: Type.Union([Str, Type.Null()], { description: 'USB vendor id, 4 lower-case hex digits.' }),
  product_id: StrOrNull,
  serial_number: StrOrNull,
  manufacturer: StrOrNull,
  product: StrOrNull,
  location: Type.Union([Str, Type.Null()], { description: 'USB topology (`1-1.3`): tells hub ports apart.' }),
  by_id: Type.Union([Str, Type.Null()], { description: 'Stable name under /dev/serial/by-id.' }),
  hint: Type.Union([Str, Type.Null()], { description: 'CP210x, CH340, FTDI, Espressif native USB, virtual...' }),
  source: Type.Union([Type.Literal('os'), Type.Literal('sysfs'), Type.Literal('extra')]),
});

const BoardInfo = Type.Object({
  port: Str,
  chip: Type.String({ description: 'ESP32, ESP32-S3, ...' }),
  description: Str,
  features: Type.Array(Str),
  mac: Str,
  crystal_mhz: Type.Number(),
  flash_id: StrOrNull,
  flash_size: Type.Union([Int, Type.Null()], { description: 'Bytes; null when the flash chip did not say.' }),
  stub: Type.Boolean({ description: 'The flasher stub ran (false: ROM loader only).' }),
  reset_lines: Type.Boolean({ description: 'The port has DTR/RTS, so the gateway can reset the board.' }),
});

const WriteProgress = Type.Object({ bytes: Int, total: Int, percent: Type.Number(), rate_bps: Type.Number(), file_index: Int, files: Int });
const UsbErrorJson = Type.Object({ code: Str, message: Str });

const UsbJob = Type.Object({
  id: Type.String({ description: 'The job id: usb_job, usb_cancel, and job_id of its usb events.' }),
  kind: Type.Union([Type.Literal('flash'), Type.Literal('provision'), Type.Literal('board_info')]),
  port: Str,
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed'), Type.Literal('cancelled')]),
  started_at: Iso,
  finished_at: IsoOrNull,
  info: Type.Union([BoardInfo, Type.Null()]),
  progress: Type.Union([WriteProgress, Type.Null()]),
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'flash: bytes, seconds, reset, images; provision: device_id, token_minted, partition, reset.' }),
  error: Type.Union([UsbErrorJson, Type.Null()], { description: 'A USB error code and its message.' }),
});

const BulkRow = Type.Object({
  port: Str,
  mac: StrOrNull,
  chip: StrOrNull,
  device_id: StrOrNull,
  result: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
  error_code: StrOrNull,
  error: StrOrNull,
  finished_at: Iso,
});

const BulkStatus = Type.Object(
  {
    state: Type.Union([Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped')]),
    current: Type.Optional(Type.Union([Str, Type.Null()], { description: 'The port being provisioned now.' })),
    queued: Type.Optional(Type.Array(Str)),
    done: Type.Optional(Int),
    ok: Type.Optional(Int),
    failed: Type.Optional(Int),
    next_id: Type.Optional(Type.String({ description: 'The next id to try; when a board comes, ids that already have a live token are skipped.' })),
    rows: Type.Optional(Type.Array(BulkRow, { description: 'usb_bulk_status only: one row per board.' })),
  },
  { description: 'Only `state` (and `rows`) before bulk mode first ran.' },
);

const OperatorServerFrames = {
  connection_established: Type.Object({ type: Type.Literal('connection_established'), role: Type.Literal('operator'), server_time: ServerTime }),
  system_status: reply('system_status', {
    version: Str,
    uptime_s: Type.Number(),
    database: Type.Object({ kind: Str, description: Str }),
    data_dir: Type.String({ description: 'The data folder: database (SQLite), operator token, uploaded firmware, saved settings.' }),
    device_auth: Type.Union([Type.Literal('open'), Type.Literal('token')]),
    connections: Counts(['room', 'signaling', 'board', 'user', 'operator']),
    rooms: Int,
    boards_online: Int,
    boards_known: Int,
    devices_on_lan: Type.Integer({ description: 'Services seen over mDNS (0 with discovery off).' }),
    commands_pending: Int,
    totals: Counts(['frames_in', 'frames_out', 'room_messages', 'signals', 'sensor_frames', 'sensor_samples', 'store_errors']),
    urls: Type.Object({ board: Type.Array(Str), operator: Type.Array(Str) }),
    sessions_open: Type.Optional(Type.Integer({ description: 'Sessions part: sessions not yet complete or failed.' })),
    ingest: Type.Optional(
      Type.Object(
        { queued: Int, written: Int, duplicates: Int, failed_writes: Int, pressured: Type.Boolean() },
        { description: 'Sessions part: the sample write queue.' },
      ),
    ),
    discovery: Type.Optional(
      Type.Object(
        { gateway_id: Str, mdns: Type.Integer({ description: 'Interfaces with mDNS running.' }), probe_port: Type.Union([Int, Type.Null()]), discovered: Int },
        { description: 'Discovery part (off in `courtside serve` with --no-mdns and --udp-probe-port 0).' },
      ),
    ),
    usb: Type.Optional(
      Type.Object(
        { jobs_running: Int, monitors: Type.Array(Str, { description: 'Ports with a serial monitor.' }), bulk: Type.Union([Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped')]) },
        { description: 'USB provisioning part.' },
      ),
    ),
  }),
  device_list: reply('device_list', { devices: Type.Array(BoardDescription) }),
  rooms: reply('rooms', {
    rooms: Type.Array(
      Type.Object({
        room_id: Str,
        total_clients: Int,
        members: Type.Array(Type.Object({ device_id: Str, identity: Str, joined_at: Iso, presence: Type.Boolean() })),
      }),
    ),
    signaling_clients: Type.Array(Str),
  }),
  room_detail: reply('room_detail', {
    room_id: Str,
    total_clients: Int,
    members: Type.Array(Type.Object({ device_id: Str, identity: Str, joined_at: Iso })),
    messages: Type.Array(StoredMessage),
    queries: Int,
  }),
  messages: reply('messages', { messages: Type.Array(StoredMessage) }),
  subscribed: reply('subscribed', { topics: Type.Array(Str, { description: 'Every topic the operator is now subscribed to.' }) }),
  unsubscribed: reply('unsubscribed', { topics: Type.Array(Str, { description: 'The topics left.' }) }),
  command_queued: reply('command_queued', { command_id: Str, device_id: Str, pushed: Type.Boolean({ description: 'Sent to the board at once (it is connected).' }) }),
  broadcast_sent: reply('broadcast_sent', { command_ids: Type.Array(Str), devices: Int }),
  room_message_sent: reply('room_message_sent', { recipients: Int }),
  notification_sent: reply('notification_sent', { operators: Int }),
  user_notified: reply('user_notified', { user_id: Str, delivered: Type.Boolean(), queued: Type.Boolean() }),
  device_token: reply('device_token', { device_id: Str, token: Type.String({ description: 'Shown once; only its hash is stored.' }) }),
  device_tokens: reply('device_tokens', { tokens: Type.Array(Type.Object({ device_id: Str, label: StrOrNull, created_at: Iso, revoked_at: IsoOrNull })) }),
  device_token_revoked: reply('device_token_revoked', { device_id: Str, revoked: Int }),
  event: Type.Object(
    { type: Type.Literal('event'), topic: Str, at: Iso, event: Type.Optional(Str) },
    {
      description:
        'A live event on a subscribed topic; the other fields depend on topic and event. sessions: state and progress, with `session` (the session object); ' +
        'discovery: added, updated, removed (with `reason`), with `device`; devices, rooms, messages, commands, usb: see PROTOCOL.md.',
    },
  ),
  sensor_samples: Type.Object({ type: Type.Literal('sensor_samples'), batches: Type.Array(SensorBatch) }),
  system_notification: Type.Object({
    type: Type.Literal('system_notification'),
    message: Str,
    level: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
    timestamp: Iso,
  }),
  session: reply('session', {
    session: SessionJson,
    strokes: Type.Optional(Type.Array(Stroke, { description: 'get_session only: the strokes once the session is complete, else empty.' })),
  }),
  sessions: reply('sessions', { sessions: Type.Array(SessionJson, { description: 'Newest first.' }) }),
  discovered: reply('discovered', {
    gateway_id: Type.String({ description: 'This gateway\'s id (mDNS TXT `id`, `gateway_id` of probe answers).' }),
    devices: Type.Array(DiscoveredDevice),
    links: Type.Array(Type.Object({ name: Str, addresses: Type.Array(Str) }), { description: 'Interfaces discovery runs on.' }),
    mdns: Type.Array(Type.Object({ interface: Str, address: Str }), { description: 'Interfaces with an mDNS socket open.' }),
    probe_port: Type.Union([Int, Type.Null()], { description: 'UDP probe port, null when the responder is off.' }),
    probes: Type.Union(
      [Type.Object({ received: Int, answered: Int, malformed: Int, rate_limited: Int, ignored: Int }), Type.Null()],
      { description: 'Probe counters; null when discovery has not started.' },
    ),
  }),
  analysis_complete_notification: AnalysisCompleteNotification,
  discovery_settings: reply('discovery_settings', {
    interfaces: Type.Array(Type.Object({ name: Str, address: Str, selected: Type.Boolean() }), { description: 'Non-internal IPv4 interfaces of the gateway\'s machine.' }),
    chosen: Type.Array(Str, { description: 'The choice in force; [] means every interface.' }),
    mdns: Type.Boolean(),
    udp_probe_port: Type.Union([Int, Type.Null()], { description: 'null when the probe responder is off.' }),
  }),
  usb_ports: reply('usb_ports', { ports: Type.Array(SerialPortInfo) }),
  usb_firmware: reply('usb_firmware', {
    firmware: Type.Array(
      Type.Object({
        id: Type.String({ description: 'sha256 of the image: firmware_id of usb_flash.' }),
        name: StrOrNull,
        size: Int,
        uploaded_at: Iso,
        chip: Type.Union([Str, Type.Null()], { description: 'The chip the image header names.' }),
      }),
    ),
  }),
  usb_board_info: reply('usb_board_info', { info: BoardInfo }),
  usb_job: reply('usb_job', { job: UsbJob }),
  usb_jobs: reply('usb_jobs', { jobs: Type.Array(UsbJob, { description: 'The last 100 jobs, oldest first.' }) }),
  usb_improv: reply('usb_improv', {
    port: Str,
    state: Type.Optional(Type.String({ description: 'authorization_required, authorized, provisioning, provisioned.' })),
    code: Type.Optional(Type.Integer({ description: 'usb_improv_state: the Improv state byte.' })),
    url: Type.Optional(Type.Union([Str, Type.Null()], { description: 'The URL a provisioned board reports, if any.' })),
    info: Type.Optional(Type.Object({ firmware: Str, version: Str, chip: Str, name: Str, os_name: StrOrNull, os_version: StrOrNull })),
    networks: Type.Optional(Type.Array(Type.Object({ ssid: Str, rssi: Type.Number(), secured: Type.Boolean() }))),
  }),
  usb_monitor: reply('usb_monitor', { port: Str, running: Type.Boolean() }),
  usb_reset: reply('usb_reset', { port: Str, mode: Type.Union([Type.Literal('run'), Type.Literal('bootloader')]) }),
  usb_bulk: reply('usb_bulk', { bulk: BulkStatus }),
} as const;

/** A forwarded seed 004 signal: the sender's frame without target_id, with `from`. */
const ForwardedSignal = Type.Object(
  { type: Type.String({ minLength: 1 }), from: Type.String({ description: 'client_id of the sender.' }) },
  { additionalProperties: true },
);

export const ErrorFrameSchema = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(
    [...Object.keys(FrameErrorCodes), ...Object.keys(UsbErrorCodes).filter((c) => !(c in FrameErrorCodes))].map((c) => Type.Literal(c)),
    { description: 'Stable; match on this, not on message. The USB codes (PORT_NOT_FOUND, ...) come only from usb_* requests on /ws/admin/.' },
  ),
  message: Type.String({ description: 'For people; may name the field or value at fault.' }),
  // Number, not integer: a refused request's id is echoed as it came, even when it was not a valid id.
  id: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'Echo of the request id (operator endpoint).' })),
});

// ---------------------------------------------------------------------------

const SENDER: Record<Endpoint, string> = { legacy: 'Client', esp32: 'Board', user: 'App', operator: 'Operator', discovery: 'Board' };
const RECEIVER: Record<Endpoint, string> = { legacy: 'client', esp32: 'board', user: 'app', operator: 'operator', discovery: 'board' };

function entriesOf(endpoint: Endpoint, direction: Direction, table: Record<string, TSchema>): SchemaEntry[] {
  const from = direction === 'client-to-gateway' ? `${SENDER[endpoint]} -> gateway` : `Gateway -> ${RECEIVER[endpoint]}`;
  return Object.entries(table).map(([type, schema]) => ({
    file: direction === 'client-to-gateway' ? `${endpoint}/${type}.json` : `${endpoint}/server/${type}.json`,
    endpoint,
    direction,
    type,
    schema,
    description: `${from} on ${WHERE[endpoint]}.`,
  }));
}

/** Every exported schema, in file order. */
export function schemaEntries(): SchemaEntry[] {
  const all: SchemaEntry[] = [
    ...entriesOf('legacy', 'client-to-gateway', {
      identity: IdentityFrame,
      message: RoomMessageFrame,
      query_room: QueryRoomFrame,
      register: RegisterFrame,
      signal: SignalFrame,
    }),
    ...entriesOf('legacy', 'gateway-to-client', { ...ServerRoomFrames, signal: ForwardedSignal }),
    ...entriesOf('esp32', 'client-to-gateway', BoardFrames),
    ...entriesOf('esp32', 'gateway-to-client', {
      ...GatewayToBoardFrames,
      resend: { ...ResendFrame, description: 'Gaps found at upload_complete: send these frames of the session again (the board keeps every frame until its data_ack).' },
    }),
    ...entriesOf('user', 'client-to-gateway', UserFrames),
    ...entriesOf('user', 'gateway-to-client', UserServerFrames),
    ...entriesOf('operator', 'client-to-gateway', { ...OperatorFrames, ...SessionOperatorFrames, ...DiscoveryOperatorFrames, ...UsbFrames }),
    ...entriesOf('operator', 'gateway-to-client', OperatorServerFrames),
    {
      file: `discovery/${PROBE_TYPE}.json`,
      endpoint: 'discovery',
      direction: 'client-to-gateway',
      type: PROBE_TYPE,
      schema: ProbeFrame,
      description: `Board -> broadcast, UDP port ${PROBE_PORT}, at most ${PROBE_MAX_BYTES} bytes.`,
    },
    {
      file: `discovery/server/${PROBE_ANSWER_TYPE}.json`,
      endpoint: 'discovery',
      direction: 'gateway-to-client',
      type: PROBE_ANSWER_TYPE,
      schema: ProbeAnswerFrame,
      description: 'Gateway -> the probing board, UDP unicast to the probe\'s source address and port.',
    },
    {
      file: 'error.json',
      endpoint: null,
      direction: 'gateway-to-client',
      type: 'error',
      schema: ErrorFrameSchema,
      description: 'Gateway -> client on every WebSocket endpoint: a frame was refused. The connection stays open, except after UNAUTHORIZED (closed with 4401).',
    },
  ];
  return all.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

// ---------------------------------------------------------------------------
// Rendering with a stable key order: JSON Schema keywords in a fixed order
// (the order a person reads them), anything else alphabetical. Property names
// keep the order the TypeScript declares, which puts `type` first.
// ---------------------------------------------------------------------------

const KEYWORD_ORDER = [
  '$schema', '$id', 'title', 'description', 'type', 'const', 'enum',
  'properties', 'patternProperties', 'additionalProperties', 'required',
  'prefixItems', 'items', 'minItems', 'maxItems', 'uniqueItems',
  'anyOf', 'oneOf', 'allOf', 'not',
  'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'format', 'default', 'examples',
];
const rank = new Map(KEYWORD_ORDER.map((k, i) => [k, i]));
/** Keywords whose value is a map from user names to schemas: their keys are names, not keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs']);

function canonical(value: unknown, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const src = value as Record<string, unknown>;
  const keys = Object.keys(src).filter((k) => src[k] !== undefined && !(k === '$id' && depth > 0));
  keys.sort((a, b) => (rank.get(a) ?? 1000) - (rank.get(b) ?? 1000) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = src[k];
    if (NAME_MAPS.has(k) && typeof v === 'object' && v !== null) {
      const names: Record<string, unknown> = {};
      for (const name of Object.keys(v)) names[name] = canonical((v as Record<string, unknown>)[name], depth + 1);
      out[k] = names;
    } else out[k] = canonical(v, depth + 1);
  }
  return out;
}

/** The JSON document of one entry (a plain object, no TypeBox symbols). */
export function schemaDocument(e: SchemaEntry): Record<string, unknown> {
  const s = e.schema as unknown as Record<string, unknown>;
  const doc = {
    ...s,
    $schema: JSON_SCHEMA_DIALECT,
    // A relative URI: resolved against wherever the file is served from.
    $id: e.file,
    title: typeof s.title === 'string' ? s.title : e.type,
    description: typeof s.description === 'string' ? `${e.description} ${s.description}` : e.description,
  };
  return canonical(doc, 0) as Record<string, unknown>;
}

function indexDocument(entries: SchemaEntry[]): Record<string, unknown> {
  return {
    $comment: 'Generated by firmware-protocol/export-schemas.ts; do not edit. Files are relative to this folder.',
    protocol_version: PROTOCOL_VERSION,
    dialect: JSON_SCHEMA_DIALECT,
    schemas: entries.map((e) => ({ file: e.file, endpoint: e.endpoint, direction: e.direction, type: e.type })),
  };
}

const text = (doc: unknown) => JSON.stringify(doc, null, 2) + '\n';

/** Every file's expected content, keyed by its path under the schema folder. */
export function renderAll(): Map<string, string> {
  const entries = schemaEntries();
  const out = new Map<string, string>();
  for (const e of entries) out.set(e.file, text(schemaDocument(e)));
  out.set('index.json', text(indexDocument(entries)));
  return out;
}

function jsonFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.endsWith('.json')) found.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

export interface CheckResult {
  /** Expected but absent. */
  missing: string[];
  /** Present with other content. */
  changed: string[];
  /** Present but no longer exported. */
  extra: string[];
}

export function checkSchemas(dir = DEFAULT_SCHEMA_DIR): CheckResult {
  const want = renderAll();
  const r: CheckResult = { missing: [], changed: [], extra: [] };
  for (const [file, content] of want) {
    const p = join(dir, file);
    if (!existsSync(p)) r.missing.push(file);
    else if (readFileSync(p, 'utf8') !== content) r.changed.push(file);
  }
  for (const file of jsonFilesUnder(dir)) if (!want.has(file)) r.extra.push(file);
  return r;
}

/** Writes every file and removes .json files that are no longer exported. Returns the paths written. */
export function writeSchemas(dir = DEFAULT_SCHEMA_DIR): string[] {
  const want = renderAll();
  for (const file of jsonFilesUnder(dir)) if (!want.has(file)) rmSync(join(dir, file));
  const written: string[] = [];
  for (const [file, content] of want) {
    const p = join(dir, file);
    mkdirSync(dirname(p), { recursive: true });
    if (existsSync(p) && readFileSync(p, 'utf8') === content) continue;
    writeFileSync(p, content);
    written.push(file);
  }
  return written;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const at = argv.indexOf('--dir');
  const dir = at >= 0 && argv[at + 1] ? resolve(argv[at + 1]!) : DEFAULT_SCHEMA_DIR;
  if (check) {
    const r = checkSchemas(dir);
    const stale = [...r.missing.map((f) => `${f} (missing)`), ...r.changed.map((f) => `${f} (changed)`), ...r.extra.map((f) => `${f} (no longer exported)`)];
    if (stale.length === 0) {
      console.log(`schemas up to date: ${renderAll().size} files in ${dir}`);
      return 0;
    }
    console.error(`schemas out of date in ${dir}; run \`npm run schemas\`:\n` + stale.map((s) => '  ' + s).join('\n'));
    return 1;
  }
  const written = writeSchemas(dir);
  console.log(`${written.length} of ${renderAll().size} schema files written to ${dir}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
