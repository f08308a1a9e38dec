/**
 * Bench load generator, one process per server under test: D board sockets
 * sending on a fixed schedule and one subscriber in this same process, so the
 * send time stamped into each frame and the receive time come from one clock.
 *
 *   node --import tsx test/bench/load.ts --target bare|socketio|courtside --port P --pid SERVER_PID
 *        --boards D --rate HZ --seconds S --warmup W --mode sample|batch --batch-size N --drain-ms MS
 *
 * Prints one JSON line with the result. Latency of a sample is receive time
 * minus the time its frame left this process (the last sample of a frame is
 * stamped with the send time), so batching delay is not counted: it is the
 * same for every server and says nothing about them.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { treeCpuSeconds } from './proc.js';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createImuSource } from '../../main/simulator/swing.js';
import { batchSensorDataFrame, boardEndpoint, sampleRow, sensorDataFrame, type SampleRow } from '../../main/simulator/frames.js';
import { pinnedConnection } from '../../main/simulator/pinned-tls.js';

type Target = 'bare' | 'socketio' | 'courtside' | 'courtside-rec';
type OnBatch = (deviceId: string | null, seq: number, startMs: number, rateHz: number, n: number) => void;
interface BoardLink { send(frame: Record<string, unknown>): void; close(): void }

const { values: a } = parseArgs({
  strict: true,
  options: {
    target: { type: 'string' }, port: { type: 'string' }, pid: { type: 'string' },
    boards: { type: 'string', default: '50' }, rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '15' }, warmup: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'sample' }, 'batch-size': { type: 'string', default: '10' },
    'drain-ms': { type: 'string', default: '3000' }, operators: { type: 'string', default: '1' },
    ack: { type: 'string', default: 'per-frame' },
    // The gateway's certificate fingerprint: every socket is wss:// and pins it, as boards do.
    fingerprint: { type: 'string' },
  },
});
const target = a.target as Target;
if (!['bare', 'socketio', 'courtside', 'courtside-rec'].includes(target)) throw new Error(`bad --target ${a.target}`);
const courtside = target === 'courtside' || target === 'courtside-rec';
const operators = Number(a.operators);
/** Courtside boards on cumulative acks (`?ack=cumulative`): `acks` then counts the seqs data_acks frames ack. */
const cumulative = a.ack === 'cumulative';
const port = Number(a.port);
const serverPid = Number(a.pid);
const boards = Number(a.boards);
const rate = Number(a.rate);
const seconds = Number(a.seconds);
const warmup = Number(a.warmup);
const mode = a.mode as 'sample' | 'batch';
const perFrame = mode === 'batch' ? Number(a['batch-size']) : 1;
const drainMs = Number(a['drain-ms']);
const base = `${a.fingerprint ? 'wss' : 'ws'}://127.0.0.1:${port}`;
const tlsOptions = a.fingerprint ? { createConnection: pinnedConnection(a.fingerprint) as unknown as WebSocket.ClientOptions['createConnection'] } : {};

const clock = (): number => performance.timeOrigin + performance.now();
const frameMs = (perFrame * 1000) / rate;
const warmupFrames = Math.round((warmup * rate) / perFrame);
const measuredFrames = Math.round((seconds * rate) / perFrame);
const totalFrames = warmupFrames + measuredFrames;
const firstSeq = warmupFrames + 1;
const lastSeq = totalFrames;
/** Per operator: every operator gets every sample. */
const expected = boards * measuredFrames * perFrame;

// Generous but bounded: a wedged server must not hang the bench.
setTimeout(() => { process.stderr.write('load: overall timeout\n'); process.exit(1); }, (warmup + seconds) * 1000 + drainMs + 30_000).unref();

const serverCpuSeconds = (): number => treeCpuSeconds(serverPid);

function serverRssMb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serverPid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch { return null; }
}

function parseSensorFrame(msg: Record<string, unknown>, onBatch: OnBatch): void {
  if (msg.type === 'sensor_data') onBatch(null, Number(msg.seq), Number(msg.timestamp), rate, 1);
  else if (msg.type === 'batch_sensor_data') onBatch(null, Number(msg.seq), Number(msg.start_ms), Number(msg.rate_hz), (msg.samples as unknown[]).length);
}

