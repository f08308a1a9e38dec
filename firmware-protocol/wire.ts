/**
 * Building blocks of the frames the gateway sends: the scalar shapes replies
 * and events repeat, and the two frame makers (an operator reply echoing the
 * request id, an `event` frame on a topic). Schemas only, no I/O.
 */
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';

export const Str = Type.String();
export const Int = Type.Integer();
export const Iso = Type.String({ description: 'ISO 8601, UTC' });
export const IsoOrNull = Type.Union([Iso, Type.Null()]);
export const StrOrNull = Type.Union([Type.String(), Type.Null()]);
export const ServerTime = Type.Number({ description: 'Gateway clock, ms since epoch' });
export const EchoId = Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'The request\'s id, when it had one.' }));

/** A reply on /ws/admin/: its type, the request's id echoed, then the body. */
export function reply<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: EchoId, ...props });
}

/** An `event` frame on a topic (PROTOCOL.md, "Operators"): `{type:'event', topic, at, event, ...fields}`. */
export function event<P extends TProperties, T extends string, E extends string>(topic: T, name: E, props: P, description?: string) {
  return Type.Object(
    { type: Type.Literal('event'), topic: Type.Literal(topic), at: Iso, event: Type.Literal(name), ...props },
    description === undefined ? {} : { description },
  );
}

/** A reply's body: what the gateway puts next to `type` and `id`. */
export type BodyOf<S extends TSchema> = Omit<Static<S>, 'type' | 'id'>;

/** Event frames of one topic, keyed by their `event` field. */
export type EventTable = Record<string, TSchema>;
/** An event's payload as the gateway publishes it: the frame less `type`, `topic` and `at`, which the publisher adds. */
export type PayloadOf<S extends TSchema> = Omit<Static<S>, 'type' | 'topic' | 'at'>;
