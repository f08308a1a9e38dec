/**
 * Courtside's client library for apps and tablets, in browsers and in Node:
 * one reconnecting socket (backoff with jitter, an offline send queue) under
 * a client per endpoint, with the frames typed by firmware-protocol.
 *
 * - RoomClient: the room protocol (`/`), presence, rejoining the same room.
 * - SignalingClient: the signaling protocol (`/`), registered again on each open.
 * - PlayerClient: a player's notifications and session status.
 * - OperatorClient: requests, counted topic subscriptions, events (the operator UI's client).
 * - EnvelopeClient: the Node WebSocket module's `/ws`, every frame acked by its answer and
 *   sent again after a reconnect until it is.
 */
export { ReconnectingSocket, setDefaultSocketFactory, type Clock, type ConnectionState, type ConnectionStatus, type Frame, type SocketFactory, type SocketOptions, type TimerHandle, type WebSocketLike } from './socket.js';
export { PendingTable, RequestError } from './pending.js';
export { EnvelopeClient, type Envelope, type EnvelopeClientOptions } from './envelope.js';
export { OperatorClient, type OperatorClientOptions, type OperatorEventFrame, type OperatorRequestType } from './operator.js';
export { RoomClient, type PresenceEvent, type RoomClientOptions, type RoomInfo, type RoomMessage } from './rooms.js';
export { SignalingClient, type SignalingClientOptions } from './signaling.js';
export { PlayerClient, type PlayerClientOptions } from './player.js';
export type { Listener } from './listeners.js';
export type {
  AnalysisCompleteNotification,
  EnvelopeHealth,
  EnvelopeMetrics,
  ForwardedSignal,
  OperatorApi,
  RoomStatus,
  SensorBatch,
  ServerRoomFrame,
  SessionStatusReply,
  SystemNotificationFrame,
} from '../../firmware-protocol/index.js';
