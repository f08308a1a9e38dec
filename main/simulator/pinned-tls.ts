/**
 * TLS to a gateway whose certificate is pinned by its SHA-256 fingerprint,
 * the way a board with the fingerprint in its NVS config connects: no CA, no
 * host name check, only "is this the certificate I was given". The check
 * runs when the handshake completes and before the socket is handed to the
 * HTTP or WebSocket client, so not one byte of the request (with its token)
 * goes to a server with another certificate.
 */
import { connect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeFingerprint } from '../../firmware-protocol/tls.js';

export class FingerprintMismatchError extends Error {
  readonly code = 'CERT_FINGERPRINT_MISMATCH';
  constructor(readonly expected: string, readonly got: string) {
    super(`the gateway's certificate has SHA-256 ${got}, not the pinned ${expected}`);
    this.name = 'FingerprintMismatchError';
  }
}

type Callback = (err: Error | null, socket?: Duplex) => void;

/**
 * A `createConnection` for `ws` and `http(s).request` (both accept the
 * callback form): it calls back with the socket only once the fingerprint
 * matched.
 */
export function pinnedConnection(fingerprint: string): (opts: { host?: string | null; hostname?: string | null; port?: number | string | null }, cb: Callback) => undefined {
  const want = normalizeFingerprint(fingerprint);
  if (!want) throw new RangeError(`not a SHA-256 fingerprint: '${fingerprint}'`);
  return (opts, cb) => {
    const host = (opts.hostname ?? opts.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    let done = false;
    const finish = (err: Error | null, s?: TLSSocket) => {
      if (done) return;
      done = true;
      socket.off('error', finish);
      cb(err, s);
    };
    // rejectUnauthorized off: the chain is not what is checked here, the fingerprint is (below).
    const socket = connect({ host, port: Number(opts.port ?? 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    socket.once('secureConnect', () => {
      const got = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '') ?? '(none)';
      if (got === want) return finish(null, socket);
      socket.destroy();
      finish(new FingerprintMismatchError(want, got));
    });
    socket.on('error', finish);
    return undefined;
  };
}
