/**
 * Firmware over the LAN: the firmware library, staged OTA rollouts and board
 * tags as operator requests, replies and `ota` events; the board's
 * `ota_progress` frame and the `ota_update` command it answers. Boards pull
 * the image over HTTP from the gateway's OTA port (ESP-IDF's esp_https_ota).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Int, Iso, IsoOrNull, Str, StrOrNull, event, reply } from './wire.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const DeviceId = Type.String({ minLength: 1, maxLength: 128 });
const FirmwareId = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the image (hex).' });
const RolloutId = Type.String({ minLength: 1, maxLength: 64 });
/** A board tag: short, no spaces, usable in a URL path. */
export const TagPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$';
export const Tag = Type.String({ pattern: TagPattern, description: 'A board tag: 1 to 32 letters, digits, ".", "_" or "-".' });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

// ---- board side ----

/** `params` of the `ota_update` command. */
export const OtaUpdateParams = Type.Object({
  url: Type.String({ description: 'HTTP(S) URL of the image on the gateway\'s OTA port, with the board\'s download token.' }),
  size: Type.Integer({ minimum: 1, description: 'Bytes of the image.' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the whole image; refuse to boot what does not hash to it.' }),
  version: Type.String({ description: 'The version the image\'s esp_app_desc_t names: what the board reports as `firmware` after it rebooted.' }),
  rollout_id: Type.Optional(Type.String()),
});
export type OtaUpdateParams = Static<typeof OtaUpdateParams>;

export const OtaPhases = ['downloading', 'verifying', 'rebooting', 'failed'] as const;

export const OtaProgressFrame = Type.Object(
  {
    type: Type.Literal('ota_progress'),
    command_id: Type.Optional(Type.String({ maxLength: 64, description: 'The ota_update command this reports on.' })),
    state: Type.Union(OtaPhases.map((p) => Type.Literal(p)), { description: 'downloading (with bytes/total), verifying, rebooting, or failed (with error).' }),
    bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    total: Type.Optional(Type.Integer({ minimum: 0 })),
    error: Type.Optional(Type.String({ maxLength: 200, description: 'failed: why, e.g. download_failed, sha256_mismatch, no_ota_partition.' })),
  },
  { $id: 'OtaProgressFrame', title: 'ota_progress' },
);
export type OtaProgressFrame = Static<typeof OtaProgressFrame>;

// ---- operator requests ----

export const OtaOperatorFrames = {
  firmware_list: request('firmware_list', {}),
  firmware_get: request('firmware_get', { firmware_id: FirmwareId }),
  firmware_delete: request('firmware_delete', { firmware_id: FirmwareId }),
  ota_start_rollout: request('ota_start_rollout', {
    firmware_id: FirmwareId,
    devices: Type.Optional(Type.Array(DeviceId, { minItems: 1, maxItems: 1000 })),
    tag: Type.Optional(Tag),
    canary_percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Share of the boards in the first wave, rounded up (at least one). Default 10.' })),
    max_concurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Boards updating at once. Default 5.' })),
    max_failures: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'The rollout stops by itself when more boards than this failed or rolled back. Default 0.' })),
    skip_up_to_date: Type.Optional(Type.Boolean({ description: 'Boards that already report the version are done without an update. Default true.' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 3600000, description: 'How long a board may take from the command to reconnecting with the new version. Default 600000.' })),
  }),
  ota_get_rollout: request('ota_get_rollout', { rollout_id: RolloutId }),
  ota_list_rollouts: request('ota_list_rollouts', {}),
  ota_pause_rollout: request('ota_pause_rollout', { rollout_id: RolloutId }),
  ota_resume_rollout: request('ota_resume_rollout', { rollout_id: RolloutId }),
  ota_stop_rollout: request('ota_stop_rollout', { rollout_id: RolloutId }),
  ota_retry_failed: request('ota_retry_failed', { rollout_id: RolloutId }),
  set_device_tags: request('set_device_tags', { device_id: DeviceId, tags: Type.Array(Tag, { maxItems: 32 }) }),
  list_device_tags: request('list_device_tags', {}),
  send_tag_command: request('send_tag_command', { tag: Tag, command: Type.String({ minLength: 1, maxLength: 64 }), params: Type.Optional(Type.Unknown()) }),
} as const;

// ---- replies ----

export const FirmwareEntrySchema = Type.Object({
  firmware_id: Str,
  name: StrOrNull,
  size: Int,
  sha256: Str,
  chip: StrOrNull,
  uploaded_at: Iso,
  version: StrOrNull,
  project: StrOrNull,
  build_date: StrOrNull,
  build_time: StrOrNull,
  idf_version: StrOrNull,
  segments: Type.Union([Int, Type.Null()]),
  app: Type.Boolean({ description: 'An application image (OTA can roll it out); false: only USB flashing takes it (a merged image).' }),
});
export type FirmwareEntry = Static<typeof FirmwareEntrySchema>;

