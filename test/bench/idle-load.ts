/**
 * Load process of the idle-board benchmark (test/bench/idle.ts): B board
 * sockets that only send a heartbeat once per interval (spread evenly over
 * it), each timing the reply. Prints `CONNECTED n` once every socket is open,
 * then one JSON line after the last round, and keeps the sockets open until
 * stdin closes so the coordinator can read the server's memory meanwhile.
 *
 *   node --import tsx test/bench/idle-load.ts --target bare|courtside --port P --boards B --offset O
 *        --interval-ms MS --rounds R
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { boardEndpoint } from '../../main/simulator/frames.js';

const { values: a } = parseArgs({
  strict: true,
  options: {
    target: { type: 'string' }, port: { type: 'string' }, boards: { type: 'string' }, offset: { type: 'string', default: '0' },
    'interval-ms': { type: 'string', default: '15000' }, rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '200' },
  },
});
const target = a.target as 'bare' | 'courtside';
const port = Number(a.port);
const boards = Number(a.boards);
const offset = Number(a.offset);
const intervalMs = Number(a['interval-ms']);
const rounds = Number(a.rounds);
const concurrency = Number(a.concurrency);
const HEARTBEAT = JSON.stringify({ type: 'heartbeat', battery: 87, rssi: -52 });

interface Board { ws: WebSocket; sentAt: number }
const rtts: number[] = [];
let sent = 0;
let unexpectedCloses = 0;

function connect(i: number): Promise<Board> {
  const id = `idle-${offset + i + 1}`;
  const url = target === 'bare' ? `ws://127.0.0.1:${port}/board/${id}` : boardEndpoint(`ws://127.0.0.1:${port}`, id);
  return new Promise((resolve, reject) => {
    // No permessage-deflate offer: a board's client does not make one either.
    const ws = new WebSocket(url, { handshakeTimeout: 60_000, perMessageDeflate: false });
    const b: Board = { ws, sentAt: 0 };
    let open = false;
    ws.on('open', () => {
      if (target === 'bare') { open = true; resolve(b); }
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (!open) {
        if (text.includes('"connection_established"')) { open = true; resolve(b); }
        return;
      }
      if (text.includes('"heartbeat_ack"') && b.sentAt > 0) {
        rtts.push(performance.now() - b.sentAt);
        b.sentAt = 0;
      }
    });
    ws.on('error', (e) => { if (!open) reject(e); });
    ws.on('close', () => { if (open) unexpectedCloses++; else reject(new Error(`${url} closed before it was open`)); });
  });
}

async function main(): Promise<void> {
  const links: Board[] = new Array(boards);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, boards) }, async () => {
    while (next < boards) {
      const i = next++;
      links[i] = await connect(i);
    }
  }));
  process.stdout.write(`CONNECTED ${boards}\n`);

  const t0 = performance.now();
  let late = 0;
  let unanswered = 0;
  for (let r = 0; r < rounds; r++) {
    await new Promise<void>((done) => {
      let i = 0;
      const roundStart = t0 + r * intervalMs;
      const tick = (): void => {
        const now = performance.now();
        // Board i's slot in the interval: the whole fleet spread evenly, as free-running boards are.
        while (i < boards && roundStart + (i / boards) * intervalMs <= now) {
          const b = links[i++]!;
          if (b.sentAt > 0) unanswered++; // last round's heartbeat never answered
          b.sentAt = performance.now();
          b.ws.send(HEARTBEAT);
          sent++;
        }
        if (i < boards) setTimeout(tick, 5);
        else done();
      };
      tick();
    });
    await new Promise((r2) => setTimeout(r2, Math.max(0, t0 + (r + 1) * intervalMs - performance.now())));
  }
  // The last heartbeats went out just before the last round ended: each gets its interval too.
  const deadline = performance.now() + intervalMs;
  while (links.some((b) => b.sentAt > 0) && performance.now() < deadline) await new Promise((r2) => setTimeout(r2, 50));
  for (const b of links) if (b.sentAt > 0) unanswered++;
  for (const v of rtts) if (v > intervalMs) late++;
  const sorted = Float64Array.from(rtts).sort();
  const pct = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 100) / 100 : null);
  process.stdout.write(JSON.stringify({
    boards, heartbeats_sent: sent, answered: rtts.length, unanswered, late, unexpected_closes: unexpectedCloses,
    reply_ms: { p50: pct(50), p99: pct(99), max: pct(100) },
  }) + '\n');
  // Sockets stay open until the coordinator has read the server's memory.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`idle-load: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
