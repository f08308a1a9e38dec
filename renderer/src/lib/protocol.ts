/**
 * The shapes the UI reads from the gateway. All of them are the contract's
 * (firmware-protocol/), imported as types only: erased at build time, so the
 * renderer bundle carries neither the schemas nor their library. What is
 * declared here is a view over those types, not a copy of one.
 */
import type {
  EventEnvelope,
  OperatorApi,
  OperatorReplyBody,
  SessionJson,
  SystemNotificationFrame,
} from '../../../firmware-protocol/index.js';

export type {
  BoardState,
  CommandEvent,
  DeviceEvent,
  DiscoveryEvent,
  DeviceInfo,
  DeviceSource,
  DeviceToken,
  FirmwareMeta,
  MdnsRecord,
  RoomDetail,
  RoomMember,
  RoomMessageEvent,
  RoomEvent,
  RoomSummary,
  SensorBatch,
  SessionEvent,
  SessionJson,
  Settings,
  SettingsReply,
  StoredMessage,
  Stroke,
  SystemStatus,
  UsbBoardInfo,
  UsbBulkRow,
  UsbBulkStatus,
  UsbEventFrame,
  UsbJob,
  UsbPortInfo,
  UsbWriteProgress,
} from '../../../firmware-protocol/index.js';
export type { DiscoveredDevice, DiscoveryInterface } from '../../../firmware-protocol/discovery.js';

export type SessionState = SessionJson['state'];

/**
 * An event as the client hands it to listeners: the envelope every event
 * shares, its other fields unread. A store narrows it to its topic's events
 * (DeviceEvent, UsbEventFrame...) once it has checked `event`.
 */
export type EventFrame = EventEnvelope & { event: string; [field: string]: unknown };

export type NotificationFrame = SystemNotificationFrame;

/** Request type -> [fields sent, reply body], for every request of the core and the parts. */
export type RequestMap = OperatorApi;

export type SessionReplyBody = OperatorReplyBody<'session'>;

export function sessionOf(reply: SessionReplyBody): SessionJson {
  return reply.session;
}
