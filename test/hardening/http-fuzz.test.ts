/**
 * Hostile bytes at the HTTP layer, against `courtside serve` as shipped (a
 * real process, so a crash shows as an exit): the request line that used to
 * kill it, a bad %-escape with a token in the query, and thousands of
 * malformed request lines, headers and upgrade targets. Every one must end
 * in an HTTP answer (4xx for what is the client's fault) or a closed socket,
 * and the gateway must still answer /api/health.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../support/cli.js';

const TOKEN = 'fuzz-operator-token-0123456789';

/** Sends raw bytes and resolves the status code of the answer (null: closed without one). */
function raw(port: number, bytes: Buffer | string, timeoutMs = 5000): Promise<{ status: number | null; text: string }> {
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

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const r = prng(i + 1);
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

describe('hostile HTTP requests against courtside serve', { timeout: 180_000 }, () => {
  let dataDir: string;
  let gw: Awaited<ReturnType<typeof startCli>>;
  let port: number;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'courtside-fuzz-'));
    gw = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', ':memory:', '--operator-token', TOKEN, '--log-level', 'info'], /listening on 127\.0\.0\.1:(\d+)/);
    port = Number(gw.match[1]);
  });
  after(() => {
    gw?.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const health = async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).status;

  test('the upgrade whose target is no URL gets a 400, and the gateway lives', async () => {
    const r = await raw(port, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n');
    assert.equal(r.status, 400, r.text);
    const r2 = await raw(port, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(r2.status, 400, r2.text);
    assert.equal(gw.proc.exitCode, null);
    assert.equal(await health(), 200);
  });

  test('a bad %-escape is a 400 and the token in its query never reaches the log', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/rooms/%ZZ?token=${TOKEN}`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    const bearer = await fetch(`http://127.0.0.1:${port}/api/rooms/%ZZ`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.status, 400);
    const page = await fetch(`http://127.0.0.1:${port}/%E0%A4%A`);
    assert.equal(page.status, 400);
    // The startup lines print the operator URL once (to stdout, for the operator); the log is stderr.
    assert.doesNotMatch(gw.stderr(), new RegExp(TOKEN));
  });

  test('3000 malformed requests: each answered or closed, none a 5xx but 503, the gateway still healthy', async () => {
    const statuses = new Map<string, number>();
    const N = 3000;
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const r = await raw(port, malformedRequest(i));
        const key = r.status === null ? 'closed' : String(r.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (r.status !== null && r.status >= 500 && r.status !== 503) assert.fail(`request ${i} got ${r.status}: ${JSON.stringify(malformedRequest(i).toString('latin1').slice(0, 200))}`);
        if (i % 500 === 0) assert.equal(await health(), 200, `health after request ${i}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(gw.proc.exitCode, null, gw.stderr());
    assert.equal(await health(), 200);
    const answered = [...statuses].filter(([k]) => k !== 'closed').reduce((n, [, v]) => n + v, 0);
    // Most of them are parseable enough to be answered (400, 404, 401, 405...), not merely dropped.
    assert.ok(answered > N / 2, JSON.stringify(Object.fromEntries(statuses)));
    assert.doesNotMatch(gw.stderr(), /Uncaught|TypeError|URIError|RangeError/, gw.stderr().slice(-2000));
  });
});
