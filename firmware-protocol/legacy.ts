/**
 * Endpoint `/`: seed 000's room protocol and seed 004's signaling protocol on
 * the same socket, told apart by the first frame. Existing clients of both
 * work unchanged, so field names and reply shapes are the seeds' own.
 */
import { Type, type Static } from '@sinclair/typebox';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 128, description });

/** Seed 000, first frame: who the client is and which room it wants. */
export const IdentityFrame = Type.Object(
  {
    device_id: Id('Stable id of the client or board.'),
    identity: Type.String({ maxLength: 128, description: 'Free-form role, e.g. "mobile_user", "sensor_node".' }),
    room_id: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()], { description: 'Room to join; omitted: back to the last room, or a new one.' })),
    presence: Type.Optional(Type.Boolean({ description: 'Courtside: receive join/leave frames for the room.' })),
    fleet_gap: Type.Optional(Type.Boolean({ description: 'Courtside, several gateways: receive fleet_gap frames when events from other gateways were lost.' })),
    token: Type.Optional(Type.String({ description: 'Courtside: device token when the gateway runs with --device-auth token.' })),
    create: Type.Optional(Type.Boolean({ description: 'Courtside: with room_id, create the room under that name if it does not exist (created_new), else join it (joined_existing).' })),
    allowed_device_ids: Type.Optional(Type.Array(Id('A device that may join.'), { maxItems: 1000, description: 'Courtside, with create: only these devices (and the creator) may join the new room.' })),
    room_token: Type.Optional(Type.String({ minLength: 8, maxLength: 256, description: 'Courtside: with create, only holders of this token (and listed devices) may join the new room; when joining, the room\'s token.' })),
  },
  { $id: 'IdentityFrame', title: 'identity (first frame, seed 000)' },
);
export type IdentityFrame = Static<typeof IdentityFrame>;

export const RoomMessageFrame = Type.Object(
  {
    type: Type.Literal('message'),
    content: Type.Unknown({ description: 'Text or any JSON value, passed on as sent.' }),
    target_device_id: Type.Optional(Type.Union([Id('Direct message to this device in the room; omitted: broadcast.'), Type.Null()])),
    timestamp: Type.Optional(Type.Unknown()),
    queue: Type.Optional(Type.Boolean({ description: 'Courtside: if the target is offline, store and deliver when it comes back.' })),
    priority: Type.Optional(Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')], { description: 'Courtside: order of a queued message in its target\'s queue: high first, then in the order sent. Default normal.' })),
    ack: Type.Optional(Type.Boolean({ description: 'Courtside, direct messages: the target must answer message_ack; stored, resent until acked or expired, `delivered` only then.' })),
    ttl_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 2_592_000_000, description: 'Courtside, with ack or queue: not delivered after this long. Default: kept until retention deletes it.' })),
  },
  { $id: 'RoomMessageFrame', title: 'message (seed 000)' },
);
export type RoomMessageFrame = Static<typeof RoomMessageFrame>;

/** Courtside: the receiver's ack of a direct message that carried `ack: true` and its `message_id`. */
export const MessageAckFrame = Type.Object(
  { type: Type.Literal('message_ack'), message_id: Type.Integer({ minimum: 1 }) },
  { $id: 'MessageAckFrame', title: 'message_ack (Courtside)' },
);

export const QueryRoomFrame = Type.Object({ type: Type.Literal('query_room') }, { $id: 'QueryRoomFrame', title: 'query_room (seed 000)' });

/** Seed 004, first frame. */
export const RegisterFrame = Type.Object(
  {
    type: Type.Literal('register'),
    client_id: Id('Signaling id others use as target_id.'),
    token: Type.Optional(Type.String()),
    fleet_gap: Type.Optional(Type.Boolean({ description: 'Courtside, several gateways: receive fleet_gap frames when events from other gateways were lost.' })),
  },
  { $id: 'RegisterFrame', title: 'register (seed 004)' },
);
export type RegisterFrame = Static<typeof RegisterFrame>;

/** Seed 004, every later frame: forwarded as is, with target_id removed and from added. */
export const SignalFrame = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64, description: 'offer, answer, candidate, or any other.' }),
    target_id: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
  },
  { $id: 'SignalFrame', title: 'signal (seed 004)', additionalProperties: true },
);
export type SignalFrame = Static<typeof SignalFrame>;

