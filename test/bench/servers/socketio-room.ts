/**
 * Bench reference: what a Node developer would write with Socket.IO. Boards
 * emit `frame` with the board protocol's JSON payload; the server re-emits it
 * to the `sensor` room, which the subscriber joined with `subscribe`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const http = createServer();
// WebSocket only: long-polling would measure HTTP, not the relay.
const io = new Server(http, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  socket.on('subscribe', (ack?: () => void) => {
    void socket.join('sensor');
    if (typeof ack === 'function') ack();
  });
  socket.on('frame', (msg: unknown) => {
    io.to('sensor').emit('frame', msg);
  });
});

http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${(http.address() as AddressInfo).port}\n`);
});

const stop = (): void => { void io.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
