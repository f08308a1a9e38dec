/**
 * VirtualBoard against the real gateway: what the unit tests check against
 * the fake one, here end to end (the Courtside variant of the bench is in
 * test/bench/fanout.test.ts, run by npm run bench:check).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../../main/gateway/index.js';
import { VirtualBoard, type VirtualBoardOptions } from '../../main/simulator/board.js';

const TOKEN = 'simulator-test-operator';
let gw: Gateway;
let dir: string;
const boards: VirtualBoard[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'courtside-sim-'));
  gw = await startGateway({ host: '127.0.0.1', port: 0, db: join(dir, 'gw.sqlite'), dataDir: dir, operatorToken: TOKEN, logLevel: 'error', commandResendMs: 0 });
});
after(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

function board(opts: Partial<VirtualBoardOptions> & { deviceCode: string }): VirtualBoard {
  const b = new VirtualBoard({ url: gw.url, reconnectMinMs: 20, reconnectMaxMs: 100, ...opts });
  boards.push(b);
  return b;
}

/** An operator socket: requests with ids, and every frame kept for inspection. */
async function operator(): Promise<{ frames: Record<string, unknown>[]; request(frame: Record<string, unknown>): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(`${gw.url}/ws/admin/?token=${TOKEN}`);
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await once(ws, 'open');
  let id = 0;
  return {
    frames,
    async request(frame) {
      const myId = `r${++id}`;
      ws.send(JSON.stringify({ ...frame, id: myId }));
      await waitFor(() => frames.some((f) => f.id === myId), `reply to ${String(frame.type)}`);
      return frames.find((f) => f.id === myId)!;
    },
    close: () => ws.terminate(),
  };
}

test('a board connects, heartbeats, reports status and runs operator commands', { timeout: 20_000 }, async () => {
  const op = await operator();
  const b = board({ deviceCode: 'sim-a', heartbeatIntervalMs: 40, batchMs: 50 });
  const acks: string[] = [];
  b.on('ack', (a) => acks.push(a.type));
  const commands: { command: string; duplicate: boolean }[] = [];
  b.on('command', (c) => commands.push(c));
  await b.start();
  await waitFor(() => acks.filter((a) => a === 'heartbeat_ack').length >= 2 && acks.includes('status_ack'), 'heartbeat and status acks');

  const list = await op.request({ type: 'get_device_list' });
  const me = (list.devices as Record<string, unknown>[]).find((d) => d.device_id === 'sim-a')!;
  assert.equal(me.online, true);
  assert.equal((me.status as Record<string, unknown>).firmware, '1.2.0');

  const queued = await op.request({ type: 'send_command', device_id: 'sim-a', command: 'start_collection', params: { session_id: 'gw-s1' } });
  assert.equal(queued.pushed, true);
  await waitFor(() => b.isStreaming && acks.filter((a) => a === 'data_ack').length >= 2, 'data acks while collecting');
  await op.request({ type: 'send_command', device_id: 'sim-a', command: 'stop_collection' });
  await waitFor(() => acks.includes('upload_ack'), 'upload_ack after stop_collection');
  assert.equal(b.isStreaming, false);
  assert.deepEqual(commands.map((c) => c.command), ['start_collection', 'stop_collection']);
  assert.equal(b.stats.errors, 0);
  op.close();
});

test('a command queued while the board is offline runs once when it connects', { timeout: 20_000 }, async () => {
  const op = await operator();
  const queued = await op.request({ type: 'send_command', device_id: 'sim-b', command: 'status' });
  assert.equal(queued.pushed, false);
  const b = board({ deviceCode: 'sim-b' });
  const seen: { commandId: string; duplicate: boolean }[] = [];
  b.on('command', (c) => seen.push(c));
  await b.start();
  // The gateway pushes it on connect and also answers poll_commands with it: one run, an ack for each.
  await waitFor(() => seen.length >= 1, 'the queued command');
  await sleep(100);
  assert.ok(seen.every((c) => c.commandId === queued.command_id));
  assert.equal(seen.filter((c) => !c.duplicate).length, 1);
  op.close();
});

test('the gateway closing the socket: the board reconnects and keeps streaming', { timeout: 20_000 }, async () => {
  const b = board({ deviceCode: 'sim-c', streamAlways: true, batchMs: 20 });
  await b.start();
  await waitFor(() => b.stats.acked >= 3, 'first acks');
  const reconnected = once(b, 'connected');
  gw.core.boards.get('sim-c')!.peer.ws.terminate();
  const [info] = await reconnected;
  assert.equal(info.reconnect, true);
  const acked = b.stats.acked;
  await waitFor(() => b.stats.acked >= acked + 3, 'acks after reconnect');
  assert.equal(gw.core.boards.isConnected('sim-c'), true);
});

/** A TCP hop that can stall (frames pile up unacked on the board) and then cut every link. */
async function stallingProxy(targetPort: number): Promise<{ port: number; stall(): void; cut(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    // Paused sockets hold whole frames in the kernel rather than cutting one in half.
    stall: () => { for (const [c, u] of pairs) { c.unpipe(u); u.unpipe(c); c.pause(); u.pause(); } },
    cut: () => { for (const [c, u] of [...pairs]) { c.destroy(); u.destroy(); } },
    close: () => new Promise((r) => { for (const [c, u] of [...pairs]) { c.destroy(); u.destroy(); } server.close(() => r()); }),
  };
}

test('frames lost in a dead link are resent after reconnect and reach the operator in full', { timeout: 20_000 }, async () => {
  const proxy = await stallingProxy(gw.port);
  const op = await operator();
  const sub = await op.request({ type: 'subscribe', topics: ['sensor:sim-d'] });
  assert.deepEqual(sub.topics, ['sensor:sim-d']);
  const b = new VirtualBoard({ url: `ws://127.0.0.1:${proxy.port}`, deviceCode: 'sim-d', batchMs: 20, reconnectMinMs: 20, reconnectMaxMs: 100 });
  boards.push(b);
  await b.start();
  await op.request({ type: 'send_command', device_id: 'sim-d', command: 'start_collection', params: { session_id: 'gw-s2' } });
  await waitFor(() => b.stats.acked >= 3, 'first acks');
  proxy.stall();
  await waitFor(() => b.unackedCount >= 5, 'frames piling up unacked');
  const reconnected = once(b, 'connected');
  proxy.cut();
  await reconnected;
  const target = b.lastSeq + 3;
  await waitFor(() => b.lastSeq >= target, 'new frames after reconnect');
  await op.request({ type: 'send_command', device_id: 'sim-d', command: 'stop_collection' });
  await waitFor(() => !b.isStreaming && b.unackedCount === 0, 'every frame acked');
  assert.ok(b.stats.resent >= 1, 'some frames went out twice');

  const seqs = new Set<number>();
  await waitFor(() => {
    for (const f of op.frames) if (f.type === 'sensor_samples') for (const batch of f.batches as { seq: number }[]) seqs.add(batch.seq);
    return seqs.size >= b.lastSeq;
  }, 'every seq at the operator', 2000).catch(() => {});
  const missing = Array.from({ length: b.lastSeq }, (_, i) => i + 1).filter((s) => !seqs.has(s));
  assert.deepEqual(missing, [], 'no seq lost');
  op.close();
  await b.stop();
  await proxy.close();
});
