/**
 * Endpoint `/ws`: the Node WebSocket module's envelope,
 * `{"id","type","content","sessionId"?,"timestamp"}`, in both directions.
 * `init`, `ping` and `system` are the gateway's own; any other type goes to a
 * handler the embedding application registered (`registerHandler`), so the
 * client-side table lists only the three the gateway always answers plus the
 * envelope every other type must fit.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { FrameErrorCodes } from './errors.js';
import { FrameParser, isObject, parseJson } from './frame.js';
import { compile, validate } from './validate.js';
import { Str } from './wire.js';

/** Ids the gateway echoes: what a client chose, bounded like every other echoed id. */
export const EnvelopeId = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer()], {
  description: 'Chosen by the sender; every answer carries it back. A frame without one gets an id from the gateway, returned in the answer.',
});
const Timestamp = Type.String({ maxLength: 64, description: 'ISO 8601; the gateway stamps its own frames.' });
const SessionId = Type.String({ minLength: 1, maxLength: 128 });

const envelope = <T extends string, P extends TProperties>(type: T, content: P, title: string) =>
  Type.Object(
    {
      id: Type.Optional(EnvelopeId),
      type: Type.Literal(type),
      content: Type.Optional(Type.Object(content)),
      sessionId: Type.Optional(SessionId),
      timestamp: Type.Optional(Timestamp),
    },
    { $id: title, title: type },
  );

export const EnvelopeInitFrame = envelope('init', { sessionId: Type.Optional(SessionId), userId: Type.Optional(Type.String({ maxLength: 128 })) }, 'EnvelopeInitFrame');
export const EnvelopePingFrame = envelope('ping', {}, 'EnvelopePingFrame');
export const EnvelopeSystemFrame = envelope(
  'system',
  { action: Type.Union([Type.Literal('get_status'), Type.Literal('get_metrics')], { description: 'get_status answers getHealth(), get_metrics answers getMetrics().' }) },
  'EnvelopeSystemFrame',
);

/** Any other type: the envelope alone; the registered handler judges the content. */
export const EnvelopeMessage = Type.Object(
  {
    id: Type.Optional(EnvelopeId),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    content: Type.Optional(Type.Unknown()),
    sessionId: Type.Optional(SessionId),
    timestamp: Type.Optional(Timestamp),
  },
  { $id: 'EnvelopeMessage', title: 'message' },
);
export type EnvelopeMessage = Static<typeof EnvelopeMessage>;

/** `text`, the module's chat frame, as the example of every type a handler takes: the envelope, content as the handler reads it. */
export const EnvelopeTextFrame = Type.Object(
  {
    id: Type.Optional(EnvelopeId),
    type: Type.Literal('text'),
    content: Type.Optional(Type.Unknown()),
    sessionId: Type.Optional(SessionId),
    timestamp: Type.Optional(Timestamp),
  },
  { $id: 'EnvelopeTextFrame', title: 'text' },
);

/** The frames /ws itself answers; `text` and the rest go to registered handlers. */
export const EnvelopeFrames = { init: EnvelopeInitFrame, ping: EnvelopePingFrame, system: EnvelopeSystemFrame } as const;

const out = <T extends string, P extends TProperties>(type: T, content: P) =>
  Type.Object({ id: EnvelopeId, type: Type.Literal(type), content: Type.Object(content), sessionId: Type.Optional(SessionId), timestamp: Timestamp });

export const EnvelopeHealth = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('stopped')]),
  uptime: Type.Integer({ description: 'ms since the gateway started' }),
  connections: Type.Object({ active: Type.Integer(), total: Type.Integer({ description: 'Connections accepted since start.' }) }),
  memory: Type.Object({
    used: Type.Number({ description: 'Heap used, MB' }),
    total: Type.Number({ description: 'Heap total, MB' }),
    rss: Type.Number({ description: 'Resident set, MB' }),
  }),
  timestamp: Timestamp,
});
export type EnvelopeHealth = Static<typeof EnvelopeHealth>;

export const EnvelopeMetrics = Type.Object({
  connections: Type.Object({ activeConnections: Type.Integer(), totalConnections: Type.Integer(), peakConnections: Type.Integer() }),
  messages: Type.Object({
    totalMessages: Type.Integer({ description: 'Frames received on every endpoint.' }),
    messagesSent: Type.Integer(),
    messagesPerSecond: Type.Number({ description: 'Frames received per second over the last minute.' }),
    avgResponseTime: Type.Number({ description: 'ms from a frame read to its handler done, mean over the last 1000 frames' }),
  }),
  errors: Type.Object({ totalErrors: Type.Integer({ description: 'Error frames sent.' }), errorRate: Type.Number({ description: 'Error frames per frame received.' }) }),
  timestamp: Timestamp,
});
export type EnvelopeMetrics = Static<typeof EnvelopeMetrics>;

