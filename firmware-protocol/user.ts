/** Endpoint `/ws/miniprogram/{user_id}/`: seed 001's player (mini-program) endpoint. */
import { Type, type Static } from '@sinclair/typebox';
import { ServerTime, Str } from './wire.js';
import { AnalysisCompleteNotification, SessionJson } from './sessions.js';

export const SessionStatusRequest = Type.Object(
  { type: Type.Literal('session_status'), session_id: Type.Optional(Type.String({ maxLength: 64 })) },
  { $id: 'SessionStatusRequest', title: 'session_status' },
);

export const PingFrame = Type.Object({ type: Type.Literal('ping') }, { $id: 'UserPingFrame', title: 'ping' });

/** Courtside: the player app's ack of a notification sent with `ack: true` (it carries `message_id`). */
export const NotificationAckFrame = Type.Object(
  { type: Type.Literal('notification_ack'), message_id: Type.Integer({ minimum: 1 }) },
  { $id: 'NotificationAckFrame', title: 'notification_ack' },
);

export const UserFrames = { session_status: SessionStatusRequest, ping: PingFrame, notification_ack: NotificationAckFrame } as const;

/** Frames the gateway sends on /ws/miniprogram/. Notifications from notify_user are the operator's own JSON and have no schema. */
export const UserServerFrames = {
  connection_established: Type.Object({ type: Type.Literal('connection_established'), user_id: Str, server_time: ServerTime }),
  pong: Type.Object({ type: Type.Literal('pong'), server_time: ServerTime }),
  session_status: Type.Object({
    type: Type.Literal('session_status'),
    user_id: Str,
    session: Type.Union([SessionJson, Type.Null()], { description: 'The session asked for, else the player\'s newest (an open one first); null when there is none.' }),
  }),
  analysis_complete_notification: AnalysisCompleteNotification,
} as const;
export type UserConnectionEstablished = Static<typeof UserServerFrames.connection_established>;
export type PongFrame = Static<typeof UserServerFrames.pong>;
export type SessionStatusReply = Static<typeof UserServerFrames.session_status>;
