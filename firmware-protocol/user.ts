/** Endpoint `/ws/miniprogram/{user_id}/`: seed 001's player (mini-program) endpoint. */
import { Type } from '@sinclair/typebox';

export const SessionStatusRequest = Type.Object(
  { type: Type.Literal('session_status'), session_id: Type.Optional(Type.String({ maxLength: 64 })) },
  { $id: 'SessionStatusRequest', title: 'session_status' },
);

export const PingFrame = Type.Object({ type: Type.Literal('ping') }, { $id: 'UserPingFrame', title: 'ping' });

export const UserFrames = { session_status: SessionStatusRequest, ping: PingFrame } as const;
