/**
 * The one dispatcher: every operator request of the core and of every part,
 * over the operator WebSocket and over HTTP, goes through one table that
 * names its schema, its handler and its HTTP route. Built once at start; a
 * request type or route claimed twice is an error then, not a silent
 * overwrite.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FrameParser, isObject, type FrameTable } from '../../firmware-protocol/index.js';
import { CourtsideError, errorText, gatewayError } from './errors.js';
import type { Logger } from './log.js';
import type { Answer, Caller, HttpExchange, RawRoute, RequestDef, RequestTable, RouteSpec } from './parts.js';
import type { Peer } from './peer.js';

/** Largest JSON body the operator API reads. */
export const MAX_JSON_BODY = 64 * 1024;

interface CompiledRoute {
  method: string;
  /** Literal segments, or `:name` placeholders. */
  segments: string[];
  spec: RouteSpec;
  owner: string;
}

function compileRoute(spec: RouteSpec, owner: string): CompiledRoute {
  const [method, path] = spec.split(' ') as [string, string];
  return { method, segments: path.split('/').filter(Boolean), spec, owner };
}

/** `%ZZ` and other broken escapes are the client's mistake: a 400, never a thrown URIError. */
export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw gatewayError('BAD_REQUEST', 'the path has a malformed %-escape');
  }
}

function match(r: CompiledRoute, method: string, segs: readonly string[]): Record<string, string> | null {
  if (r.method !== method || r.segments.length !== segs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segs.length; i++) {
    const want = r.segments[i]!;
    if (want.startsWith(':')) params[want.slice(1)] = segs[i]!;
    else if (want !== segs[i]) return null;
  }
  return params;
}

/** The error frame or HTTP body for anything a handler threw. */
export function userError(err: unknown, log: Logger, what: string): CourtsideError {
  if (err instanceof CourtsideError) return err;
  log.warn('request failed', { request: what, error: errorText(err) });
  return gatewayError('UNAVAILABLE', 'gateway temporarily unavailable, try again');
}

export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        req.resume();
        return reject(gatewayError('BODY_TOO_LARGE', max));
      }
      chunks.push(c);
    });
    req.on('end', () => !failed && resolve(Buffer.concat(chunks)));
    req.on('error', () => !failed && ((failed = true), reject(gatewayError('BAD_REQUEST', 'request aborted'))));
  });
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_JSON_BODY)).toString('utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw gatewayError('BAD_REQUEST', 'body is not valid JSON');
  }
  if (!isObject(v)) throw gatewayError('BAD_REQUEST', 'body must be a JSON object');
  return v;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: CourtsideError): void {
  if (res.headersSent) return void res.destroy();
  sendJson(res, err.status, { error: { code: err.code, message: err.message } });
}

export interface RequestSource {
  readonly name: string;
  readonly requests?: RequestTable;
  readonly rawRoutes?: readonly RawRoute[];
}

export class Dispatcher {
  private readonly defs = new Map<string, { def: RequestDef; owner: string }>();
  private readonly routes: (CompiledRoute & ({ kind: 'request'; type: string } | { kind: 'raw'; raw: RawRoute }))[] = [];
  private readonly parser: FrameParser<FrameTable>;

  constructor(
    sources: readonly RequestSource[],
    private readonly log: Logger,
  ) {
    const table: Record<string, TSchema> = {};
    // Routes that differ only in the names of their `:params` are the same route.
    const owners = new Map<string, string>();
    const claim = (spec: RouteSpec, owner: string) => {
      const c = compileRoute(spec, owner);
      const shape = `${c.method} /${c.segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/')}`;
      const clash = owners.get(shape);
      if (clash !== undefined) throw gatewayError('DUPLICATE_ROUTE', spec, clash, owner);
      owners.set(shape, owner);
      return c;
    };
    for (const src of sources) {
      for (const [type, def] of Object.entries(src.requests ?? {})) {
        const literal = (def.schema as { properties?: { type?: { const?: unknown } } }).properties?.type?.const;
        if (literal !== type) throw new Error(`request table of ${src.name}: entry '${type}' has the schema of '${String(literal)}'`);
        const prev = this.defs.get(type);
        if (prev) throw gatewayError('DUPLICATE_REQUEST', type, prev.owner, src.name);
        this.defs.set(type, { def, owner: src.name });
        table[type] = def.schema;
        if (def.http) this.routes.push({ ...claim(def.http, src.name), kind: 'request', type });
      }
      for (const raw of src.rawRoutes ?? []) this.routes.push({ ...claim(raw.http, src.name), kind: 'raw', raw });
    }
    this.parser = new FrameParser(table);
  }

  /** Every request type with the schema it is validated with (the schema export is checked against it). */
  schemas(): Record<string, TSchema> {
    return Object.fromEntries([...this.defs].map(([type, d]) => [type, d.def.schema]));
  }

  /** One text frame from an operator socket: validated, answered or refused with an error frame. */
  async frame(text: string, peer: Peer): Promise<void> {
    const p = this.parser.parse(text);
    if (!p.ok) return peer.refuse(p.error, text);
    const f = p.frame as { type: string; id?: string | number };
    const reply = (a: Answer) => peer.send(f.id === undefined ? { type: a.type, ...a.body } : { type: a.type, id: f.id, ...a.body });
    try {
      reply(await this.defs.get(f.type)!.def.handle(f, { transport: 'ws', peer }));
    } catch (err) {
      const e = userError(err, this.log, f.type);
      peer.send(f.id === undefined ? { type: 'error', code: e.code, message: e.message } : { type: 'error', code: e.code, message: e.message, id: f.id });
    }
  }

  /**
   * An /api request (token and Origin already checked); `path` is below /api.
   * Resolves false when no route matches.
   */
  async http(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    const segs = path.split('/').filter(Boolean).map(decodeSegment);
    for (const r of this.routes) {
      const params = match(r, method, segs);
      if (!params) continue;
      if (r.kind === 'raw') {
        const h: HttpExchange = { req, res, url, params, json: (s, b) => sendJson(res, s, b) };
        try {
          await r.raw.handle(h);
        } catch (err) {
          sendError(res, userError(err, this.log, r.spec));
        }
        return true;
      }
      const { def } = this.defs.get(r.type)!;
      try {
        const text: Record<string, unknown> = {};
        if (method === 'GET' || method === 'DELETE') {
          // The operator token may ride in the query; it is no request field.
          for (const [k, v] of url.searchParams) if (k !== 'token') text[k] = v;
        }
        Object.assign(text, params, { type: r.type });
        // Query strings and path segments are text: numbers and booleans are read as the schema types them.
        // A JSON body is taken as it is, so `{"command": 5}` stays a number and fails as one.
        const body = method === 'GET' || method === 'DELETE' ? {} : await readJsonObject(req);
        const fields: Record<string, unknown> = { ...body, ...(Value.Convert(def.schema, text) as Record<string, unknown>) };
        delete fields.id;
        const p = this.parser.check(fields);
        if (!p.ok) throw gatewayError('BAD_REQUEST', p.error.message);
        const a = await def.handle(p.frame, { transport: 'http', peer: null } satisfies Caller);
        sendJson(res, a.status ?? def.status ?? 200, a.body);
      } catch (err) {
        sendError(res, userError(err, this.log, r.spec));
      }
      return true;
    }
    return false;
  }
}
