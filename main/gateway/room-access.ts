/**
 * Rooms with chosen names and rooms limited to some devices: who may create a room under a
 * name, and who may join one that is restricted (its listed device ids, holders of its token).
 */
import { createHash } from 'node:crypto';
import type { IdentityFrame } from '../../firmware-protocol/index.js';
import { safeEqual } from './auth.js';
import type { RoomAccess } from './store/types.js';

/** A chosen room name, after normalizeRoomId: what people type and read aloud. */
export const ROOM_NAME = /^[A-Z0-9_-]{1,32}$/;

export function roomNameError(roomId: string): string | null {
  return ROOM_NAME.test(roomId) ? null : `room_id '${roomId}' cannot be created: use 1 to 32 letters, digits, - or _`;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The limits a `create` identity asks for (the creator is always among the listed devices). */
export function accessFromIdentity(identity: IdentityFrame): RoomAccess {
  const listed = identity.allowed_device_ids;
  return {
    allowedDeviceIds: listed === undefined ? null : [...new Set([identity.device_id, ...listed])],
    tokenHash: identity.room_token === undefined ? null : sha256(identity.room_token),
  };
}

export function isRestricted(a: RoomAccess | undefined): boolean {
  return a !== undefined && (a.allowedDeviceIds !== null || a.tokenHash !== null);
}

/** Null if this identity may join the room, else the error message. */
export function accessError(roomId: string, a: RoomAccess | undefined, identity: IdentityFrame): string | null {
  if (!a || !isRestricted(a)) return null;
  if (a.allowedDeviceIds?.includes(identity.device_id)) return null;
  if (a.tokenHash !== null && identity.room_token !== undefined && safeEqual(sha256(identity.room_token), a.tokenHash)) return null;
  const how = [a.allowedDeviceIds !== null ? 'its listed devices' : null, a.tokenHash !== null ? 'holders of its room_token' : null].filter(Boolean).join(' and ');
  return `room ${roomId} admits only ${how}; '${identity.device_id}' is not listed${a.tokenHash !== null ? ' and presented no valid room_token' : ''}`;
}
