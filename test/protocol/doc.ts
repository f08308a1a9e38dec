/**
 * Reads the examples out of firmware-protocol/PROTOCOL.md, by the conventions
 * its last section states: an HTML comment marker on its own line, then a
 * fenced block. Anything malformed throws with the line number, so a typo in
 * the document fails the tests instead of silently dropping an example.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  BoardFrames,
  FrameParser,
  IdentityFrame,
  OperatorFrames,
  QueryRoomFrame,
  MessageAckFrame,
  RegisterFrame,
  RoomMessageFrame,
  SessionOperatorFrames,
  AllOperatorRequestFrames,
  SignalFrame,
  UserFrames,
  UsbFrames,
  checkOne,
  compile,
  errorFrame,
  isObject,
  parseJson,
  type ErrorFrame,
} from '../../firmware-protocol/index.js';
import { parseProbe } from '../../firmware-protocol/discovery.js';
import { parseEnvelope } from '../../firmware-protocol/envelope.js';
import { DiscoveryOperatorFrames } from '../../firmware-protocol/discovery.js';
import { eventFile, schemaEntries } from '../../firmware-protocol/export-schemas.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PROTOCOL_MD = join(ROOT, 'firmware-protocol/PROTOCOL.md');
export const SCHEMA_DIR = join(ROOT, 'firmware-protocol/schemas');

export type Kind = 'frame' | 'bad' | 'gateway' | 'exchange' | 'c';

export interface Block {
  kind: Kind;
  /** What follows the colon in the marker. */
  arg: string;
  lang: string;
  body: string;
  /** 1-based line of the marker. */
  line: number;
}

export function readBlocks(text = readFileSync(PROTOCOL_MD, 'utf8')): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!--\s*(frame|bad|gateway|exchange|c):\s*(.*?)\s*-->\s*$/.exec(lines[i]!);
    if (!m) {
      if (/^<!--\s*(frame|bad|gateway|exchange|c)\b/.test(lines[i]!)) throw new Error(`PROTOCOL.md:${i + 1}: malformed marker`);
      continue;
    }
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const fence = /^```(\w*)\s*$/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`PROTOCOL.md:${i + 1}: marker not followed by a fenced block`);
    const body: string[] = [];
    let k = j + 1;
    for (; k < lines.length && !/^```\s*$/.test(lines[k]!); k++) body.push(lines[k]!);
    if (k >= lines.length) throw new Error(`PROTOCOL.md:${i + 1}: fenced block not closed`);
    out.push({ kind: m[1] as Kind, arg: m[2]!, lang: fence[1]!, body: body.join('\n'), line: i + 1 });
    i = k;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Exchanges: `→`/`←` lines, optionally labelled, and the two directives.
// ---------------------------------------------------------------------------

export type Step =
  | { op: 'send'; who: string; text: string; binary: Buffer | null; line: number }
  | { op: 'expect'; who: string; frame: Record<string, unknown>; line: number }
  | { op: 'disconnect'; who: string; line: number }
  | { op: 'later'; ms: number; line: number };

export function parseSteps(b: Block): Step[] {
  const steps: Step[] = [];
  b.body.split('\n').forEach((raw, n) => {
    const line = b.line + 2 + n;
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    let m = /^\((?:(\w+) )?disconnects\)$/.exec(l);
    if (m) return void steps.push({ op: 'disconnect', who: m[1] ?? '', line });
    m = /^\((\d+) s later\)$/.exec(l);
    if (m) return void steps.push({ op: 'later', ms: Number(m[1]) * 1000, line });
    m = /^(\w*)(→|←) (.*)$/.exec(l);
    if (!m) throw new Error(`PROTOCOL.md:${line}: not an exchange line: ${l}`);
    const [, who = '', arrow, rest = ''] = m;
    if (arrow === '→') {
      const bin = /^<binary((?: [0-9a-f]{2})+)>$/.exec(rest);
      steps.push({ op: 'send', who, text: rest, binary: bin ? Buffer.from(bin[1]!.trim().split(' ').map((h) => parseInt(h, 16))) : null, line });
      return;
    }
    const j = parseJson(rest);
    if (!j.ok || !isObject(j.value)) throw new Error(`PROTOCOL.md:${line}: a gateway frame must be a JSON object`);
    steps.push({ op: 'expect', who, frame: j.value, line });
  });
  return steps;
}

/** `A=/path B=/path` or a bare `/path` (label ''). */
export function parseClients(arg: string): Map<string, string> {
  const clients = new Map<string, string>();
  for (const part of arg.split(/\s+/).filter(Boolean)) {
    const m = /^(?:(\w+)=)?(\/\S*)$/.exec(part);
    if (!m) throw new Error(`exchange marker: cannot read '${part}'`);
    clients.set(m[1] ?? '', m[2]!);
  }
  return clients;
}

/** The endpoint a path belongs to, as named in schemas/. */
export function endpointOf(path: string): 'legacy' | 'esp32' | 'user' | 'operator' | 'ws' {
  const p = path.split('?')[0]!;
  if (p === '/ws' || p === '/ws/') return 'ws';
  if (p === '/' || p === '') return 'legacy';
  if (p.startsWith('/ws/esp32/')) return 'esp32';
  if (p.startsWith('/ws/miniprogram/')) return 'user';
  if (p.startsWith('/ws/admin')) return 'operator';
  throw new Error(`no endpoint for ${path}`);
}

// ---------------------------------------------------------------------------
// Elision: an object in a documented gateway frame may carry the field
// `"...": "..."`, which stands for the fields not shown. Those are not
// compared; the frame the gateway really sent is still checked against its
// schema when the exchange runs.
// ---------------------------------------------------------------------------

