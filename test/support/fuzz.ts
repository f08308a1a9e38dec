/**
 * Hostile frames against `courtside serve` as shipped (its own process): on
 * every WebSocket endpoint, valid frames mutated (types swapped, fields
 * dropped, values huge, nested deep, JSON cut short, bytes that are no UTF-8,
 * binary junk), each batch followed by a probe frame the endpoint always
 * answers. A frame is unanswered when its connection goes silent: the probe
 * gets no reply in time. Also malformed HTTP requests (test/hardening's
 * generator). The server's RSS is read from /proc while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CLI, ROOT } from './cli.js';
import { malformedRequest, rawHttp } from './http-junk.js';
import { mulberry32 } from '../../main/gateway/sessions/analysis/prng.js';

export interface FuzzOptions {
  /** Fuzz frames in all, spread over the endpoints. */
  frames: number;
  /** Malformed HTTP requests. */
  httpRequests: number;
  /** Frames per batch before a probe. Default 20. */
  batch?: number;
  /** Connections per endpoint. Default 2. */
  connections?: number;
  seed?: number;
  /** A probe not answered within this is an unanswered batch. Default 5000 ms. */
  probeTimeoutMs?: number;
}

export interface FuzzResult {
  frames_sent: number;
  batches: number;
  unanswered_batches: number;
  error_replies: Record<string, number>;
  server_closes: Record<string, number>;
  reconnects: number;
  http_requests: number;
  http_statuses: Record<string, number>;
  http_5xx_other_than_503: number;
  crashed: boolean;
  health_after: number | null;
  rss_mb: { start: number; max: number; end: number };
  seconds: number;
}


type Frame = Record<string, unknown>;
interface Endpoint {
  name: string;
  path: (i: number) => string;
  /** Sent once after opening (identity, register); its reply type. */
  hello?: (i: number) => { frame: Frame; reply: string };
  seeds: Frame[];
  probe: Frame;
  /** The reply type (or error code) that answers the probe. */
  probeAnswer: (f: Frame) => boolean;
  binary?: boolean;
}

const samples = (n: number) => Array.from({ length: n }, (_, i) => [0.01 * i, -0.98, 0.12, 1.5, -220.4, 35.2]);

function endpoints(token: string): Endpoint[] {
  return [
    {
      name: 'board',
      path: (i) => `/ws/esp32/fz-board-${i}/`,
      seeds: [
        { type: 'heartbeat', battery: 80, rssi: -60 },
        { type: 'status_update', status: { battery: 80, firmware: '1.0.0', state: 'idle' } },
        { type: 'poll_commands' },
        { type: 'command_ack', command_id: 'c_123', ok: true, result: { a: 1 } },
        { type: 'sensor_data', seq: 1, timestamp: 1732212000000, data: { ax: 0.1, ay: 0.2, az: 0.98, gx: 1, gy: 2, gz: 3 } },
        { type: 'batch_sensor_data', seq: 2, start_ms: 1732212000000, rate_hz: 200, samples: samples(10) },
        { type: 'upload_complete', session_id: 's-0000000000', last_seq: 10 },
      ],
      probe: { type: 'heartbeat' },
      probeAnswer: (f) => f.type === 'heartbeat_ack',
      binary: true,
    },
    {
      name: 'player',
      path: (i) => `/ws/miniprogram/fz-player-${i}/`,
      seeds: [{ type: 'ping' }, { type: 'session_status' }, { type: 'session_status', session_id: 's-1' }],
      probe: { type: 'ping' },
      probeAnswer: (f) => f.type === 'pong',
    },
    {
      name: 'room',
      path: () => '/',
      hello: (i) => ({ frame: { device_id: `fz-room-${i}`, identity: 'mobile_user' }, reply: 'room' }),
      seeds: [{ type: 'message', content: 'hello' }, { type: 'message', content: { x: 1 }, target_device_id: 'nobody-here' }, { type: 'query_room' }],
      probe: { type: 'query_room' },
      probeAnswer: (f) => f.type === 'room_info',
    },
    {
      name: 'signaling',
      path: () => '/',
      hello: (i) => ({ frame: { type: 'register', client_id: `fz-signal-${i}` }, reply: 'registered' }),
      seeds: [{ type: 'offer', target_id: 'nobody-here', sdp: 'v=0' }, { type: 'candidate', target_id: 'nobody-here', candidate: 'a' }],
      probe: { type: 'offer', target_id: 'fz-nobody-probe', sdp: 'v=0' },
      probeAnswer: (f) => f.type === 'error' && f.code === 'TARGET_NOT_FOUND',
    },
    {
      name: 'operator',
      path: () => `/ws/admin/?token=${token}`,
      // Requests that touch the host (serial ports) or the settings file are left out of the seeds.
      seeds: [
        { type: 'get_system_status', id: 1 },
        { type: 'get_device_list', id: 2 },
        { type: 'get_room', id: 3, room_id: 'K7M2QX' },
        { type: 'get_messages', id: 4, limit: 10 },
        { type: 'subscribe', id: 5, topics: ['devices'] },
        { type: 'send_command', id: 6, device_id: 'fz-board-0', command: 'identify', params: { s: 1 } },
        { type: 'send_room_message', id: 7, room_id: 'K7M2QX', content: 'x' },
        { type: 'notify_user', id: 8, user_id: 'fz-player-0', payload: { type: 'notification', message: 'x' } },
        { type: 'create_session', id: 9, boards: ['fz-board-1'] },
        { type: 'list_sessions', id: 10, search: 'fz' },
        { type: 'get_device', id: 11, device_id: 'fz-board-0' },
        { type: 'list_commands', id: 12, device_id: 'fz-board-0' },
      ],
      probe: { type: 'get_device_list', id: 'probe' },
      probeAnswer: (f) => f.type === 'device_list' && f.id === 'probe',
    },
  ];
}

