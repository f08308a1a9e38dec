/**
 * Plain HTTP on a TLS gateway's port: `/api/health` (load balancers and
 * scripts probe it without certificates), a redirect to the same address
 * over https for everything else, and nothing at all for a request that
 * carries a token: it is refused without being answered in kind and without
 * the token being echoed in a Location header, so the only clear-text copy
 * is the one the client already sent. WebSocket upgrades are refused (426):
 * a board configured for ws:// must be given wss://.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendError } from '../dispatch.js';
import { gatewayError } from '../errors.js';
import { hostOf } from '../host-check.js';
import { requestUrl } from '../http-api.js';

function carriesToken(req: IncomingMessage, url: URL | null): boolean {
  return req.headers.authorization !== undefined || (url !== null && url.searchParams.has('token'));
}


export function plainRequest(health: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req);
    if (carriesToken(req, url)) {
      // The token has crossed the network in clear text once; say so rather than serve it.
      res.setHeader('connection', 'close');
      return sendError(res, gatewayError('TLS_REQUIRED', '. The token in this request was sent unencrypted: consider rotating it'));
    }
    if (url?.pathname === '/api/health') return health(req, res);
    const host = req.headers.host;
    if (!url || host === undefined || hostOf(host) === null) return sendError(res, gatewayError('BAD_REQUEST', 'no usable Host header to redirect to https://'));
    res.statusCode = 308;
    res.setHeader('location', `https://${host}${url.pathname}${url.search}`);
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`moved to https://${host}${url.pathname}\n`);
  };
}

/** An upgrade on plain HTTP: refused before any WebSocket exists. */
export function refusePlainUpgrade(socket: Duplex): void {
  const err = gatewayError('TLS_REQUIRED', '');
  const body = JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n';
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 426 Upgrade Required\r\nUpgrade: TLS/1.2, HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
