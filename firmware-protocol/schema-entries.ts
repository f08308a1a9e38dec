/**
 * Which schema goes to which file of firmware-protocol/schemas/: a walk over
 * the frame tables of every endpoint. No schema is defined here; each lives
 * in the module of its endpoint or part.
 *
 * Layout: `<endpoint>/<type>.json` is a frame a client sends,
 * `<endpoint>/server/<type>.json` one the gateway sends,
 * `operator/server/events/<topic>/<event>.json` an `event` frame in full,
 * `error.json` the error frame of every endpoint.
 */
import type { TSchema } from '@sinclair/typebox';
import { Paths } from './index.js';
import { IdentityFrame, LegacyServerFrames, MessageAckFrame, QueryRoomFrame, RegisterFrame, RoomMessageFrame, SignalFrame } from './legacy.js';
import { BoardFrames, GatewayToBoardFrames } from './esp32.js';
import { UserFrames, UserServerFrames } from './user.js';
import { AllOperatorRequestFrames } from './operator-api.js';
import { OperatorServerFrames } from './operator-replies.js';
import { OperatorEvents } from './operator-events.js';
import { SessionBoardFrames } from './sessions.js';
import { ProbeAnswerFrame, ProbeFrame, PROBE_ANSWER_TYPE, PROBE_MAX_BYTES, PROBE_PORT, PROBE_TYPE } from './discovery.js';
import { ErrorFrameSchema } from './error-frame.js';
import { FleetGapFrameSchema } from './fleet.js';
import { EnvelopeFrames, EnvelopeServerFrames, EnvelopeTextFrame } from './envelope.js';

export type Endpoint = 'legacy' | 'esp32' | 'user' | 'operator' | 'discovery' | 'ws';
export type Direction = 'client-to-gateway' | 'gateway-to-client';

export interface SchemaEntry {
  /** Path under schemas/, with forward slashes: `esp32/heartbeat.json`. */
  file: string;
  endpoint: Endpoint | null;
  direction: Direction;
  /** The frame's `type` (for legacy: `identity` and `signal` name frames whose type is absent or free). */
  type: string;
  /** Event frames only: their topic and `event` field. */
  topic?: string;
  event?: string;
  /** Used when the schema has no title of its own; default: `type`. */
  title?: string;
  schema: TSchema;
  /** One line for readers of the JSON file. */
  description: string;
}

const WHERE: Record<Endpoint, string> = {
  legacy: `${Paths.legacy} (seed 000 rooms, seed 004 signaling)`,
  esp32: `${Paths.board}{device_code}/`,
  user: `${Paths.user}{user_id}/`,
  operator: `${Paths.operator} (operator token)`,
  discovery: `UDP port ${PROBE_PORT} (discovery probe)`,
  ws: `${Paths.envelope} (the Node WebSocket module's envelope)`,
};

const SENDER: Record<Endpoint, string> = { legacy: 'Client', esp32: 'Board', user: 'App', operator: 'Operator', discovery: 'Board', ws: 'Client' };
const RECEIVER: Record<Endpoint, string> = { legacy: 'client', esp32: 'board', user: 'app', operator: 'operator', discovery: 'board', ws: 'client' };

function entriesOf(endpoint: Endpoint, direction: Direction, table: Record<string, TSchema>): SchemaEntry[] {
  const from = direction === 'client-to-gateway' ? `${SENDER[endpoint]} -> gateway` : `Gateway -> ${RECEIVER[endpoint]}`;
  return Object.entries(table).map(([type, schema]) => ({
    file: direction === 'client-to-gateway' ? `${endpoint}/${type}.json` : `${endpoint}/server/${type}.json`,
    endpoint,
    direction,
    type,
    schema,
    description: `${from} on ${WHERE[endpoint]}.`,
  }));
}

function eventEntries(): SchemaEntry[] {
  return Object.entries(OperatorEvents).flatMap(([topic, events]) =>
    Object.entries(events as Record<string, TSchema>).map(([event, schema]) => ({
      file: eventFile(topic, event),
      endpoint: 'operator' as const,
      direction: 'gateway-to-client' as const,
      type: 'event',
      topic,
      event,
      title: `event ${topic}/${event}`,
      schema,
      description: `Gateway -> operator on ${WHERE.operator}, subscribed to topic \`${topic}\`.`,
    })),
  );
}

/** The file of an event frame's full schema. */
export function eventFile(topic: string, event: string): string {
  return `operator/server/events/${topic}/${event}.json`;
}

/** Every exported schema, in file order. */
export function schemaEntries(): SchemaEntry[] {
  const all: SchemaEntry[] = [
    ...entriesOf('legacy', 'client-to-gateway', {
      identity: IdentityFrame,
      message: RoomMessageFrame,
      query_room: QueryRoomFrame,
      message_ack: MessageAckFrame,
      register: RegisterFrame,
      signal: SignalFrame,
    }),
    ...entriesOf('legacy', 'gateway-to-client', { ...LegacyServerFrames, fleet_gap: FleetGapFrameSchema }),
    ...entriesOf('esp32', 'client-to-gateway', BoardFrames),
    ...entriesOf('esp32', 'gateway-to-client', { ...GatewayToBoardFrames, ...SessionBoardFrames }),
    ...entriesOf('user', 'client-to-gateway', UserFrames),
    ...entriesOf('user', 'gateway-to-client', UserServerFrames),
    ...entriesOf('operator', 'client-to-gateway', AllOperatorRequestFrames),
    ...entriesOf('operator', 'gateway-to-client', { ...OperatorServerFrames, fleet_gap: FleetGapFrameSchema }),
    ...eventEntries(),
    // `text` stands for every type an application registered a handler for: the envelope alone.
    ...entriesOf('ws', 'client-to-gateway', { ...EnvelopeFrames, text: EnvelopeTextFrame }),
    ...entriesOf('ws', 'gateway-to-client', EnvelopeServerFrames),
    {
      file: `discovery/${PROBE_TYPE}.json`,
      endpoint: 'discovery',
      direction: 'client-to-gateway',
      type: PROBE_TYPE,
      schema: ProbeFrame,
      description: `Board -> broadcast, UDP port ${PROBE_PORT}, at most ${PROBE_MAX_BYTES} bytes.`,
    },
    {
      file: `discovery/server/${PROBE_ANSWER_TYPE}.json`,
      endpoint: 'discovery',
      direction: 'gateway-to-client',
      type: PROBE_ANSWER_TYPE,
      schema: ProbeAnswerFrame,
      description: 'Gateway -> the probing board, UDP unicast to the probe\'s source address and port.',
    },
    {
      file: 'error.json',
      endpoint: null,
      direction: 'gateway-to-client',
      type: 'error',
      schema: ErrorFrameSchema,
      description: 'Gateway -> client on every WebSocket endpoint: a frame was refused. The connection stays open, except after UNAUTHORIZED (closed with 4401).',
    },
  ];
  return all.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
