/**
 * How boards find the gateway on a LAN, and how the gateway recognises boards:
 * mDNS/DNS-SD service types and TXT keys, and the UDP probe a board
 * broadcasts when mDNS is unavailable (some access points drop multicast).
 *
 * Pure: constants, schemas and validators only, so firmware authors can read
 * the contract here and the gateway, simulator and tests share one copy.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile, validate, type Validation } from './validate.js';
import { parseJson } from './frame.js';
import { Int, Iso, Str, event, reply, type PayloadOf } from './wire.js';

/** Version of the probe/answer frames (`v`). */
export const DISCOVERY_VERSION = 1;

/** DNS-SD type the gateway advertises: `_courtside._tcp`, SRV port = the gateway's HTTP/WebSocket port. */
export const GATEWAY_SERVICE_TYPE = '_courtside._tcp';
/** DNS-SD type Courtside boards advertise (optional for firmware, but it makes them visible before they connect). */
export const DEVICE_SERVICE_TYPE = '_courtside-dev._tcp';
/** Other firmware commonly found on ESP32 fleets; browsed so operators see boards not yet flashed with Courtside. */
export const FOREIGN_SERVICE_TYPES = ['_esphomelib._tcp', '_arduino._tcp', '_wled._tcp', '_http._tcp'] as const;
/** What the gateway browses by default. */
export const BROWSED_SERVICE_TYPES: readonly string[] = [DEVICE_SERVICE_TYPE, ...FOREIGN_SERVICE_TYPES];

/** TXT keys of the gateway's `_courtside._tcp` record. */
export const GatewayTxtKeys = {
  /** Protocol version (PROTOCOL_VERSION of the frames on the WebSocket endpoints), decimal. */
  protocolVersion: 'pv',
  /** Board endpoint path, e.g. `/ws/esp32/`; the board appends `{device_code}/`. */
  path: 'path',
  /** `open` or `token`: whether the board must send `?token=`. */
  auth: 'auth',
  /** Gateway id, stable across restarts. */
  gatewayId: 'id',
  /**
   * Present only when the gateway speaks TLS (`serve --tls`): the SHA-256 of its certificate,
   * 64 lower-case hex digits. Connect with `wss://` and accept only that certificate.
   */
  certSha256: 'sha256',
} as const;

/** TXT keys of a board's `_courtside-dev._tcp` record (all optional). */
export const DeviceTxtKeys = {
  /** Device code the board uses on `/ws/esp32/{device_code}/`. Without it the instance name stands in. */
  deviceId: 'id',
  /** Wi-Fi MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: 'mac',
  /** Board model, e.g. `esp32-s3-devkitc`. */
  board: 'board',
  /** Firmware version. */
  firmware: 'fw',
} as const;

export type DeviceAuth = 'open' | 'token';

/** UDP port the gateway listens on for probes. */
export const PROBE_PORT = 8766;
/** Larger datagrams are not probes; keeps parsing cheap and bounded. */
export const PROBE_MAX_BYTES = 512;
export const PROBE_TYPE = 'courtside_probe';
export const PROBE_ANSWER_TYPE = 'courtside_here';

/**
 * Board -> broadcast (255.255.255.255 or the subnet broadcast), UDP port
 * PROBE_PORT, at most PROBE_MAX_BYTES of UTF-8 JSON. Extra fields are allowed
 * so later firmware can add some without older gateways going silent.
 */
export const ProbeFrame = Type.Object(
  {
    type: Type.Literal(PROBE_TYPE),
    v: Type.Integer({ minimum: 1, maximum: 255, description: 'DISCOVERY_VERSION the board speaks; the gateway answers with its own.' }),
    device_id: Type.String({ minLength: 1, maxLength: 128, description: 'The board\'s device code.' }),
  },
  { $id: 'ProbeFrame', title: 'courtside_probe (UDP, board -> broadcast)' },
);
export type ProbeFrame = Static<typeof ProbeFrame>;

/** Gateway -> the probing board, unicast to the probe's source address and port. */
export const ProbeAnswerFrame = Type.Object(
  {
    type: Type.Literal(PROBE_ANSWER_TYPE),
    v: Type.Integer({ minimum: 1, maximum: 255 }),
    gateway_id: Type.String({ minLength: 1, maxLength: 128 }),
    urls: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      minItems: 1,
      maxItems: 8,
      description: 'Base URLs on the interface the probe arrived on, best first, e.g. `ws://192.168.4.2:8765/`.',
    }),
    board_path: Type.String({ minLength: 1, maxLength: 128, description: 'Append `{device_code}/` to a base URL + this path.' }),
    auth: Type.Union([Type.Literal('open'), Type.Literal('token')]),
    cert_sha256: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Only with TLS (the URLs are then `wss://`): SHA-256 of the gateway\'s certificate to pin.' }),
    ),
  },
  { $id: 'ProbeAnswerFrame', title: 'courtside_here (UDP, gateway -> board)' },
);
export type ProbeAnswerFrame = Static<typeof ProbeAnswerFrame>;

const probeCheck = compile(ProbeFrame);
const answerCheck = compile(ProbeAnswerFrame);

function parseWith<T>(text: string, check: (v: unknown) => Validation<T>): Validation<T> {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, error: 'not JSON' };
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) return { ok: false, error: 'frame must be a JSON object' };
  return check(json.value);
}

/** Validates the text of a probe datagram (the caller enforces PROBE_MAX_BYTES on the bytes). */
export function parseProbe(text: string): Validation<ProbeFrame> {
  return parseWith(text, (v) => validate(probeCheck, v));
}