export const ELIDED = '...';

/** True if the frame, at any depth, leaves fields out. */
export function hasElision(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasElision);
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (ELIDED in o && o[ELIDED] === ELIDED) || Object.values(o).some(hasElision);
}

/** The schema file of a frame the gateway sent on an endpoint (an event's own file for an event), or null for a notification whose shape the sender chose. */
export function fileForGatewayFrame(endpoint: string, frame: Record<string, unknown>): string | null {
  if (frame.type === 'error') return 'error.json';
  if (endpoint === 'legacy' && 'from' in frame && !('from_device_id' in frame)) return 'legacy/server/signal.json';
  if (endpoint === 'operator' && frame.type === 'event') {
    // An event is checked against its own schema, not only the envelope every event shares.
    const file = eventFile(String(frame.topic).split(':')[0]!, String(frame.event));
    if (schemaEntries().some((e) => e.file === file)) return file;
    throw new Error(`no schema for event '${String(frame.event)}' on topic '${String(frame.topic)}'`);
  }
  const file = `${endpoint}/server/${String(frame.type)}.json`;
  if (schemaEntries().some((e) => e.file === file)) return file;
  if (endpoint === 'user') return null;
  throw new Error(`no schema for a '${String(frame.type)}' frame on ${endpoint}`);
}

/** A `bad` block: exactly one frame sent and the error it gets. */
export function badPair(b: Block): { text: string; error: ErrorFrame } {
  const steps = parseSteps(b);
  const sends = steps.filter((s) => s.op === 'send');
  const expects = steps.filter((s) => s.op === 'expect');
  if (steps.length !== 2 || sends.length !== 1 || expects.length !== 1 || sends[0]!.who !== '' || expects[0]!.who !== '') {
    throw new Error(`PROTOCOL.md:${b.line}: a bad example is one → line and one ← line`);
  }
  const e = expects[0]!.frame;
  if (e.type !== 'error') throw new Error(`PROTOCOL.md:${b.line}: a bad example's reply must be an error frame`);
  return { text: sends[0]!.text, error: e as unknown as ErrorFrame };
}

/** `esp32/heartbeat` -> ['esp32', 'heartbeat']. */
export function splitName(arg: string): [string, string] {
  const m = /^(legacy|esp32|user|operator|discovery|ws)\/(\w+)$/.exec(arg);
  if (!m) throw new Error(`marker '${arg}' is not ENDPOINT/TYPE`);
  return [m[1]!, m[2]!];
}

// ---------------------------------------------------------------------------
// The gateway's validation, without a gateway: the same parsers the endpoint
// modules use, and for `/` the first-frame rule of endpoints/legacy.ts.
// ---------------------------------------------------------------------------

const board = new FrameParser(BoardFrames);
const user = new FrameParser(UserFrames);
// The operator endpoint's table: the core requests plus those of the parts the test gateways run (sessions, USB, discovery).
// Every operator request of the standard gateway, from the contract's one table.
const operator = new FrameParser(AllOperatorRequestFrames);
const room = new FrameParser({ message: RoomMessageFrame, query_room: QueryRoomFrame, message_ack: MessageAckFrame });
const identityCheck = compile(IdentityFrame);
const registerCheck = compile(RegisterFrame);
const signalCheck = compile(SignalFrame);

export type Verdict = { ok: true } | { ok: false; error: ErrorFrame };

/** How the gateway answers `text` sent as frame `name` (the state the frame is sent in follows from the name). */
export function validateAs(name: string, text: string): Verdict {
  const [endpoint, type] = splitName(name);
  const asVerdict = (p: { ok: true } | { ok: false; error: ErrorFrame }): Verdict => (p.ok ? { ok: true } : { ok: false, error: p.error });
  switch (endpoint) {
    case 'esp32':
      return asVerdict(board.parse(text));
    case 'user':
      return asVerdict(user.parse(text));
    case 'operator':
      return asVerdict(operator.parse(text));
    case 'ws': {
      // The envelope's error frame, less the timestamp the gateway stamps (the examples leave it out).
      const r = parseEnvelope(text);
      if (r.ok) return { ok: true };
      const e = { ...(r.id === undefined ? {} : { id: r.id }), type: 'error', content: { code: r.error.code, error: r.error.message, originalMessageId: r.id ?? null } };
      return { ok: false, error: e as unknown as ErrorFrame };
    }
    case 'discovery': {
      const r = parseProbe(text);
      return r.ok ? { ok: true } : { ok: false, error: errorFrame('BAD_FRAME', r.error) };
    }
  }
  // Endpoint `/`: the same order of checks as endpoints/legacy.ts.
  const j = parseJson(text);
  if (!j.ok) return { ok: false, error: errorFrame('INVALID_JSON') };
  if (!isObject(j.value)) return { ok: false, error: errorFrame('NOT_AN_OBJECT') };
  const v = j.value;
  if (type === 'message' || type === 'query_room' || type === 'message_ack') return asVerdict(room.check(v));
  if (type === 'signal') return asVerdict(checkOne(signalCheck, v));
  // identity and register: the first frame.
  if (v.type === 'register') return asVerdict(checkOne(registerCheck, v));
  if (v.device_id === undefined && v.type !== undefined) {
    return { ok: false, error: errorFrame('NOT_IDENTIFIED', 'send your identity first: {"device_id","identity","room_id"?} or {"type":"register","client_id"}') };
  }
  return asVerdict(checkOne(identityCheck, v));
}
