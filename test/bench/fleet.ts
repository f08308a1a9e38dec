/**
 * Fleet benchmark: the same traffic through one gateway and across two gateways joined by
 * Redis (both `courtside serve` processes on one MariaDB): room messages from a client on one
 * gateway to a client on the other, and sample batches from a board on one to an operator on
 * the other. Latency p50/p99 from a timestamp in each message (sender and receiver are this
 * process, so one clock), and the gateways' CPU from /proc.
 *
 *   node --import tsx test/bench/fleet.ts [--messages 2000] [--rate 200]
 *
 * Uses COURTSIDE_TEST_MYSQL_URL's server when set, else starts a private MariaDB; Redis is its own.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TestClient, type Frame } from '../support/gateway.js';
import { freshMysqlUrl } from '../support/mysql.js';
import { setUpServices } from '../support/services.js';
import { sleep } from '../sessions/support.js';
import { startOwnRedis, startServe, TOKEN, type ServeProc } from '../fleet/support.js';
import { startCli } from '../support/cli.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../sessions/support.js';

let messages = 2000;
let rate = 200;
try {
  const { values } = parseArgs({ options: { messages: { type: 'string' }, rate: { type: 'string' } }, strict: true });
  if (values.messages !== undefined) messages = Number(values.messages);
  if (values.rate !== undefined) rate = Number(values.rate);
  if (!(messages > 0) || !(rate > 0)) throw new Error('--messages and --rate must be numbers > 0');
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  process.exit(2);
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
}

async function plainServe(db: string): Promise<ServeProc> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-bench-gw-'));
  const port = await freePort();
  const s = await startCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--db', db, '--data-dir', dataDir, '--operator-token', TOKEN, '--log-level', 'warn'], /listening on 127\.0\.0\.1:(\d+)/, { COURTSIDE_DISCOVERY: 'off' });
  return { proc: s.proc, port, url: `ws://127.0.0.1:${port}`, http: `http://127.0.0.1:${port}`, dataDir, stderr: s.stderr, stop: async () => { s.proc.kill('SIGTERM'); await new Promise((r) => s.proc.once('exit', r)); } };
}

async function measure(send: ServeProc, recv: ServeProc, procs: ServeProc[]) {
  // Room messages.
  const rx = await TestClient.connect(recv.url + '/');
  rx.send({ device_id: 'bench-rx', identity: 'rx' });
  await rx.next('connection', 5000);
  const roomId = String((await rx.next('room', 5000)).room_id);
  const tx = await TestClient.connect(send.url + '/');
  tx.send({ device_id: 'bench-tx', identity: 'tx', room_id: roomId });
  await tx.next('room', 5000);
  await sleep(500);
  const roomLat: number[] = [];
  rx.ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    if (f.type === 'message') roomLat.push(performance.now() - Number((f.content as { t: number }).t));
  });
  const cpu0 = procs.map((p) => cpuMs(p.proc.pid!));
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) {
    tx.send({ type: 'message', content: { t: performance.now(), i } });
    const due = t0 + ((i + 1) * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await sleep(1500);
  const roomCpu = procs.map((p, i) => cpuMs(p.proc.pid!) - cpu0[i]!);
  const roomSecs = (performance.now() - t0) / 1000;
  await tx.close();
  await rx.close();

  // Sample batches: a board on `send`, an operator on `recv`.
  const op = await TestClient.connect(`${recv.url}/ws/admin/?token=${TOKEN}`);
  await op.ask({ type: 'subscribe', topics: ['sensor'] }, 'subscribed');
  const board = await TestClient.connect(`${send.url}/ws/esp32/bench-board/`);
  await sleep(2500); // the other gateway hears of the watcher with its next heartbeat
  const sampleLat: number[] = [];
  op.ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    if (f.type === 'sensor_samples') for (const b of f.batches as { start_ms: number }[]) sampleLat.push(performance.now() - b.start_ms);
  });
  const cpu1 = procs.map((p) => cpuMs(p.proc.pid!));
  const t1 = performance.now();
  const sample = [0.01, 0.02, 0.98, 1.5, -2.5, 0.3];
  for (let i = 0; i < messages; i++) {
    board.send({ type: 'batch_sensor_data', seq: i, start_ms: performance.now(), rate_hz: 100, samples: Array.from({ length: 10 }, () => sample) });
    const due = t1 + ((i + 1) * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await sleep(1500);
  const sampleCpu = procs.map((p, i) => cpuMs(p.proc.pid!) - cpu1[i]!);
  const sampleSecs = (performance.now() - t1) / 1000;
  await board.close();
  await op.close();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    room_messages: { sent: messages, received: roomLat.length, p50_ms: pct(roomLat, 50), p99_ms: pct(roomLat, 99), cpu_ms_per_s: Math.round(sum(roomCpu) / roomSecs) },
    sample_batches: { sent: messages, received: sampleLat.length, p50_ms: pct(sampleLat, 50), p99_ms: pct(sampleLat, 99), cpu_ms_per_s: Math.round(sum(sampleCpu) / sampleSecs) },
  };
}

const services = process.env.COURTSIDE_TEST_MYSQL_URL ? null : await setUpServices({ files: [], strict: false, log: (l) => process.stderr.write(`bench: ${l}\n`) });
if (services) Object.assign(process.env, services.env);
const redis = await startOwnRedis();
const db1 = await freshMysqlUrl();
const db2 = await freshMysqlUrl();
const out: Record<string, unknown> = { messages, rate_per_s: rate };
try {
  process.stderr.write('bench: fleet: one gateway\n');
  const one = await plainServe(db1.url);
  out.one_gateway = await measure(one, one, [one]);
  await one.stop();
  process.stderr.write('bench: fleet: two gateways over Redis\n');
  const a = await startServe({ redis: redis.url, db: db2.url });
  const b = await startServe({ redis: redis.url, db: db2.url });
  await sleep(1500);
  out.two_gateways = await measure(a, b, [a, b]);
  await a.stop();
  await b.stop();
} finally {
  await redis.stop();
  await db1.drop();
  await db2.drop();
  await services?.stop();
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
