/**
 * The gateway's WebSocket class: ws's, handing every socket's events to its
 * peer and to the gateway's one set of handlers, so that no socket keeps
 * listeners, closures or event tables of its own (memory every idle board
 * would pay).
 */
import { WebSocket, type RawData } from 'ws';
import type { Peer } from './peer.js';

/**
 * What the gateway does with every socket's events: one object for the whole
 * gateway (on its socket class's prototype), not listeners of every socket.
 */
export interface SocketHandlers {
  pong(peer: Peer): void;
  close(peer: Peer, code: number, reason: Buffer): void;
  error(peer: Peer | undefined, err: Error): void;
}

/**
 * The gateway's sockets (the `WebSocket` class its server makes): ws's, with
 * a field for the socket's peer that is part of the object from the start. A
 * property set on a plain WebSocket later would move its properties out
 * into a separate array, memory every idle board pays.
 *
 * The socket's own events go straight to its peer and the gateway's handlers
 * (`emit` below): no listener is registered per socket, so an idle board's
 * socket holds no listener array, closure or grown event table. Listeners
 * code adds later (`once('close')` of a timer) still run, after these.
 */
export class GatewaySocket extends WebSocket {
  peer: Peer | undefined = undefined;
  /** The gateway's, on the prototype of its class (socketClass). */
  declare readonly handlers: SocketHandlers | undefined;

  // ws makes its sockets with its own arguments (an overload taking null): passed on as they are.
  constructor(...args: any[]) {
    super(...(args as ConstructorParameters<typeof WebSocket>));
    // An emitter's empty listener table (an object without prototype) is a dictionary, 184
    // bytes a socket that no listener ever uses. Without one, Node's EventEmitter makes it
    // when a listener is first added, as for any emitter whose constructor did not.
    const self = this as unknown as { _events: object | undefined; _eventsCount: number };
    if (self._eventsCount === 0) self._events = undefined;
  }

  override emit(event: string | symbol, ...args: any[]): boolean {
    const peer = this.peer;
    const h = this.handlers;
    if (peer !== undefined && h !== undefined) {
      switch (event) {
        case 'message':
          peer.intake?.message(args[0] as RawData, args[1] as boolean);
          break;
        case 'pong':
          h.pong(peer);
          break;
        case 'ping':
          // ws's automatic pong keeps a closure per socket; the same answer from here keeps none.
          // A client that pings without reading what it is sent meets the send-buffer cap.
          if (this.readyState === WebSocket.OPEN) {
            this.pong(args[0] as Buffer, false);
            peer.checkSendBuffer();
          }
          break;
        case 'close':
          h.close(peer, args[0] as number, args[1] as Buffer);
          break;
        case 'error':
          h.error(peer, args[0] as Error);
          // No listener of its own: handled above, not thrown.
          if (this.listenerCount('error') === 0) return true;
          break;
      }
    } else if (event === 'error' && h !== undefined && this.listenerCount('error') === 0) {
      h.error(undefined, args[0] as Error);
      return true;
    }
    return this.listenerCount(event) > 0 ? super.emit(event, ...args) : false;
  }
}

/** The gateway's socket class: GatewaySocket with its handlers on the prototype. */
export function socketClass(handlers: SocketHandlers): typeof GatewaySocket {
  const C = class extends GatewaySocket {};
  Object.defineProperty(C.prototype, 'handlers', { value: handlers });
  return C;
}

/** The peer of a socket, for handlers shared by every socket (they get the socket as `this`). */
export function peerOf(ws: WebSocket): Peer | undefined {
  return (ws as GatewaySocket).peer;
}