function openWs(url: string, onMessage: (msg: Record<string, unknown>, ws: WebSocket) => void, readyWhen: (msg: Record<string, unknown>) => boolean, hello?: object): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, ...tlsOptions });
    let ready = false;
    ws.on('open', () => {
      if (hello) ws.send(JSON.stringify(hello));
      if (readyWhen({})) { ready = true; resolve(ws); }
    });
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(data.toString()) as Record<string, unknown>; } catch { return; }
      if (!ready && readyWhen(msg)) { ready = true; resolve(ws); }
      onMessage(msg, ws);
    });
    ws.on('error', (e) => { if (!ready) reject(e); });
    ws.on('close', (code) => { if (!ready) reject(new Error(`${url} closed with ${code} before ready`)); });
  });
}

function openSocketIo(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 10_000 });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

let acks = 0;
let storedAcks = 0;
let errorFrames = 0;
let firstError: string | null = null;
function countBoardReply(ws: WebSocket, msg: Record<string, unknown>): void {
  if (msg.type === 'data_ack') {
    acks++;
    if (msg.stored === true) storedAcks++;
  } else if (msg.type === 'data_acks') {
    const n = Number(msg.to_seq) - Number(msg.from_seq) + 1 - (msg.except as unknown[]).length;
    acks += n;
    if (msg.stored === true) storedAcks += n;
  } else if (msg.type === 'command') {
    // start_collection of the recording session: acked, as a board would, so it is not pushed again.
    ws.send(JSON.stringify({ type: 'command_ack', command_id: msg.command_id, ok: true }));
  } else if (msg.type === 'error') { errorFrames++; firstError ??= `${String(msg.code)}: ${String(msg.message)}`; }
}

async function connectBoard(i: number): Promise<BoardLink> {
  if (target === 'socketio') {
    const s = await openSocketIo();
    return { send: (f) => void s.emit('frame', f), close: () => void s.close() };
  }
  const ws = target === 'bare'
    ? await openWs(`${base}/board/racket-${i + 1}`, () => {}, () => true)
    : await openWs(boardEndpoint(base, `racket-${i + 1}`) + (cumulative ? '?ack=cumulative' : ''), (m, ws) => countBoardReply(ws, m), (m) => m.type === 'connection_established');
  return { send: (f) => ws.send(JSON.stringify(f)), close: () => ws.terminate() };
}

