/**
 * Several gateways as one fleet (`--redis`): the fleet view operators ask for (`get_fleet`)
 * and the frame a client gets when events from other gateways were lost (`fleet_gap`).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Str, reply } from './wire.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

export const FleetGatewaySchema = Type.Object({
  gateway_id: Str,
  address: Type.Union([Str, Type.Null()], { description: 'host:port the gateway answers on (its first LAN address).' }),
  urls: Type.Array(Str, { description: 'Board URLs of the gateway.' }),
  started_at: Str,
  boards: Type.Integer({ description: 'Boards connected to it now.' }),
  clients: Type.Integer({ description: 'Room, signaling and player sockets on it now.' }),
  operators: Type.Integer(),
  sensor_watchers: Type.Integer(),
  health: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  reason: Type.Union([Str, Type.Null()]),
  version: Str,
  self: Type.Optional(Type.Boolean({ description: 'The gateway that answered.' })),
});
export type FleetGateway = Static<typeof FleetGatewaySchema>;

export const FleetOperatorFrames = {
  get_fleet: request('get_fleet', {}),
} as const;

export const FleetReplyFrames = {
  fleet: reply('fleet', {
    enabled: Type.Boolean({ description: 'false: this gateway runs on its own (no --redis).' }),
    gateway_id: Str,
    redis: Type.Union([Type.Literal('ok'), Type.Literal('unavailable'), Type.Literal('off')]),
    reason: Type.Union([Str, Type.Null()]),
    gateways: Type.Array(FleetGatewaySchema, { description: 'Every gateway whose heartbeat key is alive, this one first.' }),
    events: Type.Object({ published: Type.Integer(), received: Type.Integer(), dropped: Type.Integer(), gaps: Type.Integer() }),
  }),
} as const;
export type FleetReply = Static<typeof FleetReplyFrames.fleet>;

/**
 * To operators, and to room and signaling clients that asked for it (`fleet_gap: true` in
 * their identity or register frame), when events from other gateways may be missing: Redis trimmed its history past where this gateway was
 * (`trimmed`), came back empty (`epoch`), or a gateway dropped events it could not hand to
 * Redis (`dropped`). What was sent meanwhile may not have arrived: ask again (query_room).
 */
export const FleetGapFrameSchema = Type.Object(
  {
    type: Type.Literal('fleet_gap'),
    reason: Type.Union([Type.Literal('trimmed'), Type.Literal('epoch'), Type.Literal('dropped')]),
    gateway_id: Type.Union([Str, Type.Null()], { description: 'The gateway whose events were lost, when known.' }),
    lost: Type.Union([Type.Integer(), Type.Null()], { description: 'How many, when known.' }),
    timestamp: Str,
  },
  { $id: 'FleetGapFrame', title: 'fleet_gap' },
);
export type FleetGapFrame = Static<typeof FleetGapFrameSchema>;
