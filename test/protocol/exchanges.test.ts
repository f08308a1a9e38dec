/**
 * (e) PROTOCOL.md's exchanges and bad examples against a real gateway: each
 * `→` line is sent as written, each `←` line must be the next frame on that
 * connection, equal in every field except the ids and times the gateway makes
 * up (and the fields an example elides with `"...": "..."`), every frame the
 * gateway sends must fit its exported schema, and nothing undocumented may
 * follow.
 *
 * The gateways run the standard parts (sessions, USB) plus discovery with mDNS and
 * the UDP probe off, so every operator request the document shows is answered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../main/gateway/clock.js';
import { OperatorFrames } from '../../firmware-protocol/index.js';
import { schemaEntries } from '../../firmware-protocol/export-schemas.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';
import { ELIDED, SCHEMA_DIR, badPair, endpointOf, fileForGatewayFrame, parseClients, parseSteps, readBlocks, splitName, type Block } from './doc.js';
import { firstError } from './json-schema.js';

/** The parts every test gateway here runs: no multicast, no broadcast, no UDP port. */

/** Times the gateway reads from its clock: only their JSON type is compared. */
const TIMES = new Set([
  'server_time', 'timestamp', 'at', 'uptime_s', 'created_at', 'joined_at', 'sent_at', 'connected_at', 'last_seen_at', 'last_heartbeat_at', 'status_at',
  'started_at', 'stopped_at', 'completed_at', 'first_seen', 'last_seen',
]);
/** Ids the gateway makes up: the example's values stand for the gateway's one to one, so where the example repeats an id the gateway must too, and where it uses another id the gateway must as well. */
const IDS = new Set(['room_id', 'message_id', 'command_id', 'command_ids', 'token', 'session_id', 'gateway_id']);

const schemaCache = new Map<string, Record<string, unknown>>();
function schemaFile(file: string): Record<string, unknown> {
  let s = schemaCache.get(file);
  if (!s) schemaCache.set(file, (s = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>));
  return s;
}
type Made = 'time' | 'id' | null;

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Documented value -> the value the gateway used, for the ids of one exchange. */
class Ids {
  readonly map = new Map<unknown, unknown>();

  /** Replaces documented ids inside a string (room ids in error messages, ids in frames to send). */
  subst(text: string): string {
    let out = text;
    for (const [doc, real] of this.map) {
      if (typeof doc !== 'string' || typeof real !== 'string' || doc.length < 6) continue;
      out = out.split(doc).join(real).split(doc.toLowerCase()).join(real.toLowerCase());
    }
    // Numeric ids (a message_id a client acks) only where they stand as such a field's value.
    return out.replace(/"message_id":(\d+)/g, (whole, n: string) => {
      const real = this.map.get(Number(n));
      return typeof real === 'number' ? `"message_id":${real}` : whole;
    });
  }
}

