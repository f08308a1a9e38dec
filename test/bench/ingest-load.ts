/**
 * Load process of the ingest benchmark (test/bench/ingest.ts): B board
 * sockets stream into one recording session as fast as the gateway stores,
 * each keeping up to W frames in flight (a closed loop, like a board that
 * holds unacked frames), and only `data_ack` with `stored: true` counts.
 *
 *   node --import tsx test/bench/ingest-load.ts --port P --pid GATEWAY_PID --token T
 *        --mode json|binary --boards B --samples-per-frame N --window W --seconds S --warmup S
 *        [--ack per-frame|cumulative] [--deflate]
 *
 * Boards do not offer permessage-deflate (an ESP32's WebSocket client has none), so neither do
 * these unless --deflate: zlib at both ends was most of the loader's and the gateway's CPU.
 * --ack cumulative connects with `?ack=cumulative`: one data_acks frame acks a range of seqs.
 *
 * Prints one JSON line. samples_per_s = samples acked during the measured
 * window / its length; frames sent in the warm-up or still in flight at the
 * window's edges count where their ack lands.
 *
 * Several of these run side by side (ingest.ts --loaders) so the generator is
 * not the bottleneck: then the coordinator makes the session (--session),
 * gives each its boards (--offset), and with --wait-go each prints CONNECTED
 * and starts on a line on stdin, so every loader's measured window is the
 * same one, over which the coordinator reads the gateway's CPU.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { treeCpuSeconds } from './proc.js';
import { createImuSource } from '../../main/simulator/swing.js';
import { boardEndpoint, sampleRow, type SampleRow } from '../../main/simulator/frames.js';
import { encodeBinaryBatch } from '../../firmware-protocol/sessions.js';

const { values: a } = parseArgs({
  strict: true,
  options: {
    port: { type: 'string' }, pid: { type: 'string' }, token: { type: 'string' },
    mode: { type: 'string', default: 'json' }, boards: { type: 'string', default: '20' },
    'samples-per-frame': { type: 'string', default: '100' }, window: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' },
    'max-fps': { type: 'string', default: '400' },
    ack: { type: 'string', default: 'per-frame' }, deflate: { type: 'boolean', default: false },
    session: { type: 'string' }, offset: { type: 'string', default: '0' }, 'wait-go': { type: 'boolean', default: false },
  },
});
const mode = a.mode as 'json' | 'binary';
const cumulative = a.ack === 'cumulative';
const port = Number(a.port);
const pid = Number(a.pid);
const boards = Number(a.boards);
const perFrame = Number(a['samples-per-frame']);
const window = Number(a.window);
const seconds = Number(a.seconds);
const warmup = Number(a.warmup);
// The gateway allows 500 frames/s per board (twice that in a burst); a board over it gets
// frames dropped, which a closed loop would wait on forever. Stay under it and say so.
const maxFps = Number(a['max-fps']);
const base = `http://127.0.0.1:${port}`;
const RATE = 200;

setTimeout(() => { process.stderr.write('ingest-load: overall timeout\n'); process.exit(1); }, (warmup + seconds) * 1000 + 60_000).unref();

const cpuSeconds = treeCpuSeconds;
function peakRssMb(p: number): number | null {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
}

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Board {
  id: string;
  ws: WebSocket;
  seq: number;
  inFlight: number;
  /** Frames the rate allows now (see pump). */
  tokens: number;
  lastSendAt: number;
  /** A pump waits for the rate cap: acks meanwhile do not start another timer. */
  timer: NodeJS.Timeout | null;
  frame(seq: number, startMs: number): string | Buffer;
}

let ackedFrames = 0;
let windowSamples = 0;
let windowFrames = 0;
let notStored = 0;
let errorFrames = 0;
let firstError: string | null = null;
let sending = false;
let measuring = false;
let lastAckAt = 0;

function makeFrames(id: string, sessionId: string, b: number): Board['frame'] {
  const src = createImuSource({ rateHz: RATE, seed: b + 1, strokesPerMinute: 20 });
  const rows: SampleRow[] = Array.from({ length: perFrame }, () => sampleRow(src.next()));
  if (mode === 'json') {
    // The frame the simulator sends, with the samples serialized once: the loader's CPU is not what is measured.
    const samples = JSON.stringify(rows);
    return (seq, startMs) => `{"type":"batch_sensor_data","seq":${seq},"session_id":"${sessionId}","start_ms":${startMs},"rate_hz":${RATE},"samples":${samples}}`;
  }
  const template = Buffer.from(encodeBinaryBatch({ seq: 0, startMs: 0, rateHz: RATE, accelScale: 16 / 32768, gyroScale: 2000 / 32768, samples: rows }));
  return (seq, startMs) => {
    const f = Buffer.from(template); // ws may mask the buffer it is given in place
    f.writeUInt32LE(seq, 4);
    f.writeDoubleLE(startMs, 8);
    return f;
  };
}

/**
 * A token bucket per board: on average max-fps, at most a window at once (far under the
 * gateway's burst). A fixed gap between frames instead made every frame wait for a timer, and
 * on a loaded machine timers fire late: the loader, not the gateway, then set the rate.
 */
