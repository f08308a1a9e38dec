/**
 * The shape of a gateway part (sessions, USB, discovery) and of the one
 * request table every part and the core answer through.
 *
 * A request names its schema (the frame an operator sends on /ws/admin/), its
 * handler and, when it has one, its HTTP route below /api. The dispatcher
 * (dispatch.ts) validates WebSocket frames and HTTP bodies with the same
 * schema, so both transports answer the same thing in the same shape: the
 * WebSocket reply is `{type, id?, ...body}`, the HTTP body is `body`.
 */
import type { TlsMaterial } from './tls/cert.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Peer } from './peer.js';
import type { SampleSink } from './samples.js';
import type { DiscoveredService } from './discovery/browse.js';
import type { OperatorReplyBody, OperatorReplyType } from '../../firmware-protocol/index.js';

/** `METHOD /path` below /api; `:name` segments fill the request field `name`. */
export type RouteSpec = `${'GET' | 'POST' | 'PUT' | 'DELETE'} /${string}`;

/** Who asked. */
export interface Caller {
  readonly transport: 'ws' | 'http';
  /** The operator's socket, for WebSocket requests (subscriptions hang off it); null over HTTP. */
  readonly peer: Peer | null;
}

export interface Answer {
  /** `type` of the reply frame on the operator socket. */
  readonly type: string;
  /** The reply's fields; over HTTP, the body as it is. */
  readonly body: Record<string, unknown>;
  /** HTTP status of this answer; default the request's `status`, else 200. */
  readonly status?: number;
}

export interface RequestDef<S extends TSchema = TSchema> {
  readonly schema: S;
  /** The HTTP route, if the request has one. */
  readonly http?: RouteSpec;
  /** HTTP status of a successful answer. Default 200. */
  readonly status?: number;
  /** Throws a CourtsideError for anything the caller should see as an error. */
  handle(req: Static<S>, caller: Caller): Answer | Promise<Answer>;
}

// A table holds requests of many schemas; each entry is checked by `defineRequest` where it is written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestTable = Record<string, RequestDef<any>>;

/**
 * A reply, typed by the contract: the body must be what firmware-protocol's
 * schema for that reply type says (a field missing or misnamed fails to compile).
 */
export function answer<T extends OperatorReplyType>(type: T, body: OperatorReplyBody<T>, status?: number): Answer {
  return status === undefined ? { type, body: body as Record<string, unknown> } : { type, body: body as Record<string, unknown>, status };
}

/** Types the handler's request from its schema. */
export function defineRequest<S extends TSchema>(schema: S, def: Omit<RequestDef<S>, 'schema'>): RequestDef<S> {
  return { schema, ...def };
}

/** One HTTP exchange for a raw route (streams, uploads) that is no JSON request; a handler throws a CourtsideError to refuse. */
export interface HttpExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** `:name` segments of the route, decoded. */
  readonly params: Readonly<Record<string, string>>;
  json(status: number, body: unknown): void;
}

/** A route whose body is not JSON: a zip download, a firmware upload, a CSV. */
export interface RawRoute {
  readonly http: RouteSpec;
  handle(h: HttpExchange): Promise<void>;
}

/** Hooks on the data plane: at most one part provides each (a second is an error at start). */
export interface PartHooks {
  /** Where sample frames go; none: live view only. */
  readonly sampleSink?: SampleSink;
  /** Answers a player's session_status; none: always "no session". */
  readonly sessionStatus?: (userId: string, sessionId: string | undefined) => Promise<Record<string, unknown> | null>;
  /** Services seen on the LAN, merged into the device list. */
  readonly lanDevices?: () => DiscoveredService[];
}

export type HookName = keyof PartHooks;

export interface GatewayPart {
  readonly name: string;
  /** Operator requests this part answers, by request type. */
  readonly requests?: RequestTable;
  readonly rawRoutes?: readonly RawRoute[];
  readonly hooks?: PartHooks;
  /** Extra fields for get_system_status and /api/status. */
  status?(): Record<string, unknown>;
  /** Runs after the server listens (the real port is known). */
  start?(listening: { port: number }): Promise<void>;
  /** Runs before the server closes; flush what must be flushed. */
  close?(): Promise<void>;
  /** A made certificate was renewed while running; new connections get it (whatever advertises the fingerprint says the new one). */
  certificateRenewed?(tls: TlsMaterial): void;
}