/** The first difference between a documented frame and a received one, or null. */
function difference(doc: unknown, got: unknown, ids: Ids, path: string, made: Made): string | null {
  if (jsonType(doc) !== jsonType(got)) return `${path}: documented ${jsonType(doc)}, got ${JSON.stringify(got)}`;
  if (Array.isArray(doc)) {
    const g = got as unknown[];
    if (doc.length !== g.length) return `${path}: documented ${doc.length} items, got ${g.length}`;
    for (let i = 0; i < doc.length; i++) {
      const d = difference(doc[i], g[i], ids, `${path}[${i}]`, made);
      if (d) return d;
    }
    return null;
  }
  if (typeof doc === 'object' && doc !== null) {
    const d = doc as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    const elided = d[ELIDED] === ELIDED;
    const shown = Object.keys(d).filter((k) => !(elided && k === ELIDED));
    if (elided) {
      const absent = shown.filter((k) => !(k in g));
      if (absent.length) return `${path}: documented fields ${absent.join(',')} are not in ${JSON.stringify(got).slice(0, 200)}`;
    } else {
      const dk = shown.sort().join(',');
      const gk = Object.keys(g).sort().join(',');
      if (dk !== gk) return `${path}: documented fields ${dk}, got ${gk}`;
    }
    for (const k of shown) {
      const r = difference(d[k], g[k], ids, path ? `${path}.${k}` : k, made ?? (TIMES.has(k) ? 'time' : IDS.has(k) ? 'id' : null));
      if (r) return r;
    }
    return null;
  }
  if (made === 'time') return null;
  if (made === 'id') {
    if (ids.map.has(doc)) {
      const was = ids.map.get(doc);
      return was === got ? null : `${path}: the example repeats ${JSON.stringify(doc)}, which was ${JSON.stringify(was)}, got ${JSON.stringify(got)}`;
    }
    for (const [other, real] of ids.map) {
      if (real === got) return `${path}: the example has ${JSON.stringify(doc)} where the gateway repeated ${JSON.stringify(got)} (documented before as ${JSON.stringify(other)})`;
    }
    ids.map.set(doc, got);
    return null;
  }
  const want = typeof doc === 'string' ? ids.subst(doc) : doc;
  return want === got ? null : `${path}: documented ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const urlOf = (gw: TestGateway, path: string) => gw.url + path.replace('OPERATOR_TOKEN', OPERATOR_TOKEN);

async function runExchange(b: Block): Promise<void> {
  const clients = parseClients(b.arg);
  const steps = parseSteps(b);
  const clock = new ManualClock(1_732_212_000_000);
  // Keepalive off: the manual clock only moves when an example says so.
  const gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, commandResendMs: 10_000, discovery: { mdns: false, udpProbePort: false } });
  const open = new Map<string, TestClient>();
  const ids = new Ids();
  const conn = async (who: string, line: number) => {
    const path = clients.get(who);
    assert.ok(path !== undefined, `PROTOCOL.md:${line}: no connection '${who}' in the marker`);
    let c = open.get(who);
    if (!c) open.set(who, (c = await TestClient.connect(urlOf(gw, path))));
    return c;
  };
  try {
    for (const s of steps) {
      const at = `PROTOCOL.md:${s.line}`;
      switch (s.op) {
        case 'send': {
          const c = await conn(s.who, s.line);
          if (s.binary) c.ws.send(s.binary);
          else c.send(ids.subst(s.text));
          break;
        }
        case 'expect': {
          const c = await conn(s.who, s.line);
          let got: Frame;
          try {
            got = await c.next(undefined, 3000);
          } catch (err) {
            assert.fail(`${at}: ${(err as Error).message}`);
          }
          const d = difference(s.frame, got, ids, '', null);
          assert.equal(d, null, `${at}: ${d}\n  documented: ${JSON.stringify(s.frame)}\n  got:        ${JSON.stringify(got)}`);
          // What the gateway really sent, elided fields included, fits the exported schema.
          const file = fileForGatewayFrame(endpointOf(clients.get(s.who)!), got);
          if (file !== null) {
            const e = firstError(schemaFile(file), got);
            assert.equal(e, null, `${at}: the gateway's frame does not fit ${file}: ${e}\n  got: ${JSON.stringify(got)}`);
          }
          break;
        }
        case 'disconnect': {
          const c = open.get(s.who);
          assert.ok(c, `${at}: '${s.who}' is not connected`);
          await c.close();
          open.delete(s.who);
          // Let the gateway run its close handler (leave, presence) before the next step.
          await sleep(50);
          break;
        }
        case 'later':
          clock.advance(s.ms);
          break;
      }
    }
    // The example is the whole story: nothing undocumented follows.
    for (const [who, c] of open) {
      const extra = await c.next(undefined, 100).catch(() => null);
      assert.equal(extra, null, `PROTOCOL.md:${b.line}: '${who}' got an undocumented frame ${JSON.stringify(extra)}`);
    }
  } finally {
    await Promise.all([...open.values()].map((c) => c.close()));
    await gw.stop();
  }
}