const WEIRD: unknown[] = [null, true, -1, 0, 1e308, -1e-308, 2 ** 53 + 1, '', 'x'.repeat(300), [], {}, [[[]]], { a: { b: { c: {} } } }, '\u0000', '😀', 'user:p1'];

function deep(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { d: v };
  return v;
}

/** One hostile frame: text (string) or binary (Buffer). */
function mutate(seed: Frame, r: () => number, allowBinary: boolean): string | Buffer {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const roll = r();
  if (allowBinary && roll < 0.08) {
    const n = Math.floor(r() * 64) + 1;
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    if (r() < 0.5 && n >= 4) b.write('CSB1', 0, 'latin1');
    return b;
  }
  if (roll < 0.14) return JSON.stringify(seed).slice(0, Math.floor(r() * JSON.stringify(seed).length));
  if (roll < 0.18) return Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]).toString('latin1');
  if (roll < 0.2) return pick(['[]', '"x"', '42', 'null', 'true', '{}', '']);
  const f: Frame = structuredClone(seed);
  const keys = Object.keys(f);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const k = pick(keys.length ? keys : ['type']);
    const m = r();
    if (m < 0.2) delete f[k];
    else if (m < 0.55) f[k] = pick(WEIRD);
    else if (m < 0.65) f[k] = deep(20 + Math.floor(r() * 60));
    else if (m < 0.72) f[k] = 'y'.repeat(Math.floor(r() * 300_000));
    else if (m < 0.8) f.type = pick(['', 'x', 'HEARTBEAT', 'get_system_status ', '__proto__', 'constructor', 'toString']);
    else if (m < 0.88) f[`extra_${Math.floor(r() * 5)}`] = pick(WEIRD);
    else if (m < 0.94) f[k] = Array.from({ length: Math.floor(r() * 3000) }, () => pick(WEIRD));
    else f[k] = { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } };
  }
  let text = JSON.stringify(f);
  // Numbers JSON.stringify cannot write: Infinity as Float32, NaN-like text.
  if (r() < 0.05) text = text.replace(/(\d+\.?\d*)/, pick(['1e39', '-1e39', '1e400', '-0', '1e-400']));
  return text;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** One connection's loop: batches of hostile frames, each followed by a probe. */
