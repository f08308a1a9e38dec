/**
 * The package's Node entry: everything of index.ts, with `ws` as the socket
 * where Node has no global WebSocket (Node 20).
 */
import WebSocket from 'ws';
import { setDefaultSocketFactory, type WebSocketLike } from './socket.js';

setDefaultSocketFactory((url) => new WebSocket(url) as unknown as WebSocketLike);

export * from './index.js';
