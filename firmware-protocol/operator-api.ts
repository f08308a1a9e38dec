/**
 * The operator endpoint as a request -> reply table: every request of the
 * core and of the parts, and the reply type that answers it. Clients type
 * their calls with `OperatorApi` (fields sent, reply body); the schema export
 * walks `AllOperatorRequestFrames`.
 */
import type { Static } from '@sinclair/typebox';
import { OperatorFrames } from './operator.js';
import { SessionOperatorFrames } from './sessions.js';
import { DiscoveryOperatorFrames } from './discovery.js';
import { UsbFrames } from './usb.js';
import { SettingsOperatorFrames } from './settings.js';
import { OtaOperatorFrames, OtaReplyTypeOf } from './ota.js';
import { FleetOperatorFrames } from './fleet.js';
import { PlatformOperatorFrames } from './envelope.js';
import { CorrectionOperatorFrames } from './corrections.js';
import { PlayerOperatorFrames } from './players.js';
import { LiveOperatorFrames, LiveReplyTypeOf } from './live.js';
import type { OperatorReplyBody, OperatorReplyType } from './operator-replies.js';

/** Every operator request, of the core and of the parts the standard gateway runs. */
export const AllOperatorRequestFrames = { ...OperatorFrames, ...SessionOperatorFrames, ...CorrectionOperatorFrames, ...PlayerOperatorFrames, ...DiscoveryOperatorFrames, ...UsbFrames, ...SettingsOperatorFrames, ...FleetOperatorFrames, ...PlatformOperatorFrames, ...OtaOperatorFrames, ...LiveOperatorFrames } as const;
export type AnyOperatorRequestType = keyof typeof AllOperatorRequestFrames;

/** The reply type of each request (an `error` frame may answer any of them instead). */
export const ReplyTypeOf = {
  get_system_status: 'system_status',
  get_device_list: 'device_list',
  get_device: 'device',
  list_commands: 'commands',
  get_device_history: 'device_history',
  get_rooms: 'rooms',
  get_room: 'room_detail',
  get_messages: 'messages',
  subscribe: 'subscribed',
  unsubscribe: 'unsubscribed',
  send_command: 'command_queued',
  broadcast_devices: 'broadcast_sent',
  send_room_message: 'room_message_sent',
  system_notification: 'notification_sent',
  notify_user: 'user_notified',
  create_device_token: 'device_token',
  list_device_tokens: 'device_tokens',
  revoke_device_token: 'device_token_revoked',
  create_session: 'session',
  start_session: 'session',
  stop_session: 'session',
  get_session: 'session',
  list_sessions: 'sessions',
  update_session: 'session',
  delete_session: 'session_deleted',
  get_session_signal: 'session_signal',
  correct_stroke: 'stroke_corrected',
  list_corrections: 'corrections',
  delete_correction: 'correction_deleted',
  reanalyze_session: 'session_reanalyzed',
  get_player_profile: 'player_profile',
  list_players: 'players',
  get_player: 'player',
  get_settings: 'settings',
  set_settings: 'settings',
  get_fleet: 'fleet',
  get_discovered: 'discovered',
  get_discovery_settings: 'discovery_settings',
  set_discovery_interfaces: 'discovery_settings',
  usb_list_ports: 'usb_ports',
  usb_list_firmware: 'usb_firmware',
  usb_board_info: 'usb_board_info',
  usb_flash: 'usb_job',
  usb_provision: 'usb_job',
  usb_cancel: 'usb_job',
  usb_job: 'usb_job',
  usb_jobs: 'usb_jobs',
  usb_improv_info: 'usb_improv',
  usb_improv_state: 'usb_improv',
  usb_improv_scan: 'usb_improv',
  usb_improv_wifi: 'usb_improv',
  usb_monitor_start: 'usb_monitor',
  usb_monitor_stop: 'usb_monitor',
  usb_reset: 'usb_reset',
  usb_bulk_start: 'usb_bulk',
  usb_bulk_stop: 'usb_bulk',
  usb_bulk_status: 'usb_bulk',
  get_health: 'health',
  get_metrics: 'metrics',
  ...OtaReplyTypeOf,
  ...LiveReplyTypeOf,
} as const satisfies Record<AnyOperatorRequestType, OperatorReplyType>;

/** The fields a request carries besides `type` and `id`. */
export type RequestFields<K extends AnyOperatorRequestType> = Omit<Static<(typeof AllOperatorRequestFrames)[K]>, 'type' | 'id'>;

/** Request type -> [fields sent, reply body]. */
export type OperatorApi = { [K in AnyOperatorRequestType]: [RequestFields<K>, OperatorReplyBody<(typeof ReplyTypeOf)[K]>] };