export const RolloutStates = ['running', 'paused', 'stopped', 'complete'] as const;
export const RolloutDeviceStates = ['pending', 'waiting_online', 'updating', 'succeeded', 'skipped', 'failed', 'rolled_back', 'cancelled'] as const;

export const RolloutDeviceSchema = Type.Object({
  device_id: Str,
  wave: Int,
  state: Type.Union(RolloutDeviceStates.map((s) => Type.Literal(s))),
  phase: Type.Union([Type.Union(OtaPhases.map((p) => Type.Literal(p))), Type.Literal('sent'), Type.Null()], { description: 'While updating: the last ota_progress state.' }),
  version: StrOrNull,
  from_version: StrOrNull,
  bytes: Type.Union([Int, Type.Null()]),
  total: Type.Union([Int, Type.Null()]),
  error: StrOrNull,
  attempts: Int,
  started_at: IsoOrNull,
  finished_at: IsoOrNull,
});
export type RolloutDevice = Static<typeof RolloutDeviceSchema>;

export const RolloutSchema = Type.Object({
  rollout_id: Str,
  firmware_id: Str,
  version: Str,
  state: Type.Union(RolloutStates.map((s) => Type.Literal(s))),
  stop_reason: StrOrNull,
  target: Type.Object({ devices: Type.Union([Type.Array(Str), Type.Null()]), tag: StrOrNull }),
  canary_percent: Type.Number(),
  max_concurrent: Int,
  max_failures: Int,
  skip_up_to_date: Type.Boolean(),
  created_at: Iso,
  finished_at: IsoOrNull,
  wave: Int,
  waves: Type.Array(Type.Object({ wave: Int, devices: Type.Array(Str), started_at: IsoOrNull })),
  counts: Type.Record(Str, Int),
  failures: Int,
  devices: Type.Array(RolloutDeviceSchema),
});
export type Rollout = Static<typeof RolloutSchema>;

const DeviceTags = Type.Object({ device_id: Str, tags: Type.Array(Str) });

export const OtaReplyFrames = {
  firmware_list: reply('firmware_list', { firmware: Type.Array(FirmwareEntrySchema) }),
  firmware: reply('firmware', { firmware: FirmwareEntrySchema }),
  firmware_deleted: reply('firmware_deleted', { firmware_id: Str }),
  ota_rollout: reply('ota_rollout', { rollout: RolloutSchema }),
  ota_rollouts: reply('ota_rollouts', { rollouts: Type.Array(RolloutSchema) }),
  device_tags: reply('device_tags', { device_id: Str, tags: Type.Array(Str) }),
  device_tags_list: reply('device_tags_list', { devices: Type.Array(DeviceTags) }),
  tag_command_queued: reply('tag_command_queued', { tag: Str, commands: Type.Array(Type.Object({ device_id: Str, command_id: Str, pushed: Type.Boolean() })) }),
} as const;

export const OtaReplyTypeOf = {
  firmware_list: 'firmware_list',
  firmware_get: 'firmware',
  firmware_delete: 'firmware_deleted',
  ota_start_rollout: 'ota_rollout',
  ota_get_rollout: 'ota_rollout',
  ota_list_rollouts: 'ota_rollouts',
  ota_pause_rollout: 'ota_rollout',
  ota_resume_rollout: 'ota_rollout',
  ota_stop_rollout: 'ota_rollout',
  ota_retry_failed: 'ota_rollout',
  set_device_tags: 'device_tags',
  list_device_tags: 'device_tags_list',
  send_tag_command: 'tag_command_queued',
} as const;

// ---- events on topic `ota` ----

const RolloutSummary = Type.Object({ rollout_id: Str, firmware_id: Str, version: Str, state: Type.Union(RolloutStates.map((s) => Type.Literal(s))), stop_reason: StrOrNull, wave: Int, counts: Type.Record(Str, Int), failures: Int });

export const OtaEventFrames = {
  rollout: event('ota', 'rollout', { rollout: RolloutSummary }, 'A rollout was created or changed state or wave.'),
  device: event('ota', 'device', { rollout_id: Str, device: RolloutDeviceSchema }, 'One board of a rollout changed state, phase or progress.'),
  firmware: event('ota', 'firmware', { action: Type.Union([Type.Literal('added'), Type.Literal('deleted')]), firmware_id: Str }, 'The firmware library changed.'),
  tags: event('ota', 'tags', { device_id: Str, tags: Type.Array(Str) }, 'A board\'s tags were set.'),
} as const;