async function connectSubscriber(onBatch: OnBatch): Promise<() => void> {
  if (target === 'socketio') {
    const s = await openSocketIo();
    s.on('frame', (msg: Record<string, unknown>) => parseSensorFrame(msg, onBatch));
    await s.timeout(10_000).emitWithAck('subscribe');
    return () => void s.close();
  }
  if (target === 'bare') {
    const ws = await openWs(`${base}/sub`, (m) => parseSensorFrame(m, onBatch), () => true);
    return () => ws.terminate();
  }
  const ws = await openWs(`${base}/ws/admin/?token=bench-operator-token`, (msg) => {
    if (msg.type !== 'sensor_samples' || !Array.isArray(msg.batches)) return;
    for (const b of msg.batches as Record<string, unknown>[]) {
      onBatch(String(b.device_id), Number(b.seq), Number(b.start_ms), Number(b.rate_hz), (b.samples as unknown[]).length);
    }
  }, (m) => m.type === 'subscribed', { type: 'subscribe', topics: ['sensor'] });
  return () => ws.terminate();
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

async function main(): Promise<void> {
  // Real swing data, precomputed: the generator's cost belongs to no server.
  const rows: SampleRow[][] = Array.from({ length: boards }, (_, b) => {
    const src = createImuSource({ rateHz: rate, seed: b + 1, strokesPerMinute: 20 });
    return Array.from({ length: Math.max(perFrame, rate * 2) }, () => sampleRow(src.next()));
  });

  const latencies = new Float64Array(expected * operators);
  let delivered = 0;
  let duplicates = 0;
  const perOperator = new Array<number>(operators).fill(0);
  let operatorsDone = 0;
  let allIn: () => void = () => {};
  const allDelivered = new Promise<void>((r) => { allIn = r; });
  const subscriberFor = (o: number): OnBatch => {
    const seen = new Set<string>();
    return (deviceId, seq, startMs, rateHz, n) => {
      const now = clock();
      if (!(seq >= firstSeq && seq <= lastSeq)) return;
      if (deviceId !== null) {
        const key = `${deviceId}:${seq}`;
        if (seen.has(key)) { duplicates++; return; }
        seen.add(key);
      }
      const sentAt = n > 1 ? startMs + ((n - 1) * 1000) / rateHz : startMs;
      const lat = now - sentAt;
      const before = perOperator[o]!;
      const take = Math.min(n, expected - before);
      for (let i = 0; i < take; i++) latencies[delivered++] = lat;
      perOperator[o] = before + take;
      if (before < expected && perOperator[o] === expected && ++operatorsDone === operators) allIn();
    };
  };

  const closeSubs = await Promise.all(Array.from({ length: operators }, (_, o) => connectSubscriber(subscriberFor(o))));
  const closeSub = () => { for (const c of closeSubs) c(); };
  const links = await Promise.all(Array.from({ length: boards }, (_, i) => connectBoard(i)));

  // Half a second for the connect burst's garbage and JIT to settle before the schedule starts.
  const t0 = clock() + 500;
  const next = new Int32Array(boards);
  const due = (b: number, k: number): number => t0 + (b / boards) * frameMs + k * frameMs;
  const lags: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  let framesSent = 0;
  let cpuStart = 0, cpuEnd = 0, loaderStart = process.cpuUsage(), loaderEnd = loaderStart;
  const windowStart = t0 + warmupFrames * frameMs;
  let windowOpen = false;

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      let now = clock();
      if (!windowOpen && now >= windowStart) { windowOpen = true; cpuStart = serverCpuSeconds(); loaderStart = process.cpuUsage(); loopDelay.enable(); }
      let earliest = Infinity;
      for (let b = 0; b < boards; b++) {
        let k = next[b]!;
        while (k < totalFrames && due(b, k) <= now) {
          const seq = k + 1;
          const ring = rows[b]!;
          now = clock();
          if (perFrame === 1) {
            links[b]!.send(sensorDataFrame(seq, r3(now), ring[k % ring.length]!, null));
          } else {
            const batch: SampleRow[] = [];
            for (let i = 0; i < perFrame; i++) batch.push(ring[(k * perFrame + i) % ring.length]!);
            links[b]!.send(batchSensorDataFrame(seq, r3(now - ((perFrame - 1) * 1000) / rate), rate, batch, null));
          }
          if (seq >= firstSeq) lags.push(now - due(b, k));
          framesSent++;
          k++;
        }
        next[b] = k;
        if (k < totalFrames) earliest = Math.min(earliest, due(b, k));
      }
      if (earliest === Infinity) {
        cpuEnd = serverCpuSeconds();
        loaderEnd = process.cpuUsage();
        loopDelay.disable();
        return resolve();
      }
      setTimeout(tick, Math.max(0, earliest - clock()));
    };
    setTimeout(tick, Math.max(0, t0 - clock()));
  });

  const drainEnd = Date.now() + drainMs;
  await Promise.race([allDelivered, new Promise((r) => setTimeout(r, drainMs))]);
  // A board's ack can come a moment after the operator has the frame's samples: wait for it too.
  while (courtside && acks < framesSent && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 5));
  closeSub();
  for (const l of links) l.close();

  const sorted = latencies.slice(0, delivered).sort();
  const sortedLags = Float64Array.from(lags).sort();
  const loaderCpu = (loaderEnd.user - loaderStart.user + loaderEnd.system - loaderStart.system) / 1e6;
  const mean = delivered ? sorted.reduce((s, v) => s + v, 0) / delivered : NaN;
  const result = {
    target, tls: a.fingerprint !== undefined, mode, boards, rate_hz: rate, seconds, samples_per_frame: perFrame,
    operators, expected: expected * operators, delivered, lost: expected * operators - delivered,
    delivered_per_operator: perOperator, delivery_ratio: r3(delivered / (expected * operators)), duplicates,
    frames_sent: framesSent,
    ...(courtside ? { ack: cumulative ? 'cumulative' : 'per-frame', acks, stored_acks: storedAcks, error_frames: errorFrames, first_error: firstError } : {}),
    latency_ms: { p50: r3(percentile(sorted, 50)), p99: r3(percentile(sorted, 99)), max: r3(sorted[sorted.length - 1] ?? NaN), mean: r3(mean) },
    server_cpu_s: r3(cpuEnd - cpuStart),
    server_cpu_pct: Math.round(((cpuEnd - cpuStart) / seconds) * 1000) / 10,
    server_peak_rss_mb: serverRssMb(),
    loader_cpu_s: r3(loaderCpu),
    send_lag_ms: { p99: r3(percentile(sortedLags, 99)), max: r3(sortedLags[sortedLags.length - 1] ?? NaN) },
    loader_loop_delay_ms: { p99: r3(loopDelay.percentile(99) / 1e6), max: r3(loopDelay.max / 1e6) },
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
