/**
 * What the USB provisioning part sends operators: the replies to the usb_*
 * requests of usb.ts, and the `event` frames on topic `usb` (long jobs report
 * their progress and result there). Schemas only; the gateway's USB part
 * (main/gateway/usb/) builds these shapes.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Int, Iso, IsoOrNull, Str, StrOrNull, event, reply, type PayloadOf } from './wire.js';
import { UsbBulkRowSchema, UsbPortInfoSchema, type UsbEvent } from './usb.js';

/** What a board's ROM loader (or the flasher stub) says about it. */
export const UsbBoardInfoSchema = Type.Object({
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
export type UsbBoardInfo = Static<typeof UsbBoardInfoSchema>;

const writeProgressProps = { bytes: Int, total: Int, percent: Type.Number(), rate_bps: Type.Number(), file_index: Int, files: Int };
export const UsbWriteProgressSchema = Type.Object(writeProgressProps);
export type UsbWriteProgress = Static<typeof UsbWriteProgressSchema>;

export const UsbErrorJsonSchema = Type.Object({ code: Str, message: Str });
export type UsbErrorJson = Static<typeof UsbErrorJsonSchema>;

const JobKind = Type.Union([Type.Literal('flash'), Type.Literal('provision'), Type.Literal('board_info')]);
const JobState = Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed'), Type.Literal('cancelled')]);
const JobResult = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'flash: bytes, seconds, reset, images; provision: device_id, token_minted, partition, reset.' });
const JobError = Type.Union([UsbErrorJsonSchema, Type.Null()], { description: 'A USB error code and its message.' });

export const UsbJobSchema = Type.Object({
  id: Type.String({ description: 'The job id: usb_job, usb_cancel, and job_id of its usb events.' }),
  kind: JobKind,
  port: Str,
  state: JobState,
  started_at: Iso,
  finished_at: IsoOrNull,
  info: Type.Union([UsbBoardInfoSchema, Type.Null()]),
  progress: Type.Union([UsbWriteProgressSchema, Type.Null()]),
  result: JobResult,
  error: JobError,
});
export type UsbJob = Static<typeof UsbJobSchema>;