/** Frames the gateway sends on /ws. Handlers' answers take the envelope with their own type and content. */
export const EnvelopeServerFrames = {
  init_response: out('init_response', {
    connectionId: Type.String({ description: 'This connection\'s id (connection:added names it too).' }),
    sessionId: Type.String({ description: 'The one asked for, else a new one.' }),
    userId: Type.Union([Str, Type.Null()]),
    status: Type.Literal('connected'),
    serverTime: Type.Number({ description: 'Gateway clock, ms since epoch' }),
    timestamp: Timestamp,
  }),
  pong: out('pong', { timestamp: Timestamp, serverTime: Type.Number({ description: 'Gateway clock, ms since epoch' }) }),
  system: Type.Object({
    id: EnvelopeId,
    type: Type.Literal('system'),
    content: Type.Object({
      action: Type.String({ description: 'welcome (on connect), status_response, metrics_response, shutdown, or what the application broadcast.' }),
      text: Type.Optional(Str),
      connectionId: Type.Optional(Str),
      data: Type.Optional(Type.Unknown()),
    }),
    sessionId: Type.Optional(SessionId),
    timestamp: Timestamp,
  }),
  error: out('error', {
    code: Type.Union(Object.keys(FrameErrorCodes).map((c) => Type.Literal(c)), { description: 'The error catalogue\'s code (PROTOCOL.md, Error codes).' }),
    error: Type.String({ description: 'For people, as the Node WebSocket module named it.' }),
    originalMessageId: Type.Union([EnvelopeId, Type.Null()], { description: 'The refused frame\'s id; null when it had none that could be echoed.' }),
  }),
} as const;
export type EnvelopeErrorFrame = Static<typeof EnvelopeServerFrames.error>;

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));

/** getHealth() and getMetrics() as operator requests (`GET /api/websocket/health`, `/metrics`). */
export const PlatformOperatorFrames = {
  get_health: Type.Object({ type: Type.Literal('get_health'), id: RequestId }, { $id: 'Operator_get_health', title: 'get_health' }),
  get_metrics: Type.Object({ type: Type.Literal('get_metrics'), id: RequestId }, { $id: 'Operator_get_metrics', title: 'get_metrics' }),
} as const;

export const PlatformReplyFrames = {
  health: Type.Composite([Type.Object({ type: Type.Literal('health'), id: Type.Optional(Type.Union([Type.String(), Type.Integer()])) }), EnvelopeHealth]),
  metrics: Type.Composite([Type.Object({ type: Type.Literal('metrics'), id: Type.Optional(Type.Union([Type.String(), Type.Integer()])) }), EnvelopeMetrics]),
} as const;

/** A refused envelope frame: the code and message of its error frame, and the id to answer with (none: the frame had no usable id). */
export type EnvelopeParsed =
  | { ok: true; frame: EnvelopeMessage & { type: string }; id: string | number | undefined }
  | { ok: false; error: { code: FrameErrorCodeName; message: string }; id: string | number | undefined };
type FrameErrorCodeName = keyof typeof FrameErrorCodes;

function echoable(v: unknown): string | number | undefined {
  if (typeof v === 'string' && v.length > 0 && v.length <= 64) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return undefined;
}

const ownChecks = new FrameParser(EnvelopeFrames);
const anyEnvelope = compile(EnvelopeMessage);

/** The checks of endpoint `/ws`, in its order: JSON, an object, the envelope, then the gateway's own types' content. */
export function parseEnvelope(text: string): EnvelopeParsed {
  const j = parseJson(text);
  if (!j.ok) return { ok: false, error: { code: 'INVALID_JSON', message: FrameErrorCodes.INVALID_JSON }, id: undefined };
  if (!isObject(j.value)) return { ok: false, error: { code: 'NOT_AN_OBJECT', message: FrameErrorCodes.NOT_AN_OBJECT }, id: undefined };
  const v = j.value;
  const id = echoable(v.id);
  const shape = validate(anyEnvelope, v);
  if (!shape.ok) return { ok: false, error: { code: 'BAD_FRAME', message: shape.error }, id };
  if (Object.hasOwn(EnvelopeFrames, v.type as string)) {
    const p = ownChecks.check(v);
    if (!p.ok) return { ok: false, error: { code: p.error.code, message: p.error.message }, id };
  }
  return { ok: true, frame: v as EnvelopeMessage & { type: string }, id };
}
