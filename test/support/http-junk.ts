/**
 * Malformed HTTP requests for the fuzz tests: request lines, headers and
 * upgrade targets mutated from real ones, deterministic by index so a
 * failing case can be replayed.
 */
import { connect } from 'node:net';
import { mulberry32 } from '../../main/gateway/sessions/analysis/prng.js';

/** Sends raw bytes and resolves the status code of the answer (null: closed without one). */
export function rawHttp(port: number, bytes: Buffer | string, timeoutMs = 5000): Promise<{ status: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms for ${JSON.stringify(bytes.toString().slice(0, 120))}`));
    }, timeoutMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      // One answer is all we wait for: an upgrade that went through would keep the socket open.
      if (/\r\n\r\n/.test(text)) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, text });
    });
    s.write(bytes);
  });
}


const TOKEN = 'fuzz-operator-token-0123456789';

const TARGETS = ['/', '/ws/esp32/racket-1/', '/ws/miniprogram/p1/', `/ws/admin/?token=${TOKEN}`, '/api/health', `/api/rooms/%ZZ?token=${TOKEN}`, '/api/sessions', '/metrics', 'http://[', 'http://[::1', '//', '/%', '/%E0%A4%A', '*', ''];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'G\u0000T', 'GET GET', ''];
const JUNK = ['\u0000', '\r', '\n', '\u00ff', '\u007f', ' ', ':', '%', '[', '\\', '"', '\u0001'];

function junk(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.5 ? JUNK[Math.floor(r() * JUNK.length)]! : String.fromCharCode(32 + Math.floor(r() * 95));
  return s;
}

/** One malformed request: a mutated request line, headers, upgrade headers and body. */
export function malformedRequest(i: number): Buffer {
  const r = mulberry32(i + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  let target = pick(TARGETS);
  if (r() < 0.4) target += junk(r, 1 + Math.floor(r() * 12));
  if (r() < 0.05) target = '/' + 'a'.repeat(9000);
  const method = r() < 0.2 ? junk(r, 1 + Math.floor(r() * 6)) : pick(METHODS);
  const version = pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/', '']);
  const lines = [`${method} ${target} ${version}`];
  if (r() < 0.8) lines.push('Host: ' + (r() < 0.8 ? '127.0.0.1' : junk(r, 8)));
  if (r() < 0.6) lines.push('Connection: ' + pick(['Upgrade', 'upgrade, keep-alive', 'close', junk(r, 5)]));
  if (r() < 0.6) lines.push('Upgrade: ' + pick(['websocket', 'x', 'WebSocket', '', junk(r, 5)]));
  if (r() < 0.5) lines.push('Sec-WebSocket-Version: ' + pick(['13', '8', '99999999999', junk(r, 3)]));
  if (r() < 0.5) lines.push('Sec-WebSocket-Key: ' + pick(['dGhlIHNhbXBsZSBub25jZQ==', '', 'short', junk(r, 24)]));
  if (r() < 0.3) lines.push('Origin: ' + pick(['http://evil.example', 'null', junk(r, 10)]));
  if (r() < 0.3) lines.push('Authorization: ' + pick([`Bearer ${TOKEN}`, 'Bearer', 'Basic ' + junk(r, 6)]));
  if (r() < 0.3) lines.push(`Content-Length: ${pick(['5', '-1', '99999999999999999999', 'abc', '0'])}`);
  if (r() < 0.2) lines.push('Transfer-Encoding: ' + pick(['chunked', 'gzip, chunked', junk(r, 4)]));
  if (r() < 0.3) lines.push(junk(r, 1 + Math.floor(r() * 30)));
  if (r() < 0.05) lines.push('X-Big: ' + 'b'.repeat(20000));
  const eol = r() < 0.9 ? '\r\n' : pick(['\n', '\r', '\n\r']);
  const body = r() < 0.3 ? junk(r, Math.floor(r() * 40)) : '';
  return Buffer.from(lines.join(eol) + eol + eol + body, 'latin1');
}

