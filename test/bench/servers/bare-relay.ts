/**
 * Bench floor: a bare `ws` server that hands every board frame, unchanged and
 * unparsed, to each subscriber (`/sub`). No validation, storage or acks: the
 * least work any relay can do. With `--ack` (the idle-board bench) it also
 * answers every frame with a fixed heartbeat_ack, unparsed.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';

const ack = process.argv.includes('--ack');
const ACK = '{"type":"heartbeat_ack","server_time":0}';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const subscribers = new Set<WebSocket>();

wss.on('connection', (ws, req) => {
  if (req.url?.startsWith('/sub')) {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    return;
  }
  ws.on('message', (data, isBinary) => {
    if (ack) ws.send(ACK);
    for (const s of subscribers) s.send(data as Buffer, { binary: isBinary });
  });
});

wss.on('listening', () => {
  process.stdout.write(`READY ${(wss.address() as AddressInfo).port}\n`);
});

// The harness may die without killing us; a closed stdin is the sign.
const stop = (): void => { wss.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
