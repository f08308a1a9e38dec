/**
 * One port for HTTPS/WSS and plain HTTP: the first byte a client sends says
 * which it speaks (a TLS ClientHello begins with record type 0x16, no HTTP
 * method does), and the socket goes to the TLS server or to the plain one.
 * The byte is put back, so each server reads the connection from its start.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** TLS record type of a handshake message (the ClientHello is the first). */
const TLS_HANDSHAKE = 0x16;

export interface FrontDoorServers {
  /** Gets TLS connections (an https.Server). */
  secure: Server;
  /** Gets everything else (an http.Server that only redirects). */
  plain: Server;
  /** A client that connects and says nothing is dropped after this long. */
  firstByteTimeoutMs: number;
}

export function frontDoor({ secure, plain, firstByteTimeoutMs }: FrontDoorServers): Server {
  return createServer((socket: Socket) => {
    const drop = () => socket.destroy();
    socket.on('error', drop);
    socket.setTimeout(firstByteTimeoutMs, drop);
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', drop);
      socket.off('error', drop);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) secure.emit('connection', socket);
      else {
        plain.emit('connection', socket);
        // The HTTP server reads from the socket's handle and leaves the stream paused; the byte
        // put back is in the stream and comes out once it flows. (TLS reads it out itself.)
        socket.resume();
      }
    });
  });
}