async function fuzzConnection(base: string, ep: Endpoint, i: number, frames: number, o: Required<FuzzOptions>, r: () => number, res: FuzzResult): Promise<void> {
  let sent = 0;
  while (sent < frames) {
    const ws = new WebSocket(base + ep.path(i), { maxPayload: 64 * 1024 * 1024 });
    const inbox: Frame[] = [];
    let wake: (() => void) | null = null;
    let closed: number | null = null;
    ws.on('message', (d, isBinary) => {
      if (isBinary) return;
      try {
        inbox.push(JSON.parse(d.toString()) as Frame);
      } catch {
        inbox.push({ type: '<not json>' });
      }
      wake?.();
    });
    ws.on('close', (code) => {
      closed = code;
      wake?.();
    });
    ws.on('error', () => {});
    const ok = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
      ws.once('unexpected-response', (_q, http) => {
        res.server_closes[`http ${http.statusCode}`] = (res.server_closes[`http ${http.statusCode}`] ?? 0) + 1;
        resolve(false);
      });
    });
    if (!ok) {
      await new Promise((r2) => setTimeout(r2, 200));
      res.reconnects++;
      continue;
    }
    const until = async (pred: (f: Frame) => boolean): Promise<boolean> => {
      const deadline = Date.now() + o.probeTimeoutMs;
      for (;;) {
        const j = inbox.findIndex(pred);
        if (j >= 0) {
          for (const f of inbox.splice(0, j + 1)) if (f.type === 'error') res.error_replies[String(f.code)] = (res.error_replies[String(f.code)] ?? 0) + 1;
          return true;
        }
        if (closed !== null || Date.now() > deadline) return false;
        await new Promise<void>((w) => {
          wake = w;
          setTimeout(w, 50);
        });
        wake = null;
      }
    };
    if (ep.hello) {
      const h = ep.hello(i);
      ws.send(JSON.stringify(h.frame));
      if (!(await until((f) => f.type === h.reply))) {
        res.unanswered_batches++;
        ws.terminate();
        continue;
      }
    }
    while (sent < frames && closed === null) {
      const n = Math.min(o.batch, frames - sent);
      for (let k = 0; k < n; k++) {
        const m = mutate(ep.seeds[Math.floor(r() * ep.seeds.length)]!, r, ep.binary === true);
        ws.send(m, { binary: Buffer.isBuffer(m) });
      }
      sent += n;
      res.frames_sent += n;
      res.batches++;
      ws.send(JSON.stringify(ep.probe));
      const answered = await until(ep.probeAnswer);
      if (!answered) {
        if (closed !== null) res.server_closes[String(closed)] = (res.server_closes[String(closed)] ?? 0) + 1;
        else res.unanswered_batches++;
        break;
      }
      // Stay under the per-connection frame budget: the fuzz is about content, not rate.
      if (res.batches % 10 === 0) await new Promise((r2) => setTimeout(r2, 30));
    }
    ws.terminate();
    if (sent < frames) res.reconnects++;
  }
}


export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const o: Required<FuzzOptions> = { batch: 20, connections: 2, seed: 1, probeTimeoutMs: 5000, ...opts };
  const token = 'fuzz-operator-token-0123456789';
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-fuzz-'));
  const started = Date.now();
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', ':memory:', '--operator-token', token, '--log-level', 'error'], {
    cwd: ROOT,
    env: { ...process.env, COURTSIDE_DISCOVERY: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = false;
  proc.on('exit', () => (exited = true));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', () => {});
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
    const check = () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) (clearTimeout(t), resolve(Number(m[1])));
    };
    proc.stdout!.on('data', check);
  });
  const res: FuzzResult = {
    frames_sent: 0, batches: 0, unanswered_batches: 0, error_replies: {}, server_closes: {}, reconnects: 0,
    http_requests: 0, http_statuses: {}, http_5xx_other_than_503: 0, crashed: false, health_after: null,
    rss_mb: { start: rssMb(proc.pid!), max: 0, end: 0 }, seconds: 0,
  };
  const sampler = setInterval(() => (res.rss_mb.max = Math.max(res.rss_mb.max, rssMb(proc.pid!))), 250);
  try {
    const eps = endpoints(token);
    const per = Math.ceil(o.frames / (eps.length * o.connections));
    const r = mulberry32(o.seed);
    await Promise.all(eps.flatMap((ep) => Array.from({ length: o.connections }, (_, i) => fuzzConnection(`ws://127.0.0.1:${port}`, ep, i, per, o, mulberry32(o.seed * 1000 + i + ep.name.length), res))));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < o.httpRequests) {
          const i = next++;
          const { status } = await rawHttp(port, malformedRequest(i + Math.floor(r() * 1e6))).catch(() => ({ status: null }));
          res.http_requests++;
          const key = status === null ? 'closed' : String(status);
          res.http_statuses[key] = (res.http_statuses[key] ?? 0) + 1;
          if (status !== null && status >= 500 && status !== 503) res.http_5xx_other_than_503++;
        }
      }),
    );
    res.health_after = exited ? null : (await fetch(`http://127.0.0.1:${port}/api/health`)).status;
  } finally {
    clearInterval(sampler);
    res.crashed = exited;
    res.rss_mb.end = rssMb(proc.pid!);
    res.seconds = Math.round((Date.now() - started) / 100) / 10;
    proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
  return res;
}