const blocks = readBlocks();

describe('(e) PROTOCOL.md exchanges against a real gateway', () => {
  const exchanges = blocks.filter((b) => b.kind === 'exchange');
  test('there are exchanges on every endpoint', () => {
    const paths = exchanges.flatMap((b) => [...parseClients(b.arg).values()]).join(' ');
    for (const p of ['/ws/esp32/', '/ws/miniprogram/', '/ws/admin/']) assert.ok(paths.includes(p), p);
    assert.ok(exchanges.some((b) => [...parseClients(b.arg).values()].includes('/')));
  });
  for (const b of exchanges) {
    const first = b.body.split('\n').find((l) => /→|←/.test(l)) ?? '';
    test(`line ${b.line}: ${b.arg} ${first.slice(0, 70)}`, () => runExchange(b));
  }
});

describe('(e) PROTOCOL.md bad examples against a real gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ heartbeatIntervalMs: 0, discovery: { mdns: false, udpProbePort: false } });
  });
  after(() => gw.stop());

  test('every operator request the gateway answers is exported with the schema it validates with', () => {
    const table: Record<string, unknown> = { ...gw.requestSchemas };
    for (const type of Object.keys(OperatorFrames)) assert.ok(type in table, `core request '${type}' is not in the dispatcher`);
    const exported = new Map(schemaEntries().filter((e) => e.endpoint === 'operator' && e.direction === 'client-to-gateway').map((e) => [e.type, e.schema]));
    // JSON.stringify drops TypeBox's symbols: what is compared is the JSON Schema itself, less its $id and title.
    const plain = (x: unknown) => JSON.stringify({ ...(x as object), $id: undefined, title: undefined });
    for (const [type, schema] of Object.entries(table)) {
      assert.ok(exported.has(type), `operator request '${type}' has no exported schema`);
      assert.equal(plain(exported.get(type)), plain(schema), type);
    }
    assert.deepEqual([...exported.keys()].filter((t) => !(t in table)), [], 'exported operator requests the gateway does not answer');
  });

  /** A connection in the state the frame named by the marker is sent in. */
  async function ready(name: string, n: number): Promise<TestClient> {
    const [endpoint, type] = splitName(name);
    const id = `bad-${n}`;
    if (endpoint === 'legacy') {
      const c = await TestClient.connect(gw.url + '/');
      if (type === 'message' || type === 'query_room' || type === 'message_ack') {
        c.send({ device_id: id, identity: 'test' });
        await c.next('connection');
        await c.next('room');
      } else if (type === 'signal') {
        await c.ask({ type: 'register', client_id: id }, 'registered');
      }
      return c;
    }
    const path = { esp32: `/ws/esp32/${id}/`, user: `/ws/miniprogram/${id}/`, operator: `/ws/admin/?token=${OPERATOR_TOKEN}`, ws: '/ws' }[endpoint];
    assert.ok(path, `no WebSocket endpoint for ${name}`);
    const c = await TestClient.connect(gw.url + path);
    // `/ws` greets in its envelope, with a system frame.
    assert.equal((await c.next()).type, endpoint === 'ws' ? 'system' : 'connection_established');
    return c;
  }

  const bad = blocks.filter((b) => b.kind === 'bad');
  bad.forEach((b, n) => {
    const { text, error } = badPair(b);
    // An envelope error (`/ws`) has its code and message in `content`.
    const shown = (error as { content?: { code: string; error: string } }).content ?? { code: error.code, error: error.message };
    test(`line ${b.line}: ${b.arg} -> ${shown.code}: ${shown.error.slice(0, 60)}`, async () => {
      const c = await ready(b.arg, n);
      try {
        c.send(text);
        const got = await c.next();
        // The envelope's timestamp is the gateway's clock; the examples leave it out.
        if (splitName(b.arg)[0] === 'ws') delete got.timestamp;
        assert.deepEqual(got, error);
      } finally {
        await c.close();
      }
    });
  });
});