function pump(b: Board): void {
  if (b.timer !== null) return;
  const now = performance.now();
  b.tokens = Math.min(window, b.tokens + ((now - b.lastSendAt) * maxFps) / 1000);
  b.lastSendAt = now;
  while (sending && b.inFlight < window) {
    if (b.tokens < 1) {
      b.timer = setTimeout(() => {
        b.timer = null;
        pump(b);
      }, ((1 - b.tokens) * 1000) / maxFps);
      return;
    }
    b.tokens--;
    const seq = b.seq++;
    b.ws.send(b.frame(seq, seq * ((perFrame * 1000) / RATE)));
    b.inFlight++;
  }
}

function connect(id: string, sessionId: string, i: number): Promise<Board> {
  return new Promise((resolve, reject) => {
    const url = boardEndpoint(`ws://127.0.0.1:${port}`, id) + (cumulative ? '?ack=cumulative' : '');
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, perMessageDeflate: a.deflate });
    const b: Board = { id, ws, seq: 0, inFlight: 0, tokens: 1, lastSendAt: performance.now(), timer: null, frame: makeFrames(id, sessionId, i) };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      switch (m.type) {
        // Binary frames carry no session id: one sent before the board acked start_collection is
        // live only (acked stored: false). So a board is ready once it has acked that command.
        case 'connection_established': return mode === 'json' ? resolve(b) : undefined;
        case 'data_ack':
          b.inFlight--;
          if (m.stored === true) {
            ackedFrames++;
            lastAckAt = performance.now();
            if (measuring) { windowFrames++; windowSamples += perFrame; }
          } else notStored++;
          return pump(b);
        case 'data_acks': {
          // Every seq from..to but the exceptions, each as if it had its own data_ack.
          const n = Number(m.to_seq) - Number(m.from_seq) + 1 - (m.except as unknown[]).length;
          b.inFlight -= n;
          if (m.stored === true) {
            ackedFrames += n;
            lastAckAt = performance.now();
            if (measuring) { windowFrames += n; windowSamples += n * perFrame; }
          } else notStored += n;
          return pump(b);
        }
        case 'command': // start_collection: acked, as a board would, so it is not pushed again
          ws.send(JSON.stringify({ type: 'command_ack', command_id: m.command_id, ok: true }));
          if (m.command === 'start_collection') resolve(b);
          return;
        case 'error':
          errorFrames++;
          firstError ??= `${String(m.code)}: ${String(m.message)}`;
          return;
      }
    });
    ws.on('error', reject);
  });
}

async function main(): Promise<void> {
  const offset = Number(a.offset);
  const ids = Array.from({ length: boards }, (_, i) => `bench-${offset + i + 1}`);
  let sessionId = a.session;
  if (sessionId === undefined) {
    const created = (await api('POST', '/api/sessions', { boards: ids, sample_rate_hz: RATE })).session as { session_id: string };
    sessionId = created.session_id;
    await api('POST', `/api/sessions/${sessionId}/start`);
  }
  const sid = sessionId;
  const links = await Promise.all(ids.map((id, i) => connect(id, sid, offset + i)));
  if (a['wait-go']) {
    process.stdout.write('CONNECTED\n');
    await new Promise<void>((r) => process.stdin.once('data', () => r()));
  }

  const loaderCpu0 = process.cpuUsage();
  sending = true;
  for (const b of links) pump(b);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(pid);
  const loaderCpu = process.cpuUsage(loaderCpu0);
  sending = false;

  // Drain: every frame sent gets its ack before the stored count is compared.
  const until = Date.now() + 30_000;
  while (links.some((b) => b.inFlight > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const inFlightLeft = links.reduce((n, b) => n + b.inFlight, 0);
  const framesSent = links.reduce((n, b) => n + b.seq, 0);
  const got = (await api('GET', `/api/sessions/${sessionId}`)).session as { progress: { samples: number }[] };
  const storedSamples = got.progress.reduce((n, p) => n + p.samples, 0);
  for (const b of links) b.ws.terminate();

  const r1 = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(JSON.stringify({
    mode, ack: cumulative ? 'cumulative' : 'per-frame', deflate: a.deflate, boards, samples_per_frame: perFrame, window, seconds: r1(wall), warmup_s: warmup,
    samples_per_s: Math.round(windowSamples / wall),
    frames_per_s: Math.round(windowFrames / wall),
    frames_sent: framesSent, acked_frames: ackedFrames, acked_samples: ackedFrames * perFrame,
    stored_samples: storedSamples, in_flight_left: inFlightLeft,
    not_stored_acks: notStored, error_frames: errorFrames, first_error: firstError,
    gateway_cpu_pct: r1(((cpu1 - cpu0) / wall) * 100),
    gateway_peak_rss_mb: peakRssMb(pid),
    loader_cpu_pct: r1(((loaderCpu.user + loaderCpu.system) / 1e6 / (wall + warmup)) * 100),
    last_ack_ms_after_window: Math.max(0, Math.round(lastAckAt - t0 - wall * 1000)),
  }) + '\n');
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`ingest-load: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
