/**
 * Every error a board, app or operator can receive in an `error` frame, with
 * its stable code. Clients match on `code`; `message` is for people and may
 * name the field or value at fault.
 */
export const FrameErrorCodes = {
  /** The frame is not JSON (or not UTF-8 text where text is required). */
  INVALID_JSON: 'Invalid JSON format',
  /** JSON, but not an object. */
  NOT_AN_OBJECT: 'frame must be a JSON object',
  /** A field is missing or has the wrong type; the message names it. */
  BAD_FRAME: 'frame is not valid',
  /** `type` is not one this endpoint knows. */
  UNKNOWN_TYPE: 'unknown message type',
  /** A room frame before the identity frame (seed 000) or register (seed 004). */
  NOT_IDENTIFIED: 'send your identity first',
  /** The room named in the identity frame does not exist. */
  ROOM_NOT_FOUND: 'room not found',
  /** The room admits only its listed devices and holders of its room token; this identity is neither. */
  ROOM_FORBIDDEN: 'room is restricted',
  /** A direct message or signal to a client that is not connected. */
  TARGET_NOT_FOUND: 'target is not connected',
  /** Too many frames per second from this client; the frame was dropped. */
  RATE_LIMITED: 'too many frames, slow down',
  /** Frame larger than the gateway accepts. */
  FRAME_TOO_LARGE: 'frame too large',
  /** A device token is required (`--device-auth token`) and was missing or wrong. */
  UNAUTHORIZED: 'device token missing or invalid',
  /** The operator request refers to something that does not exist. */
  NOT_FOUND: 'not found',
  /** The gateway could not complete the request (e.g. the database is down); retry later. */
  UNAVAILABLE: 'gateway temporarily unavailable',
  /** A binary frame on an endpoint that takes none, or a malformed binary frame. */
  BAD_BINARY: 'binary frame not valid',
  /** The request does not fit the current state (a session that already started, a board busy in another session). */
  CONFLICT: 'the request conflicts with the current state',
  /** A cap on what the gateway keeps was reached: a device's or a room's queue, or new device ids from one address. Nothing was stored. */
  QUOTA_EXCEEDED: 'storage quota reached',
  /** A handler the embedding application registered threw or did not answer in time; the message says why. */
  HANDLER_FAILED: 'the handler for this frame failed',
} as const;

export type FrameErrorCode = keyof typeof FrameErrorCodes;

export interface ErrorFrame {
  type: 'error';
  code: FrameErrorCode;
  message: string;
  /** Echo of the request id, when the request carried one (operator endpoint). */
  id?: string | number;
}

export function errorFrame(code: FrameErrorCode, message?: string, id?: string | number): ErrorFrame {
  const f: ErrorFrame = { type: 'error', code, message: message ?? FrameErrorCodes[code] };
  if (id !== undefined) f.id = id;
  return f;
}