// Server -> client frames, for documentation and the JSON Schema export.
export const RoomStatus = Type.Union([
  Type.Literal('created_new'),
  Type.Literal('joined_existing'),
  Type.Literal('reconnected'),
  Type.Literal('room_not_found'),
]);
export type RoomStatus = Static<typeof RoomStatus>;

export const ServerRoomFrames = {
  connection: Type.Object({ type: Type.Literal('connection'), message: Type.Literal('Connected successfully') }, { $id: 'ConnectionFrame' }),
  room: Type.Object({ type: Type.Literal('room'), room_id: Type.Union([Type.String(), Type.Null()]), status: RoomStatus }, { $id: 'RoomFrame' }),
  message: Type.Object(
    {
      type: Type.Literal('message'),
      content: Type.Unknown(),
      from_device_id: Type.String(),
      message_type: Type.Union([Type.Literal('broadcast'), Type.Literal('direct')]),
      timestamp: Type.String({ description: 'ISO 8601, UTC' }),
      room_id: Type.Optional(Type.String({ description: 'Courtside: a queued message from another room than the one the receiver is in: that room.' })),
      message_id: Type.Optional(Type.Integer({ description: 'Courtside: the sender asked for an ack; answer message_ack with this id.' })),
      ack: Type.Optional(Type.Literal(true)),
    },
    { $id: 'DeliveredMessageFrame' },
  ),
  room_info: Type.Object(
    {
      type: Type.Literal('room_info'),
      room_id: Type.String(),
      total_clients: Type.Integer(),
      clients: Type.Array(Type.Object({ device_id: Type.String(), identity: Type.String() }), { description: 'The other clients in the room.' }),
    },
    { $id: 'RoomInfoFrame' },
  ),
  presence: Type.Object(
    { type: Type.Literal('presence'), event: Type.Union([Type.Literal('join'), Type.Literal('leave')]), room_id: Type.String(), device_id: Type.String(), identity: Type.String() },
    { $id: 'PresenceFrame' },
  ),
  queued: Type.Object({ type: Type.Literal('queued'), message_id: Type.Integer(), target_device_id: Type.String() }, { $id: 'QueuedFrame' }),
  delivered: Type.Object({ type: Type.Literal('delivered'), message_id: Type.Integer(), target_device_id: Type.String() }, { $id: 'DeliveredFrame' }),
  expired: Type.Object({ type: Type.Literal('expired'), message_id: Type.Integer(), target_device_id: Type.String() }, { $id: 'ExpiredFrame', description: 'Courtside: a message sent with ack and ttl_ms was not acked in time.' }),
  registered: Type.Object({ type: Type.Literal('registered'), client_id: Type.String() }, { $id: 'RegisteredFrame' }),
} as const;

export type ServerRoomFrame = { [K in keyof typeof ServerRoomFrames]: Static<(typeof ServerRoomFrames)[K]> }[keyof typeof ServerRoomFrames];

/** A forwarded signal (the signaling protocol): the sender's frame without target_id, with `from`. */
export const ForwardedSignal = Type.Object(
  { type: Type.String({ minLength: 1 }), from: Type.String({ description: 'client_id of the sender.' }) },
  { additionalProperties: true },
);
export type ForwardedSignal = Static<typeof ForwardedSignal>;

/** Every frame the gateway sends on `/`, by type (`signal` stands for any forwarded signal). */
export const LegacyServerFrames = { ...ServerRoomFrames, signal: ForwardedSignal } as const;

/**
 * The players' namespace: a player's token is minted for `user:<user_id>` and
 * the gateway queues a player's notifications under that address. Room device
 * ids, signaling client ids and board device codes never start with it (in
 * any case), so no id, token or message of one endpoint reaches another's.
 */
export const PLAYER_ADDRESS_PREFIX = 'user:';

/** Why `id` cannot be a room device, signaling client or board id (it is a player address), or null. */
export function reservedIdError(field: string, id: string): string | null {
  if (id.slice(0, PLAYER_ADDRESS_PREFIX.length).toLowerCase() !== PLAYER_ADDRESS_PREFIX) return null;
  return `${field} '${id.slice(0, 128)}' is a player app's address: ids starting with '${PLAYER_ADDRESS_PREFIX}' belong to player apps, never to devices`;
}

/** Room ids: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), easy to read aloud. */
export const ROOM_ID_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const ROOM_ID_LENGTH = 6;