export const UsbBulkStateSchema = Type.Union([Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped')]);

const bulkStatusProps = {
  state: UsbBulkStateSchema,
  current: Type.Optional(Type.Union([Str, Type.Null()], { description: 'The port being provisioned now (the first, when several are).' })),
  active: Type.Optional(Type.Array(Type.Object({ port: Str, progress: Type.Union([UsbWriteProgressSchema, Type.Null()]) }), { description: 'Every port being provisioned now, with its write progress.' })),
  queued: Type.Optional(Type.Array(Str)),
  done: Type.Optional(Int),
  ok: Type.Optional(Int),
  failed: Type.Optional(Int),
  next_id: Type.Optional(Type.String({ description: 'The next id to try; when a board comes, ids that already have a live token are skipped.' })),
};
export const UsbBulkStatusSchema = Type.Object(
  { ...bulkStatusProps, rows: Type.Optional(Type.Array(UsbBulkRowSchema, { description: 'usb_bulk_status only: one row per board.' })) },
  { description: 'Only `state` (and `rows`) before bulk mode first ran.' },
);
export type UsbBulkStatus = Static<typeof UsbBulkStatusSchema>;

/** What an ESP-IDF application image says of itself (esp_app_desc_t and the image header). */
const AppFactsProps = {
  version: Str,
  project: Str,
  build_date: Str,
  build_time: Str,
  idf_version: Str,
  chip_id: Int,
  segments: Int,
  secure_version: Int,
  app_elf_sha256: Str,
};

export const FirmwareMetaSchema = Type.Object({
  id: Type.String({ description: 'sha256 of the image: firmware_id of usb_flash.' }),
  name: StrOrNull,
  size: Int,
  uploaded_at: Iso,
  chip: Type.Union([Str, Type.Null()], { description: 'The chip the image header names.' }),
  app: Type.Optional(Type.Object(AppFactsProps, { description: 'An application image (OTA firmware): what its esp_app_desc_t says.' })),
  merged_app: Type.Optional(Type.Object({ ...AppFactsProps, offset: Type.Integer({ description: 'Where the application starts in the file (its partition\'s offset).' }) }, { description: 'A merged image (bootloader, partition table and application in one file): what its application says of itself.' })),
});
/** An uploaded firmware image (`usb_firmware`, the answer to `POST /api/usb/firmware`). */
export type FirmwareMeta = Static<typeof FirmwareMetaSchema>;

export const ImprovInfoSchema = Type.Object({ firmware: Str, version: Str, chip: Str, name: Str, os_name: StrOrNull, os_version: StrOrNull });
export const ImprovNetworkSchema = Type.Object({ ssid: Str, rssi: Type.Number(), secured: Type.Boolean() });
export type ImprovNetwork = Static<typeof ImprovNetworkSchema>;

const ResetMode = Type.Union([Type.Literal('run'), Type.Literal('bootloader')]);

/** Replies to UsbFrames: usb_flash, usb_provision, usb_cancel and usb_job answer `usb_job`; the improv requests `usb_improv`. */
export const UsbReplyFrames = {
  usb_ports: reply('usb_ports', { ports: Type.Array(UsbPortInfoSchema) }),
  usb_firmware: reply('usb_firmware', { firmware: Type.Array(FirmwareMetaSchema) }),
  usb_board_info: reply('usb_board_info', { info: UsbBoardInfoSchema }),
  usb_job: reply('usb_job', { job: UsbJobSchema }),
  usb_jobs: reply('usb_jobs', { jobs: Type.Array(UsbJobSchema, { description: 'The last 100 jobs, oldest first.' }) }),
  usb_improv: reply('usb_improv', {
    port: Str,
    state: Type.Optional(Type.String({ description: 'authorization_required, authorized, provisioning, provisioned.' })),
    code: Type.Optional(Type.Integer({ description: 'usb_improv_state: the Improv state byte.' })),
    url: Type.Optional(Type.Union([Str, Type.Null()], { description: 'The URL a provisioned board reports, if any.' })),
    info: Type.Optional(ImprovInfoSchema),
    networks: Type.Optional(Type.Array(ImprovNetworkSchema)),
  }),
  usb_monitor: reply('usb_monitor', { port: Str, running: Type.Boolean() }),
  usb_reset: reply('usb_reset', { port: Str, mode: ResetMode }),
  usb_bulk: reply('usb_bulk', { bulk: UsbBulkStatusSchema }),
} as const;
export type UsbPortsReply = Static<typeof UsbReplyFrames.usb_ports>;
export type UsbFirmwareReply = Static<typeof UsbReplyFrames.usb_firmware>;
export type UsbBoardInfoReply = Static<typeof UsbReplyFrames.usb_board_info>;
export type UsbJobReply = Static<typeof UsbReplyFrames.usb_job>;
export type UsbJobsReply = Static<typeof UsbReplyFrames.usb_jobs>;
export type UsbImprovReply = Static<typeof UsbReplyFrames.usb_improv>;
export type UsbMonitorReply = Static<typeof UsbReplyFrames.usb_monitor>;
export type UsbResetReply = Static<typeof UsbReplyFrames.usb_reset>;
export type UsbBulkReply = Static<typeof UsbReplyFrames.usb_bulk>;

const JobId = Type.String({ description: 'The job (absent for the boards of bulk mode, which have `bulk: true`).' });
const Bulk = Type.Optional(Type.Literal(true, { description: 'A board of bulk mode.' }));

/** Events on topic `usb`, by their `event` field (the names of UsbEvents). */
export const UsbEventFrames = {
  ports_changed: event('usb', 'ports_changed', { ports: Type.Array(UsbPortInfoSchema) }),
  job_started: event('usb', 'job_started', { job_id: Str, kind: JobKind, port: Str }),
  board_info: event('usb', 'board_info', { job_id: Type.Optional(JobId), port: Str, info: UsbBoardInfoSchema, bulk: Bulk }),
  flash_progress: event('usb', 'flash_progress', { job_id: Type.Optional(JobId), port: Str, bulk: Bulk, ...writeProgressProps }),
  flash_done: event('usb', 'flash_done', {
    job_id: Str, kind: JobKind, port: Str, ok: Type.Boolean(), state: JobState, info: Type.Union([UsbBoardInfoSchema, Type.Null()]), result: JobResult, error: JobError,
  }),
  provision_done: event('usb', 'provision_done', {
    job_id: Str, kind: JobKind, port: Str, ok: Type.Boolean(), state: JobState, info: Type.Union([UsbBoardInfoSchema, Type.Null()]), result: JobResult, error: JobError,
  }),
  monitor_line: event('usb', 'monitor_line', {
    port: Str,
    text: Str,
    level: Type.Union([Str, Type.Null()], { description: 'ESP-IDF log level letter (E, W, I, D, V) of an ESP_LOG line.' }),
    at: Iso,
  }),
  monitor_status: event('usb', 'monitor_status', {
    port: Str,
    status: Type.Union([Type.Literal('open'), Type.Literal('lost'), Type.Literal('reconnected'), Type.Literal('closed'), Type.Literal('paused')]),
    path: Str,
  }),
  improv_state: event('usb', 'improv_state', { port: Str, state: Str, url: Type.Union([Str, Type.Null()]) }),
  bulk_board: event('usb', 'bulk_board', UsbBulkRowSchema.properties),
  bulk_status: event('usb', 'bulk_status', bulkStatusProps),
} as const satisfies Record<UsbEvent, unknown>;
export type UsbEventPayload<E extends UsbEvent> = PayloadOf<(typeof UsbEventFrames)[E]>;
