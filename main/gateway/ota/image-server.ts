/**
 * The OTA download server: the gateway's firmware images over HTTP on a port
 * of their own, the way ESP-IDF's esp_https_ota fetches them: GET (and HEAD)
 * of `/ota/<firmware_id>.bin?token=...`, a Content-Length, byte ranges so a
 * board resumes a cut download (`Range: bytes=N-`), and the SHA-256 in a
 * response header. Each board gets its own token for one image; a token is
 * revoked when its board's update ends. HTTPS when a certificate is given.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import { FirmwareErrors } from '../firmware/errors.js';

export interface ImageSource {
  /** The bytes of an application image, or undefined. */
  read(firmwareId: string): Buffer | undefined;
}

interface Grant {
  deviceId: string;
  firmwareId: string;
  expiresAt: number;
  /** Bytes this token has been sent, ranges included. */
  served: number;
  requests: number;
}

export interface ImageServerOptions {
  host: string;
  port: number;
  /** Host name or address boards reach the server by (in the URLs of ota_update). */
  publicHost: () => string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** When `port` is taken, listen on a free one instead (the port was a default, not asked for). */
  fallback?: boolean;
  clock: Clock;
  log?: (msg: string) => void;
}

const PATH = /^\/ota\/([0-9a-f]{64})\.bin$/;

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; what esp_http_client sends). */
export function parseRange(header: string, size: number): { start: number; end: number } | null | 'bad' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'bad';
  return { start, end };
}

export class ImageServer {
  private server: Server | null = null;
  private readonly grants = new Map<string, Grant>();
  port = 0;

  constructor(private readonly source: ImageSource, private readonly o: ImageServerOptions) {}

  get scheme(): 'http' | 'https' {
    return this.o.tls ? 'https' : 'http';
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      try {
        this.handle(req, res);
      } catch (err) {
        this.o.log?.(`ota download: ${errorText(err)}`);
        if (!res.headersSent) this.fail(res, 500, 'INTERNAL', 'internal error');
      }
    };
    const server = this.o.tls ? createHttpsServer({ cert: this.o.tls.cert, key: this.o.tls.key }, handler) : createHttpServer(handler);
    this.server = server;
    const listen = (port: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.o.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    try {
      await listen(this.o.port);
    } catch (err) {
      // Two gateways on one machine must not fight over the default port.
      if (!this.o.fallback || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      await listen(0);
      this.o.log?.(`OTA port ${this.o.port} is in use: firmware downloads are on port ${(server.address() as AddressInfo).port}`);
    }
    this.port = (server.address() as AddressInfo).port;
  }

  /** A renewed certificate (the one boards now pin) for new downloads; only when serving https. */
  setCertificate(tls: { cert: string | Buffer; key: string | Buffer }): void {
    if (!this.o.tls) return;
    this.o.tls = tls;
    (this.server as (Server & { setSecureContext?(o: { cert: string | Buffer; key: string | Buffer }): void }) | null)?.setSecureContext?.(tls);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** A download link for one board and one image. */
  grant(deviceId: string, firmwareId: string, ttlMs: number): { url: string; token: string } {
    const token = randomBytes(16).toString('hex');
    this.grants.set(token, { deviceId, firmwareId, expiresAt: this.o.clock.now() + ttlMs, served: 0, requests: 0 });
    const host = this.o.publicHost();
    const h = host.includes(':') ? `[${host}]` : host;
    return { token, url: `${this.scheme}://${h}:${this.port}/ota/${firmwareId}.bin?token=${token}` };
  }

  revoke(token: string): void {
    this.grants.delete(token);
  }

  /** What a token has been sent (tests, status). */
  usage(token: string): { served: number; requests: number } | undefined {
    const g = this.grants.get(token);
    return g && { served: g.served, requests: g.requests };
  }

  private fail(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: { code, message } }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = PATH.exec(url.pathname);
    if (!m) return this.fail(res, 404, 'NOT_FOUND', 'no such image: the path is /ota/<firmware_id>.bin?token=...');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return this.fail(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
    }
    const token = url.searchParams.get('token') ?? '';
    const g = this.grants.get(token);
    if (!g || g.firmwareId !== m[1] || g.expiresAt < this.o.clock.now()) {
      return this.fail(res, 403, 'OTA_TOKEN', FirmwareErrors.OTA_TOKEN.message());
    }
    const data = this.source.read(g.firmwareId);
    if (!data) return this.fail(res, 404, 'FIRMWARE_NOT_FOUND', FirmwareErrors.FIRMWARE_NOT_FOUND.message(g.firmwareId));
    const sha = g.firmwareId;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'x-firmware-sha256': sha,
      etag: `"${sha}"`,
      'cache-control': 'no-store',
    };
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    const range = req.headers.range;
    // A range for another version of the file (If-Range with another ETag) gets the whole file.
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === `"${sha}"`)) {
      const r = parseRange(range, data.length);
      if (r === 'bad') {
        res.setHeader('content-range', `bytes */${data.length}`);
        return this.fail(res, 416, 'OTA_RANGE', FirmwareErrors.OTA_RANGE.message(range, data.length));
      }
      if (r) {
        ({ start, end } = r);
        status = 206;
        headers['content-range'] = `bytes ${start}-${end}/${data.length}`;
      }
    }
    headers['content-length'] = end - start + 1;
    res.writeHead(status, headers);
    g.requests++;
    if (req.method === 'HEAD') return void res.end();
    g.served += end - start + 1;
    res.end(data.subarray(start, end + 1));
  }
}