/** Validates the text of a probe answer (used by boards and the simulator). */
export function parseProbeAnswer(text: string): Validation<ProbeAnswerFrame> {
  return parseWith(text, (v) => validate(answerCheck, v));
}

export function probeFrame(deviceId: string): ProbeFrame {
  return { type: PROBE_TYPE, v: DISCOVERY_VERSION, device_id: deviceId };
}

export function probeAnswerFrame(a: { gatewayId: string; urls: string[]; boardPath: string; auth: DeviceAuth; certSha256?: string | null }): ProbeAnswerFrame {
  const f: ProbeAnswerFrame = { type: PROBE_ANSWER_TYPE, v: DISCOVERY_VERSION, gateway_id: a.gatewayId, urls: a.urls, board_path: a.boardPath, auth: a.auth };
  if (a.certSha256) f.cert_sha256 = a.certSha256;
  return f;
}

/** TXT record of the gateway's advertisement. */
export function gatewayTxt(a: { protocolVersion: number; path: string; auth: DeviceAuth; gatewayId: string; certSha256?: string | null }): Record<string, string> {
  return {
    [GatewayTxtKeys.protocolVersion]: String(a.protocolVersion),
    [GatewayTxtKeys.path]: a.path,
    [GatewayTxtKeys.auth]: a.auth,
    [GatewayTxtKeys.gatewayId]: a.gatewayId,
    ...(a.certSha256 ? { [GatewayTxtKeys.certSha256]: a.certSha256 } : {}),
  };
}

/** The id a discovered service is known by: TXT `id` when present, else its instance name. */
export function discoveredDeviceId(txt: Readonly<Record<string, string>>, instanceName: string): string {
  const id = txt[DeviceTxtKeys.deviceId];
  return id !== undefined && id.length > 0 ? id : instanceName;
}

/** `ws://host:port/`, bracketing IPv6 literals. */
export function gatewayBaseUrl(address: string, port: number, scheme: 'ws' | 'wss' = 'ws'): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${scheme}://${host}:${port}/`;
}

const OperatorRequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));

/** Operator requests of the discovery part (answered by main/gateway/discovery/extension.ts). */
export const DiscoveryOperatorFrames = {
  get_discovered: Type.Object({ type: Type.Literal('get_discovered'), id: OperatorRequestId }),
  get_discovery_settings: Type.Object({ type: Type.Literal('get_discovery_settings'), id: OperatorRequestId }),
  set_discovery_interfaces: Type.Object({
    type: Type.Literal('set_discovery_interfaces'),
    id: OperatorRequestId,
    interfaces: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32, description: 'Names or IPv4 addresses; [] for every interface.' }),
  }),
} as const;

/** A service seen on the LAN (get_discovered, `discovery` events). */
export const DiscoveredDeviceSchema = Type.Object({
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
export type DiscoveredDevice = Static<typeof DiscoveredDeviceSchema>;

export const DiscoveryInterfaceSchema = Type.Object({ name: Str, address: Str, selected: Type.Boolean() });
export type DiscoveryInterface = Static<typeof DiscoveryInterfaceSchema>;

/** Replies to DiscoveryOperatorFrames (set_discovery_interfaces answers discovery_settings too). */
export const DiscoveryReplyFrames = {
  discovered: reply('discovered', {
    gateway_id: Type.String({ description: 'This gateway\'s id (mDNS TXT `id`, `gateway_id` of probe answers).' }),
    devices: Type.Array(DiscoveredDeviceSchema),
    links: Type.Array(Type.Object({ name: Str, addresses: Type.Array(Str) }), { description: 'Interfaces discovery runs on.' }),
    mdns: Type.Array(Type.Object({ interface: Str, address: Str }), { description: 'Interfaces with an mDNS socket open.' }),
    probe_port: Type.Union([Int, Type.Null()], { description: 'UDP probe port, null when the responder is off.' }),
    probes: Type.Union(
      [Type.Object({ received: Int, answered: Int, malformed: Int, rate_limited: Int, ignored: Int }), Type.Null()],
      { description: 'Probe counters; null when discovery has not started.' },
    ),
  }),
  discovery_settings: reply('discovery_settings', {
    interfaces: Type.Array(DiscoveryInterfaceSchema, { description: 'Non-internal IPv4 interfaces of the gateway\'s machine.' }),
    chosen: Type.Array(Str, { description: 'The choice in force; [] means every interface.' }),
    mdns: Type.Boolean(),
    udp_probe_port: Type.Union([Int, Type.Null()], { description: 'null when the probe responder is off.' }),
  }),
} as const;
export type DiscoveredReply = Static<typeof DiscoveryReplyFrames.discovered>;
export type DiscoverySettingsReply = Static<typeof DiscoveryReplyFrames.discovery_settings>;

/** Events on topic `discovery`: a service appeared, changed, or left (a goodbye, or its record expired). */
export const DiscoveryEvents = {
  added: event('discovery', 'added', { device: DiscoveredDeviceSchema }),
  updated: event('discovery', 'updated', { device: DiscoveredDeviceSchema }),
  removed: event('discovery', 'removed', { reason: Type.Union([Type.Literal('goodbye'), Type.Literal('expired')]), device: DiscoveredDeviceSchema }),
} as const;
export type DiscoveryEventPayload<E extends keyof typeof DiscoveryEvents> = PayloadOf<(typeof DiscoveryEvents)[E]>;
