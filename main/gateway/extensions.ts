/**
 * Parts of the gateway that add operator requests and HTTP routes (sessions,
 * USB provisioning, discovery) plug in here, so the operator endpoint and the
 * HTTP API stay one place each and every part answers in the same shapes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import type { FrameErrorCode } from '../../firmware-protocol/index.js';
import type { GatewayContext } from './context.js';
import type { Peer } from './peer.js';

export interface OperatorRequest {
  type: string;
  id?: string | number;
  [field: string]: unknown;
}

export interface OperatorReply {
  readonly peer: Peer;
  /** Sends `{type, id?, ...body}`. */
  reply(type: string, body: Record<string, unknown>): void;
  error(code: FrameErrorCode, message: string): void;
}

export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Path below /api, e.g. `/sessions/abc/export`. */
  path: string;
  /** Path segments below /api, decoded. */
  segments: string[];
  url: URL;
  json(status: number, body: unknown): void;
  fail(status: number, code: string, message: string): void;
  readJson(): Promise<{ ok: true; value: unknown } | { ok: false; message: string }>;
}

export interface GatewayExtension {
  readonly name: string;
  /** Operator request frames this part answers, by type (validated before `handle`). */
  readonly frames?: Record<string, TSchema>;
  handle?(frame: OperatorRequest, op: OperatorReply): void | Promise<void>;
  /** Handles an /api request if it is this part's; resolves false otherwise. Token and Origin are already checked. */
  http?(h: HttpContext): Promise<boolean>;
  /** Extra fields for get_system_status and /api/status. */
  status?(): Record<string, unknown>;
  /** Runs after the server listens (the real port is known). */
  start?(): Promise<void>;
  /** Runs before the server closes; flush what must be flushed. */
  close?(): Promise<void>;
}

export type ExtensionFactory = (ctx: GatewayContext) => GatewayExtension | Promise<GatewayExtension>;
